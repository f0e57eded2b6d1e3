//! CVaR / top-k: train on the hardest fraction of each batch.

use crate::error::invalid;
use crate::{RgdError, Rule, RuleState};

/// Configuration of [`Cvar`]: weight `B / k` on the `k = ceil(alpha * B)` largest losses, 0
/// elsewhere (batch mean 1).
///
/// `alpha = 1` is ERM. Ties at the cut are broken by batch position (earlier first), so the
/// rule always keeps exactly `k` examples. `alpha * B` is rounded up after removing a relative
/// `1e-9` of float noise, so `alpha = 0.3, B = 10` keeps 3, not 4. This is the biased minibatch
/// estimator of CVaR (Levy, Carmon, Duchi, Sidford, "Large-Scale Methods for Distributionally
/// Robust Optimization", NeurIPS 2020); it is also online hard example mining (OHEM).
///
/// ```
/// use rgd::{CvarConfig, Rule};
/// let mut cvar = CvarConfig::new(0.5).init().unwrap();
/// let w = cvar.reweight(&[0.1_f64, 3.0, 0.2, 2.0]).unwrap().weights;
/// assert_eq!(w, vec![0.0, 2.0, 0.0, 2.0]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields, default))]
pub struct CvarConfig {
    /// Fraction of the batch kept, in `(0, 1]`.
    pub alpha: f64,
}

/// CVaR at alpha 0.5. Also what a config naming the rule alone gets.
impl Default for CvarConfig {
    fn default() -> Self {
        CvarConfig { alpha: 0.5 }
    }
}

impl CvarConfig {
    /// CVaR at level `alpha`.
    pub fn new(alpha: f64) -> Self {
        CvarConfig { alpha }
    }

    /// Validates the configuration and builds the rule.
    pub fn init(self) -> Result<Cvar, RgdError> {
        if !(self.alpha > 0.0 && self.alpha <= 1.0) {
            return Err(invalid(
                "CVaR",
                "alpha",
                self.alpha,
                "alpha must lie in (0, 1] (the fraction of each batch kept; try 0.5)",
            ));
        }
        Ok(Cvar {
            config: self,
            steps: 0,
        })
    }
}

/// The CVaR rule built by [`CvarConfig::init`].
#[derive(Debug, Clone, PartialEq)]
pub struct Cvar {
    config: CvarConfig,
    steps: u64,
}

impl Cvar {
    /// How many examples of a batch of `batch` are kept: `ceil(alpha * batch)`, at least 1.
    ///
    /// ```
    /// let cvar = rgd::CvarConfig::new(0.3).init().unwrap();
    /// assert_eq!(cvar.kept(10), 3);
    /// assert_eq!(cvar.kept(11), 4);
    /// assert_eq!(cvar.kept(1), 1);
    /// ```
    pub fn kept(&self, batch: usize) -> usize {
        let exact = self.config.alpha * batch as f64;
        ((exact * (1.0 - 1e-9)).ceil() as usize).clamp(1, batch)
    }
}

impl Rule for Cvar {
    fn name(&self) -> &'static str {
        "cvar"
    }

    fn compute(
        &mut self,
        losses: &[f64],
        _groups: Option<&[usize]>,
        weights: &mut [f64],
    ) -> Result<usize, RgdError> {
        self.steps += 1;
        let k = self.kept(losses.len());
        let mut order: Vec<usize> = (0..losses.len()).collect();
        // Stable sort: equal losses keep batch order, so earlier examples win ties.
        order.sort_by(|&a, &b| losses[b].total_cmp(&losses[a]));
        weights.fill(0.0);
        let weight = losses.len() as f64 / k as f64;
        for &i in &order[..k] {
            weights[i] = weight;
        }
        Ok(0)
    }

    fn state(&self) -> RuleState {
        RuleState::steps_only(self.steps)
    }

    fn load_state(&mut self, state: &RuleState) -> Result<(), RgdError> {
        self.steps = state.expect_steps_only("CVaR")?;
        Ok(())
    }
}
