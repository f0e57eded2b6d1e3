//! Summary statistics of one batch's weights, for monitoring.

/// Statistics of one batch of weights.
///
/// The effective sample size `ESS = (Σ w)^2 / Σ w^2` is `B` for uniform weights and `1` when one
/// example carries all the weight; `ess_fraction = ESS / B`.
///
/// ```
/// use rgd::WeightStats;
/// let s = WeightStats::from_weights(&[1.0, 1.0, 2.0, 0.0], 1);
/// assert_eq!((s.min, s.max, s.mean), (0.0, 2.0, 1.0));
/// assert!((s.ess - 16.0 / 6.0).abs() < 1e-12);
/// assert_eq!(s.clipped_fraction, 0.25);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct WeightStats {
    /// Smallest weight.
    pub min: f64,
    /// Largest weight.
    pub max: f64,
    /// Mean weight.
    pub mean: f64,
    /// Effective sample size `(Σ w)^2 / Σ w^2` (0 if every weight is 0).
    pub ess: f64,
    /// `ess / B`, in `(0, 1]`.
    pub ess_fraction: f64,
    /// Fraction of the batch whose loss the rule clipped (RGD: `l > tau`; 0 for rules that do
    /// not clip).
    pub clipped_fraction: f64,
}

impl WeightStats {
    /// Computes the statistics of `weights`, `clipped` of which came from clipped losses.
    ///
    /// # Panics
    /// If `weights` is empty.
    pub fn from_weights(weights: &[f64], clipped: usize) -> Self {
        assert!(!weights.is_empty(), "statistics of an empty batch");
        let n = weights.len() as f64;
        let (mut min, mut max, mut sum, mut sum_sq) = (f64::INFINITY, f64::NEG_INFINITY, 0.0, 0.0);
        for &w in weights {
            min = min.min(w);
            max = max.max(w);
            sum += w;
            sum_sq += w * w;
        }
        let ess = if sum_sq > 0.0 {
            sum * sum / sum_sq
        } else {
            0.0
        };
        WeightStats {
            min,
            max,
            mean: sum / n,
            ess,
            ess_fraction: ess / n,
            clipped_fraction: clipped as f64 / n,
        }
    }
}
