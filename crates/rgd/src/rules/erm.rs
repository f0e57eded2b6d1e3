//! Empirical risk minimisation: every weight is 1.

use crate::{RgdError, Rule, RuleState};

/// Plain training: `w_i = 1`, so the loss is the batch mean. The baseline of every comparison.
///
/// ```
/// use rgd::{Erm, Rule};
/// assert_eq!(Erm::default().reweight(&[0.3_f32, 7.0]).unwrap().weights, vec![1.0, 1.0]);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Erm {
    steps: u64,
}

impl Rule for Erm {
    fn name(&self) -> &'static str {
        "erm"
    }

    fn compute(
        &mut self,
        _losses: &[f64],
        _groups: Option<&[usize]>,
        weights: &mut [f64],
    ) -> Result<usize, RgdError> {
        self.steps += 1;
        weights.fill(1.0);
        Ok(0)
    }

    fn state(&self) -> RuleState {
        RuleState::steps_only(self.steps)
    }

    fn load_state(&mut self, state: &RuleState) -> Result<(), RgdError> {
        self.steps = state.expect_steps_only("ERM")?;
        Ok(())
    }
}
