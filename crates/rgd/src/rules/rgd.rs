//! Re-weighted Gradient Descent (Kumar et al., TMLR 2024).

use crate::error::invalid;
use crate::{RgdError, Rule, RuleState};

/// Configuration of [`Rgd`]: `w_i = exp(clamp(l_i, 0, tau) / (tau + 1))`.
///
/// `tau > 0` is both the clip threshold and (`tau + 1`) the temperature; weights lie in
/// `[1, e^(tau/(tau+1))]`, always below `e`. Both `tau -> 0` and `tau -> inf` give ERM.
/// Reference: R. Kumar, K. Majmundar, D. Nagaraj, A. S. Suggala, "Stochastic Re-weighted
/// Gradient Descent via Distributionally Robust Optimization", TMLR 2024 (arXiv 2306.09222).
///
/// Two ablations: `normalize` divides by the batch mean weight (separating the reweighting from
/// the learning-rate increase it implies under SGD); `warmup_steps` runs that many batches of
/// plain ERM before reweighting starts.
///
/// ```
/// use rgd::{RgdConfig, Rule};
/// let mut rgd = RgdConfig::new().with_tau(1.0).init().unwrap();
/// let w = rgd.reweight(&[0.0_f64, 1.0, 5.0]).unwrap().weights;
/// assert_eq!(w[0], 1.0);
/// assert!((w[1] - 0.5_f64.exp()).abs() < 1e-15);
/// assert_eq!(w[1], w[2]); // clipped at tau
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields, default))]
pub struct RgdConfig {
    /// Clip threshold; temperature is `tau + 1`. Finite, `> 0`. Default 1.0.
    pub tau: f64,
    /// Divide the weights by their batch mean (ablation). Default false.
    pub normalize: bool,
    /// Batches of plain ERM before reweighting starts (ablation). Default 0.
    pub warmup_steps: u64,
}

impl Default for RgdConfig {
    fn default() -> Self {
        RgdConfig {
            tau: 1.0,
            normalize: false,
            warmup_steps: 0,
        }
    }
}

impl RgdConfig {
    /// The paper's rule with `tau = 1`, no normalisation, no warm-up.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `tau`.
    pub fn with_tau(mut self, tau: f64) -> Self {
        self.tau = tau;
        self
    }

    /// Sets the normalisation ablation.
    pub fn with_normalize(mut self, normalize: bool) -> Self {
        self.normalize = normalize;
        self
    }

    /// Sets the number of ERM warm-up batches.
    pub fn with_warmup_steps(mut self, steps: u64) -> Self {
        self.warmup_steps = steps;
        self
    }

    /// Validates the configuration and builds the rule.
    pub fn init(self) -> Result<Rgd, RgdError> {
        if !(self.tau.is_finite() && self.tau > 0.0) {
            return Err(invalid(
                "RGD",
                "tau",
                self.tau,
                "tau must be a finite number > 0 (try 1.0)",
            ));
        }
        Ok(Rgd {
            config: self,
            steps: 0,
        })
    }
}

/// The RGD rule built by [`RgdConfig::init`].
#[derive(Debug, Clone, PartialEq)]
pub struct Rgd {
    config: RgdConfig,
    steps: u64,
}

impl Rgd {
    /// The validated configuration.
    pub fn config(&self) -> &RgdConfig {
        &self.config
    }

    /// The weight of one loss: `exp(clamp(l, 0, tau) / (tau + 1))` (no warm-up, no
    /// normalisation).
    ///
    /// ```
    /// let rgd = rgd::RgdConfig::new().with_tau(3.0).init().unwrap();
    /// assert!((rgd.weight(100.0) - 2.117).abs() < 1e-3);
    /// assert_eq!(rgd.weight(-4.0), 1.0);
    /// ```
    pub fn weight(&self, loss: f64) -> f64 {
        let tau = self.config.tau;
        (loss.clamp(0.0, tau) / (tau + 1.0)).exp()
    }

    /// The largest weight, `e^(tau/(tau+1))`, reached by every loss `>= tau`.
    pub fn max_weight(&self) -> f64 {
        let tau = self.config.tau;
        (tau / (tau + 1.0)).exp()
    }

    /// The surrogate loss `Phi` whose plain gradient step equals one RGD step (`Phi' = w`):
    ///
    /// ```text
    /// Phi(l) = l                                      l < 0
    /// Phi(l) = (tau+1) (e^{l/(tau+1)} - 1)            0 <= l <= tau
    /// Phi(l) = Phi(tau) + e^{tau/(tau+1)} (l - tau)   l > tau
    /// ```
    ///
    /// ```
    /// let rgd = rgd::RgdConfig::new().init().unwrap();
    /// let h = 1e-6;
    /// let slope = (rgd.surrogate(0.3 + h) - rgd.surrogate(0.3 - h)) / (2.0 * h);
    /// assert!((slope - rgd.weight(0.3)).abs() < 1e-8);
    /// ```
    pub fn surrogate(&self, loss: f64) -> f64 {
        let tau = self.config.tau;
        let temp = tau + 1.0;
        if loss < 0.0 {
            loss
        } else if loss <= tau {
            temp * ((loss / temp).exp() - 1.0)
        } else {
            temp * ((tau / temp).exp() - 1.0) + self.max_weight() * (loss - tau)
        }
    }
}

impl Rule for Rgd {
    fn name(&self) -> &'static str {
        "rgd"
    }

    fn compute(
        &mut self,
        losses: &[f64],
        _groups: Option<&[usize]>,
        weights: &mut [f64],
    ) -> Result<usize, RgdError> {
        self.steps += 1;
        if self.steps <= self.config.warmup_steps {
            weights.fill(1.0);
            return Ok(0);
        }
        let tau = self.config.tau;
        let mut clipped = 0;
        for (w, &l) in weights.iter_mut().zip(losses) {
            clipped += usize::from(l > tau);
            *w = self.weight(l);
        }
        if self.config.normalize {
            let mean = weights.iter().sum::<f64>() / weights.len() as f64;
            weights.iter_mut().for_each(|w| *w /= mean);
        }
        Ok(clipped)
    }

    fn state(&self) -> RuleState {
        RuleState::steps_only(self.steps)
    }

    fn load_state(&mut self, state: &RuleState) -> Result<(), RgdError> {
        self.steps = state.expect_steps_only("RGD")?;
        Ok(())
    }
}
