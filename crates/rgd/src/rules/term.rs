//! Tilted empirical risk minimisation (Li, Beirami, Sanjabi, Smith, ICLR 2021).

use crate::error::invalid;
use crate::{RgdError, Rule, RuleState};

/// Configuration of [`Term`]: `w_i = exp(t l_i) / mean_batch exp(t l)` (batch mean 1).
///
/// Positive tilt `t` up-weights hard examples; negative `t` suppresses outliers (label noise);
/// `t = 0` is ERM. Computed with max-subtraction, so no `exp` overflows whatever `t` and the
/// losses. Reference: T. Li, A. Beirami, M. Sanjabi, V. Smith, "Tilted Empirical Risk
/// Minimization", ICLR 2021.
///
/// ```
/// use rgd::{Rule, TermConfig};
/// let mut term = TermConfig::new(1.0).init().unwrap();
/// let w = term.reweight(&[0.0_f64, 1000.0]).unwrap().weights; // no overflow
/// assert!((w[0] + w[1] - 2.0).abs() < 1e-12);
/// assert!(w[1] > 1.999);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields, default))]
pub struct TermConfig {
    /// The tilt `t`: any finite number.
    pub tilt: f64,
}

/// TERM with tilt 1 (focus on hard examples). Also what a config naming the rule alone gets.
impl Default for TermConfig {
    fn default() -> Self {
        TermConfig { tilt: 1.0 }
    }
}

impl TermConfig {
    /// TERM with tilt `t`.
    pub fn new(tilt: f64) -> Self {
        TermConfig { tilt }
    }

    /// Validates the configuration and builds the rule.
    pub fn init(self) -> Result<Term, RgdError> {
        if !self.tilt.is_finite() {
            return Err(invalid(
                "TERM",
                "tilt",
                self.tilt,
                "tilt must be a finite number (positive: focus on hard examples, negative: \
                 suppress outliers)",
            ));
        }
        Ok(Term {
            config: self,
            steps: 0,
        })
    }
}

/// The TERM rule built by [`TermConfig::init`].
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    config: TermConfig,
    steps: u64,
}

impl Rule for Term {
    fn name(&self) -> &'static str {
        "term"
    }

    fn compute(
        &mut self,
        losses: &[f64],
        _groups: Option<&[usize]>,
        weights: &mut [f64],
    ) -> Result<usize, RgdError> {
        self.steps += 1;
        let t = self.config.tilt;
        let max = losses
            .iter()
            .map(|&l| t * l)
            .fold(f64::NEG_INFINITY, f64::max);
        for (w, &l) in weights.iter_mut().zip(losses) {
            *w = (t * l - max).exp();
        }
        let mean = weights.iter().sum::<f64>() / weights.len() as f64;
        weights.iter_mut().for_each(|w| *w /= mean);
        Ok(0)
    }

    fn state(&self) -> RuleState {
        RuleState::steps_only(self.steps)
    }

    fn load_state(&mut self, state: &RuleState) -> Result<(), RgdError> {
        self.steps = state.expect_steps_only("TERM")?;
        Ok(())
    }
}
