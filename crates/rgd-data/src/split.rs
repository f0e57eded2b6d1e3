//! Stratified train/validation/test splits.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::{DataError, Dataset};

/// A train / validation / test partition of one data set.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// Training rows.
    pub train: Dataset,
    /// Validation rows (model and hyper-parameter selection).
    pub valid: Dataset,
    /// Test rows (reported once, never used for selection).
    pub test: Dataset,
}

/// Row indices of a train / validation / test partition, each sorted ascending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitIndices {
    /// Training rows.
    pub train: Vec<usize>,
    /// Validation rows.
    pub valid: Vec<usize>,
    /// Test rows.
    pub test: Vec<usize>,
}

/// Stratified row indices of a train / validation / test partition.
///
/// Rows are grouped by `(group, label)` (group = domain id, or 0 when
/// `groups` is `None`). Within each stratum of `n` rows, shuffled with a
/// `ChaCha8Rng` seeded by `seed`, `round(n * test_frac)` go to test,
/// `round(n * valid_frac)` to validation and the rest to training. The same
/// seed always gives the same split on every platform.
///
/// ```
/// let labels = vec![0, 0, 0, 0, 1, 1, 1, 1, 1, 1];
/// let s = rgd_data::stratified_indices(&labels, None, 0.25, 0.25, 7).unwrap();
/// assert_eq!((s.train.len(), s.valid.len(), s.test.len()), (4, 3, 3));
/// ```
pub fn stratified_indices(
    labels: &[u32],
    groups: Option<&[u32]>,
    valid_frac: f64,
    test_frac: f64,
    seed: u64,
) -> Result<SplitIndices, DataError> {
    for (arg, v) in [("valid_frac", valid_frac), ("test_frac", test_frac)] {
        if !(0.0..1.0).contains(&v) {
            return Err(DataError::arg(arg, v, "a fraction in [0, 1)"));
        }
    }
    if valid_frac + test_frac >= 1.0 {
        return Err(DataError::arg(
            "valid_frac + test_frac",
            valid_frac + test_frac,
            "below 1 so that rows are left for training",
        ));
    }
    if let Some(g) = groups
        && g.len() != labels.len()
    {
        return Err(DataError::arg(
            "groups",
            g.len(),
            format!("one group id per label ({})", labels.len()),
        ));
    }
    let mut strata: std::collections::BTreeMap<(u32, u32), Vec<usize>> = Default::default();
    for (i, &l) in labels.iter().enumerate() {
        let g = groups.map_or(0, |g| g[i]);
        strata.entry((g, l)).or_default().push(i);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut tr, mut va, mut te) = (Vec::new(), Vec::new(), Vec::new());
    for (_, mut idx) in strata {
        idx.shuffle(&mut rng);
        let n = idx.len() as f64;
        let n_te = (n * test_frac).round() as usize;
        let n_va = ((n * valid_frac).round() as usize).min(idx.len() - n_te);
        te.extend_from_slice(&idx[..n_te]);
        va.extend_from_slice(&idx[n_te..n_te + n_va]);
        tr.extend_from_slice(&idx[n_te + n_va..]);
    }
    tr.sort_unstable();
    va.sort_unstable();
    te.sort_unstable();
    if tr.is_empty() {
        return Err(DataError::arg(
            "valid_frac + test_frac",
            valid_frac + test_frac,
            "smaller, so that the training split is not empty",
        ));
    }
    Ok(SplitIndices {
        train: tr,
        valid: va,
        test: te,
    })
}

/// Split a data set into train / validation / test, stratified by label (and domain).
///
/// See [`stratified_indices`] for the exact rule; rows keep their original order
/// inside each part.
///
/// ```
/// let ds = rgd_data::Dataset::from_features("t", (0..20).map(|x| x as f32).collect(), 1,
///     (0..20).map(|i| (i % 2) as u32).collect(), vec!["a".into(), "b".into()]);
/// let s = rgd_data::stratified_split(&ds, 0.2, 0.2, 1).unwrap();
/// assert_eq!((s.train.len(), s.valid.len(), s.test.len()), (12, 4, 4));
/// ```
pub fn stratified_split(
    ds: &Dataset,
    valid_frac: f64,
    test_frac: f64,
    seed: u64,
) -> Result<Split, DataError> {
    let SplitIndices { train, valid, test } = stratified_indices(
        &ds.labels,
        ds.domains.as_deref(),
        valid_frac,
        test_frac,
        seed,
    )?;
    Ok(Split {
        train: ds.subset(&train),
        valid: ds.subset(&valid),
        test: ds.subset(&test),
    })
}
