//! Chi-square distributionally robust optimisation, constrained form.

use crate::error::invalid;
use crate::{RgdError, Rule, RuleState};

/// Configuration of [`ChiSquare`]: `w_i = B q_i` where `q` maximises `Σ q_i l_i` over the
/// simplex subject to `(1/2B) Σ (B q_i - 1)^2 <= rho` (batch mean 1).
///
/// The solution is `q_i ∝ (l_i - eta)_+`. When `eta` lies below every loss, every example keeps
/// weight and `w_i = 1 + (l_i - mean l) / (mean l - eta)` with
/// `mean l - eta = sqrt(var(l) / (2 rho))` in closed form; otherwise `eta` is found by bisection
/// so the constraint holds with equality. When `rho` is so large that all mass on the largest
/// losses is feasible, those examples share the whole weight. Equal losses give weights 1.
/// Reference: Levy, Carmon, Duchi, Sidford, NeurIPS 2020 (the constrained form of their code).
///
/// ```
/// use rgd::{ChiSquareConfig, Rule};
/// let losses = [0.0_f64, 1.0, 2.0, 3.0];
/// let mut chi = ChiSquareConfig::new(0.1).init().unwrap();
/// let w = chi.reweight(&losses).unwrap().weights;
/// let divergence: f64 = w.iter().map(|w| (w - 1.0).powi(2)).sum::<f64>() / (2.0 * 4.0);
/// assert!((divergence - 0.1).abs() < 1e-9);
/// assert!((w.iter().sum::<f64>() - 4.0).abs() < 1e-9);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields, default))]
pub struct ChiSquareConfig {
    /// Radius `rho` of the chi-square ball: finite, `> 0`.
    pub rho: f64,
}

/// Chi-square DRO with radius 1. Also what a config naming the rule alone gets.
impl Default for ChiSquareConfig {
    fn default() -> Self {
        ChiSquareConfig { rho: 1.0 }
    }
}

impl ChiSquareConfig {
    /// Chi-square DRO with radius `rho`.
    pub fn new(rho: f64) -> Self {
        ChiSquareConfig { rho }
    }

    /// Validates the configuration and builds the rule.
    pub fn init(self) -> Result<ChiSquare, RgdError> {
        if !(self.rho.is_finite() && self.rho > 0.0) {
            return Err(invalid(
                "chi-square",
                "rho",
                self.rho,
                "rho must be a finite number > 0 (the radius of the chi-square ball; try 1.0)",
            ));
        }
        Ok(ChiSquare {
            config: self,
            steps: 0,
        })
    }
}

/// The chi-square DRO rule built by [`ChiSquareConfig::init`].
#[derive(Debug, Clone, PartialEq)]
pub struct ChiSquare {
    config: ChiSquareConfig,
    steps: u64,
}

/// Writes `w_i = B (l_i - eta)_+ / Σ_j (l_j - eta)_+` and returns the divergence
/// `(1/2B) Σ (w_i - 1)^2`.
fn tilt(losses: &[f64], eta: f64, weights: &mut [f64]) -> f64 {
    let n = losses.len() as f64;
    let total: f64 = losses.iter().map(|&l| (l - eta).max(0.0)).sum();
    for (w, &l) in weights.iter_mut().zip(losses) {
        *w = n * (l - eta).max(0.0) / total;
    }
    weights.iter().map(|w| (w - 1.0).powi(2)).sum::<f64>() / (2.0 * n)
}

impl Rule for ChiSquare {
    fn name(&self) -> &'static str {
        "chi2"
    }

    fn compute(
        &mut self,
        losses: &[f64],
        _groups: Option<&[usize]>,
        weights: &mut [f64],
    ) -> Result<usize, RgdError> {
        self.steps += 1;
        let rho = self.config.rho;
        let n = losses.len() as f64;
        let mean = losses.iter().sum::<f64>() / n;
        let var = losses.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / n;
        let (min, max) = losses
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &l| {
                (lo.min(l), hi.max(l))
            });
        if var <= 0.0 || max - min <= f64::EPSILON * max.abs().max(1.0) {
            weights.fill(1.0);
            return Ok(0);
        }
        // Every example keeps weight: closed form.
        let eta = mean - (var / (2.0 * rho)).sqrt();
        if eta <= min {
            tilt(losses, eta, weights);
            return Ok(0);
        }
        // All mass on the largest losses: feasible when its divergence is within rho.
        let top = losses.iter().filter(|&&l| l == max).count() as f64;
        let concentrated = (top * (n / top - 1.0).powi(2) + (n - top)) / (2.0 * n);
        if concentrated <= rho {
            for (w, &l) in weights.iter_mut().zip(losses) {
                *w = if l == max { n / top } else { 0.0 };
            }
            return Ok(0);
        }
        // Divergence increases with eta on [min, max): bisect for equality.
        let (mut lo, mut hi) = (min, max);
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if mid <= lo || mid >= hi {
                break;
            }
            if tilt(losses, mid, weights) > rho {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        tilt(losses, lo, weights);
        Ok(0)
    }

    fn state(&self) -> RuleState {
        RuleState::steps_only(self.steps)
    }

    fn load_state(&mut self, state: &RuleState) -> Result<(), RgdError> {
        self.steps = state.expect_steps_only("chi-square")?;
        Ok(())
    }
}
