//! Attentional-biased SGD (Qi, Xu, Jin, Yin, Yang, 2020).

use crate::error::invalid;
use crate::{RgdError, Rule, RuleState};

/// Configuration of [`Absgd`]: `w_i = exp(l_i / lambda) / u`, where `u` is a moving average of
/// the batch mean of `exp(l / lambda)`:
///
/// ```text
/// u <- (1 - gamma) u + gamma * mean_batch exp(l / lambda)     (u starts at the first batch's mean)
/// ```
///
/// `u` is updated before the weights are taken. It is kept as `log u`, so nothing overflows even
/// when `l / lambda` exceeds `f32`'s range (weights stay below `B / gamma`). Negative `lambda`
/// down-weights hard examples (label noise). Reference: Q. Qi, Y. Xu, R. Jin, W. Yin, T. Yang,
/// "Attentional-Biased Stochastic Gradient Descent", TMLR 2023 (arXiv 2012.06951).
///
/// The state is `[log u]` once the first batch was seen.
///
/// ```
/// use rgd::{AbsgdConfig, Rule};
/// let mut absgd = AbsgdConfig::new(0.5).init().unwrap();
/// let w = absgd.reweight(&[0.0_f64, 500.0]).unwrap().weights; // exp(1000) would overflow
/// assert!(w.iter().all(|w| w.is_finite()));
/// assert!(w[1] > w[0]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields, default))]
pub struct AbsgdConfig {
    /// Temperature `lambda`: finite and non-zero, either sign.
    pub lambda: f64,
    /// Moving-average rate `gamma` in `(0, 1]` (1: the current batch only). Default 0.9.
    pub gamma: f64,
}

/// ABSGD with lambda 1 and gamma 0.9. Also what a config naming the rule alone gets.
impl Default for AbsgdConfig {
    fn default() -> Self {
        AbsgdConfig::new(1.0)
    }
}

impl AbsgdConfig {
    /// ABSGD with temperature `lambda` and `gamma = 0.9`.
    pub fn new(lambda: f64) -> Self {
        AbsgdConfig { lambda, gamma: 0.9 }
    }

    /// Sets the moving-average rate.
    pub fn with_gamma(mut self, gamma: f64) -> Self {
        self.gamma = gamma;
        self
    }

    /// Validates the configuration and builds the rule.
    pub fn init(self) -> Result<Absgd, RgdError> {
        if !(self.lambda.is_finite() && self.lambda != 0.0) {
            return Err(invalid(
                "ABSGD",
                "lambda",
                self.lambda,
                "lambda must be a finite, non-zero number (positive: focus on hard examples, \
                 negative: suppress outliers)",
            ));
        }
        if !(self.gamma > 0.0 && self.gamma <= 1.0) {
            return Err(invalid(
                "ABSGD",
                "gamma",
                self.gamma,
                "gamma must lie in (0, 1] (try 0.9)",
            ));
        }
        Ok(Absgd {
            config: self,
            steps: 0,
            log_u: None,
        })
    }
}

/// The ABSGD rule built by [`AbsgdConfig::init`].
#[derive(Debug, Clone, PartialEq)]
pub struct Absgd {
    config: AbsgdConfig,
    steps: u64,
    log_u: Option<f64>,
}

impl Absgd {
    /// The current `log u` (None before the first batch).
    pub fn log_u(&self) -> Option<f64> {
        self.log_u
    }
}

impl Rule for Absgd {
    fn name(&self) -> &'static str {
        "absgd"
    }

    fn compute(
        &mut self,
        losses: &[f64],
        _groups: Option<&[usize]>,
        weights: &mut [f64],
    ) -> Result<usize, RgdError> {
        self.steps += 1;
        let lambda = self.config.lambda;
        let batch_log_mean = crate::math::log_mean_exp(losses.iter().map(|&l| l / lambda));
        let gamma = self.config.gamma;
        let log_u = match self.log_u {
            None => batch_log_mean,
            Some(_) if gamma == 1.0 => batch_log_mean,
            Some(old) => {
                crate::math::log_add_exp((1.0 - gamma).ln() + old, gamma.ln() + batch_log_mean)
            }
        };
        self.log_u = Some(log_u);
        for (w, &l) in weights.iter_mut().zip(losses) {
            *w = (l / lambda - log_u).exp();
        }
        Ok(0)
    }

    fn state(&self) -> RuleState {
        RuleState {
            steps: self.steps,
            values: self.log_u.into_iter().collect(),
        }
    }

    fn load_state(&mut self, state: &RuleState) -> Result<(), RgdError> {
        self.log_u = match state.values.as_slice() {
            [] => None,
            [v] if v.is_finite() => Some(*v),
            other => {
                return Err(RgdError::StateMismatch {
                    rule: "ABSGD",
                    reason: format!("expected [log u] (one finite value), got {other:?}"),
                });
            }
        };
        self.steps = state.steps;
        Ok(())
    }
}
