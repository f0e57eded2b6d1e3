//! Feature standardisation fitted on the training split only.

use serde::{Deserialize, Serialize};

use crate::{DataError, Dataset};

/// Per-feature standardisation `x' = (x - mean) / std`, fitted on training rows only.
///
/// `std` is the population standard deviation (divisor `n`), accumulated in
/// `f64`; a constant column (std below `1e-12`) gets std 1 so it maps to 0.
/// Serialisable with serde so a run can save and restore it. Fit it on
/// `split.train` and apply the same object to `valid` and `test`: statistics of
/// held-out rows never leak into training.
///
/// ```
/// use rgd_data::{Dataset, Standardizer};
/// let mut ds = Dataset::from_features("t", vec![1.0, 5.0, 3.0, 5.0], 2, vec![0, 1], vec!["a".into(), "b".into()]);
/// let s = Standardizer::fit(&ds);
/// assert_eq!(s.mean, vec![2.0, 5.0]);
/// assert_eq!(s.std, vec![1.0, 1.0]); // second column constant
/// s.apply(&mut ds).unwrap();
/// assert_eq!(ds.features, vec![-1.0, 0.0, 1.0, 0.0]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standardizer {
    /// Column means.
    pub mean: Vec<f32>,
    /// Column standard deviations (1 for constant columns).
    pub std: Vec<f32>,
}

impl Standardizer {
    /// Compute column means and standard deviations of `ds` (an empty set gives mean 0, std 1).
    pub fn fit(ds: &Dataset) -> Standardizer {
        let d = ds.n_features;
        let n = ds.len().max(1) as f64;
        let mut sum = vec![0f64; d];
        for i in 0..ds.len() {
            for (s, &x) in sum.iter_mut().zip(ds.row(i)) {
                *s += x as f64;
            }
        }
        let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
        let mut ss = vec![0f64; d];
        for i in 0..ds.len() {
            for ((s, &x), m) in ss.iter_mut().zip(ds.row(i)).zip(&mean) {
                *s += (x as f64 - m).powi(2);
            }
        }
        Standardizer {
            mean: mean.iter().map(|&m| m as f32).collect(),
            std: ss
                .iter()
                .map(|s| {
                    let sd = (s / n).sqrt();
                    if sd < 1e-12 { 1.0 } else { sd as f32 }
                })
                .collect(),
        }
    }

    /// Standardise `ds` in place; fails if its feature count differs from the fitted one.
    pub fn apply(&self, ds: &mut Dataset) -> Result<(), DataError> {
        if ds.n_features != self.mean.len() {
            return Err(DataError::InvalidDataset {
                name: ds.name.clone(),
                reason: format!(
                    "it has {} features but the standardizer was fitted on {}; fit and apply on the same columns",
                    ds.n_features,
                    self.mean.len()
                ),
            });
        }
        if ds.n_features == 0 {
            return Ok(());
        }
        for row in ds.features.chunks_exact_mut(ds.n_features) {
            for ((x, m), s) in row.iter_mut().zip(&self.mean).zip(&self.std) {
                *x = (*x - m) / s;
            }
        }
        Ok(())
    }
}
