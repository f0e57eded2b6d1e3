//! Long-tailed (exponentially imbalanced) subsampling of a training split.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::{DataError, Dataset};

/// Per-class target counts of the exponential long-tail profile.
///
/// `n_c = floor(n_max * (1 / ratio)^(c / (C - 1)))`, at least 1, for classes
/// `c = 0..C` in their given order (class 0 keeps `n_max`, class `C - 1` gets
/// `n_max / ratio`); the formula of Cao et al. (LDAM, 2019).
///
/// ```
/// assert_eq!(rgd_data::long_tail_counts(6000, 10, 100.0)[9], 60);
/// assert_eq!(rgd_data::long_tail_counts(1000, 3, 10.0), vec![1000, 316, 100]);
/// ```
pub fn long_tail_counts(n_max: usize, n_classes: usize, ratio: f64) -> Vec<usize> {
    (0..n_classes)
        .map(|c| {
            let e = if n_classes > 1 {
                c as f64 / (n_classes as f64 - 1.0)
            } else {
                0.0
            };
            ((n_max as f64 * (1.0 / ratio).powf(e)).floor() as usize).max(1)
        })
        .collect()
}

/// Subsample a (training) data set to an exponential long-tail class profile.
///
/// `n_max` is the largest class count of `ds`; class `c` keeps
/// `min(count_c, long_tail_counts(n_max, C, ratio)[c])` rows chosen without
/// replacement by a `ChaCha8Rng` seeded with `seed`; kept rows stay in their
/// original order. `imbalance_ratio >= 1` (1 keeps everything). Apply it to
/// the training split only: validation and test stay balanced so accuracy is
/// measured on every class alike.
///
/// ```
/// use rgd_data::{Dataset, long_tail};
/// let ds = Dataset::from_features("t", vec![0.0; 300], 1, (0..300).map(|i| (i % 3) as u32).collect(),
///     vec!["a".into(), "b".into(), "c".into()]);
/// let lt = long_tail(&ds, 10.0, 0).unwrap();
/// assert_eq!(lt.class_counts(), vec![100, 31, 10]);
/// ```
pub fn long_tail(ds: &Dataset, imbalance_ratio: f64, seed: u64) -> Result<Dataset, DataError> {
    if !(imbalance_ratio.is_finite() && imbalance_ratio >= 1.0) {
        return Err(DataError::arg(
            "imbalance_ratio",
            imbalance_ratio,
            "a finite number >= 1 (largest / smallest class)",
        ));
    }
    let counts = ds.class_counts();
    let n_max = counts.iter().copied().max().unwrap_or(0);
    let targets = long_tail_counts(n_max, ds.n_classes(), imbalance_ratio);
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); ds.n_classes()];
    for (i, &l) in ds.labels.iter().enumerate() {
        if let Some(v) = by_class.get_mut(l as usize) {
            v.push(i);
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut keep = Vec::new();
    for (c, mut idx) in by_class.into_iter().enumerate() {
        idx.shuffle(&mut rng);
        idx.truncate(targets[c]);
        keep.extend(idx);
    }
    keep.sort_unstable();
    Ok(ds.subset(&keep))
}
