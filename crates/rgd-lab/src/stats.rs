//! Statistics for comparing methods over seeds: summaries, Student-t intervals, paired
//! differences, the Wilcoxon signed-rank test and average ranks.
//!
//! Everything is in `f64`. Functions that cannot give a meaningful answer (no values, mismatched
//! lengths) return `None` rather than panicking or producing NaN.

use std::cmp::Ordering;

use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

/// Metric values closer than this are the same result. Accuracies are counts over at most
/// millions of examples, so a finer difference is float rounding (summation order, a JSON
/// round trip), and must not break a tie in a rank, a Wilcoxon test or a win/tie/loss count.
pub const METRIC_TIE: f64 = 1e-9;

/// `value` rounded to a multiple of [`METRIC_TIE`], so that results equal up to rounding
/// compare equal.
///
/// ```
/// use rgd_lab::stats::snap_to_tie;
/// assert_eq!(snap_to_tie(0.654_838_709_677_419_3), snap_to_tie(0.654_838_709_677_419_4));
/// assert_ne!(snap_to_tie(0.654_838_7), snap_to_tie(0.654_838_8));
/// ```
pub fn snap_to_tie(value: f64) -> f64 {
    (value / METRIC_TIE).round() * METRIC_TIE
}

/// Sample size, mean and sample standard deviation of a set of values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Number of values.
    pub n: usize,
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation, `sqrt(sum (x_i - mean)^2 / (n - 1))`; 0 when `n == 1`.
    pub std: f64,
}

/// Summarises `values` (mean, sample standard deviation with `n - 1`); `None` when empty.
///
/// ```
/// let s = rgd_lab::stats::summarize(&[1.0, 2.0, 3.0]).unwrap();
/// assert_eq!((s.n, s.mean, s.std), (3, 2.0, 1.0));
/// assert!(rgd_lab::stats::summarize(&[]).is_none());
/// ```
pub fn summarize(values: &[f64]) -> Option<Summary> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let std = if n == 1 {
        0.0
    } else {
        let ss: f64 = values.iter().map(|x| (x - mean).powi(2)).sum();
        (ss / (n - 1) as f64).sqrt()
    };
    Some(Summary { n, mean, std })
}

/// Two-sided Student-t confidence interval of the mean at confidence `level` (e.g. 0.95):
/// `mean ± t_{(1 + level) / 2, n - 1} * s / sqrt(n)`.
///
/// `None` when `n < 2` or `level` is not in (0, 1).
///
/// ```
/// let (lo, hi) = rgd_lab::stats::t_interval(&[1.0, 2.0, 3.0], 0.95).unwrap();
/// // t_{0.975, 2} = 4.3027, s / sqrt(n) = 1 / sqrt(3)
/// assert!((lo - (2.0 - 4.302652729749464 / 3f64.sqrt())).abs() < 1e-9);
/// assert!((hi - (2.0 + 4.302652729749464 / 3f64.sqrt())).abs() < 1e-9);
/// ```
pub fn t_interval(values: &[f64], level: f64) -> Option<(f64, f64)> {
    let s = summarize(values).filter(|s| s.n >= 2)?;
    if !(level > 0.0 && level < 1.0) {
        return None;
    }
    let t = t_quantile(0.5 + level / 2.0, (s.n - 1) as f64)?;
    let half = t * s.std / (s.n as f64).sqrt();
    Some((s.mean - half, s.mean + half))
}

/// The `p` quantile of Student's t distribution with `df` degrees of freedom.
pub(crate) fn t_quantile(p: f64, df: f64) -> Option<f64> {
    Some(StudentsT::new(0.0, 1.0, df).ok()?.inverse_cdf(p))
}

/// Per-seed differences `treatment_i - baseline_i` summarised: mean, sample standard deviation,
/// Student-t confidence interval of the mean, and win/tie/loss counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairedDifference {
    /// Number of pairs.
    pub n: usize,
    /// Mean difference.
    pub mean: f64,
    /// Sample standard deviation of the differences (0 when `n == 1`).
    pub std: f64,
    /// Lower end of the confidence interval of the mean difference.
    pub ci_low: f64,
    /// Upper end of the confidence interval of the mean difference.
    pub ci_high: f64,
    /// Pairs with `d_i > tie_tolerance`.
    pub wins: usize,
    /// Pairs with `|d_i| <= tie_tolerance`.
    pub ties: usize,
    /// Pairs with `d_i < -tie_tolerance`.
    pub losses: usize,
}

/// The [`PairedDifference`] of paired results (one per seed), with its interval at `level` and
/// ties within `tie_tolerance`.
///
/// With a single pair the interval is degenerate, `(mean, mean)`: there is no spread to estimate.
/// `None` when the slices are empty or of different lengths.
///
/// ```
/// use rgd_lab::stats::paired_difference;
/// let d = paired_difference(&[0.90, 0.85, 0.80], &[0.85, 0.85, 0.81], 0.001, 0.95).unwrap();
/// assert_eq!((d.wins, d.ties, d.losses), (1, 1, 1));
/// assert!((d.mean - 0.04 / 3.0).abs() < 1e-12);
/// assert!(d.ci_low < d.mean && d.mean < d.ci_high);
/// ```
pub fn paired_difference(
    treatment: &[f64],
    baseline: &[f64],
    tie_tolerance: f64,
    level: f64,
) -> Option<PairedDifference> {
    if treatment.len() != baseline.len() {
        return None;
    }
    let diffs: Vec<f64> = treatment.iter().zip(baseline).map(|(t, b)| t - b).collect();
    let s = summarize(&diffs)?;
    let (ci_low, ci_high) = t_interval(&diffs, level).unwrap_or((s.mean, s.mean));
    let wins = diffs.iter().filter(|&&d| d > tie_tolerance).count();
    let losses = diffs.iter().filter(|&&d| d < -tie_tolerance).count();
    Some(PairedDifference {
        n: s.n,
        mean: s.mean,
        std: s.std,
        ci_low,
        ci_high,
        wins,
        ties: s.n - wins - losses,
        losses,
    })
}

/// Result of a two-sided Wilcoxon signed-rank test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Wilcoxon {
    /// Number of non-zero differences (zeros are dropped).
    pub n: usize,
    /// Sum of the ranks of `|d_i|` over positive differences.
    pub w_plus: f64,
    /// Sum of the ranks of `|d_i|` over negative differences.
    pub w_minus: f64,
    /// The test statistic, `min(w_plus, w_minus)`.
    pub statistic: f64,
    /// Two-sided p-value.
    pub p_value: f64,
}

/// Largest number of non-zero differences for which the p-value is computed exactly.
const EXACT_MAX_N: usize = 25;

/// Two-sided Wilcoxon signed-rank test of "the differences are symmetric about zero".
///
/// Zero differences are dropped (Wilcoxon's method); the remaining `|d_i|` get average ranks
/// for ties; `W+` and `W-` are the rank sums of the positive and negative differences and the
/// statistic is `T = min(W+, W-)`.
///
/// - `n <= 25`: exact p-value `min(1, 2 P(W+ <= T))` from the permutation distribution of all
///   `2^n` sign assignments, counted by dynamic programming over rank sums. Doubled ranks are
///   integers even with average ranks, so ties are handled exactly too (the distribution is
///   then conditional on the observed ranks).
/// - `n > 25`: normal approximation with tie and continuity corrections,
///   `z = (|W+ - n(n+1)/4| - 1/2) / sqrt(n(n+1)(2n+1)/24 - sum_j (t_j^3 - t_j)/48)`,
///   `p = 2 (1 - Phi(z))`, where `t_j` are the sizes of the groups of tied `|d_i|`.
///
/// When every difference is zero, `n = 0` and `p = 1`. `None` when `differences` is empty or
/// contains a non-finite value.
///
/// Reference: F. Wilcoxon, "Individual comparisons by ranking methods", Biometrics Bulletin, 1945.
///
/// ```
/// let w = rgd_lab::stats::wilcoxon_signed_rank(&[1.5, -0.3, 2.1, 0.8, -1.2, 3.3, 0.4, 2.7]).unwrap();
/// assert_eq!((w.n, w.w_plus, w.w_minus, w.statistic), (8, 31.0, 5.0, 5.0));
/// assert!((w.p_value - 0.078125).abs() < 1e-12); // 20 of the 256 sign patterns are as extreme
/// ```
pub fn wilcoxon_signed_rank(differences: &[f64]) -> Option<Wilcoxon> {
    if differences.is_empty() || differences.iter().any(|d| !d.is_finite()) {
        return None;
    }
    let nonzero: Vec<f64> = differences.iter().copied().filter(|&d| d != 0.0).collect();
    let n = nonzero.len();
    let abs: Vec<f64> = nonzero.iter().map(|d| d.abs()).collect();
    // Twice the average ranks: always integers.
    let doubled: Vec<usize> = average_ranks(&abs, false)
        .iter()
        .map(|r| (2.0 * r).round() as usize)
        .collect();
    let w_plus2: usize = (nonzero.iter().zip(&doubled))
        .filter(|(d, _)| **d > 0.0)
        .map(|(_, r)| r)
        .sum();
    let total2 = n * (n + 1); // sum of doubled ranks
    let t2 = w_plus2.min(total2 - w_plus2);
    let p_value = if n == 0 {
        1.0
    } else if n <= EXACT_MAX_N {
        // counts[s] = number of sign assignments whose doubled positive rank sum is s.
        let mut counts = vec![0.0f64; total2 + 1];
        counts[0] = 1.0;
        for &r in &doubled {
            for s in (r..=total2).rev() {
                counts[s] += counts[s - r];
            }
        }
        let tail: f64 = counts[..=t2].iter().sum();
        (2.0 * tail / 2f64.powi(n as i32)).min(1.0)
    } else {
        let nf = n as f64;
        let mut tie_term = 0.0;
        let mut sorted = doubled.clone();
        sorted.sort_unstable();
        for group in sorted.chunk_by(|a, b| a == b) {
            let t = group.len() as f64;
            tie_term += t * t * t - t;
        }
        let sd = (nf * (nf + 1.0) * (2.0 * nf + 1.0) / 24.0 - tie_term / 48.0).sqrt();
        let z = ((w_plus2 as f64 / 2.0 - nf * (nf + 1.0) / 4.0).abs() - 0.5).max(0.0) / sd;
        let normal = Normal::standard();
        (2.0 * normal.sf(z)).min(1.0)
    };
    Some(Wilcoxon {
        n,
        w_plus: w_plus2 as f64 / 2.0,
        w_minus: (total2 - w_plus2) as f64 / 2.0,
        statistic: t2 as f64 / 2.0,
        p_value,
    })
}

/// Ranks of `scores`, 1 = best, tied scores sharing the average of the ranks they span
/// (e.g. the average rank of each method on one data set, to average across data sets).
///
/// Best is the highest score when `higher_is_better`, else the lowest. NaN ranks last.
///
/// ```
/// use rgd_lab::stats::average_ranks;
/// assert_eq!(average_ranks(&[0.9, 0.8, 0.9, 0.7], true), vec![1.5, 3.0, 1.5, 4.0]);
/// assert_eq!(average_ranks(&[0.9, 0.8, 0.9, 0.7], false), vec![3.5, 2.0, 3.5, 1.0]);
/// ```
pub fn average_ranks(scores: &[f64], higher_is_better: bool) -> Vec<f64> {
    let better_first = |a: &f64, b: &f64| match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) if higher_is_better => b.total_cmp(a),
        (false, false) => a.total_cmp(b),
    };
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&i, &j| better_first(&scores[i], &scores[j]));
    let mut ranks = vec![0.0; scores.len()];
    let mut start = 0;
    // `==` rather than `total_cmp` so that 0.0 and -0.0 tie.
    for group in
        order.chunk_by(|&i, &j| scores[i] == scores[j] || scores[i].is_nan() && scores[j].is_nan())
    {
        // Positions start+1 ..= start+len share their average.
        let rank = start as f64 + (group.len() as f64 + 1.0) / 2.0;
        for &i in group {
            ranks[i] = rank;
        }
        start += group.len();
    }
    ranks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn summarize_known_values_and_edges() {
        let s = summarize(&[0.853, 0.861, 0.849, 0.857, 0.866]).unwrap();
        // numpy: np.mean(v), np.std(v, ddof=1)
        assert!(close(s.mean, 0.8572, 1e-15));
        assert!(close(s.std, 0.006648308055437871, 1e-15));
        assert_eq!(s.n, 5);
        let one = summarize(&[3.5]).unwrap();
        assert_eq!((one.n, one.mean, one.std), (1, 3.5, 0.0));
        assert!(summarize(&[]).is_none());
    }

    #[test]
    fn t_interval_matches_scipy() {
        // scipy.stats.t.interval(0.95, 4, loc=np.mean(v), scale=stats.sem(v))
        let (lo, hi) = t_interval(&[0.853, 0.861, 0.849, 0.857, 0.866], 0.95).unwrap();
        assert!(close(lo, 0.8489450352385947, 1e-10), "{lo}");
        assert!(close(hi, 0.8654549647614053, 1e-10), "{hi}");
        // scipy.stats.t.interval(0.9, 1, loc=1.5, scale=stats.sem([1.0, 2.0]))
        let (lo, hi) = t_interval(&[1.0, 2.0], 0.9).unwrap();
        assert!(close(lo, -1.6568757573375223, 1e-8), "{lo}");
        assert!(close(hi, 4.656875757337518, 1e-8), "{hi}");
        assert_eq!(t_interval(&[2.0, 2.0, 2.0], 0.95), Some((2.0, 2.0)));
        assert!(t_interval(&[1.0], 0.95).is_none());
        assert!(t_interval(&[], 0.95).is_none());
        assert!(t_interval(&[1.0, 2.0], 1.0).is_none());
        assert!(t_interval(&[1.0, 2.0], f64::NAN).is_none());
    }

    #[test]
    fn paired_difference_counts_and_interval() {
        let t = [0.853, 0.861, 0.849, 0.857, 0.866];
        let b = [0.0; 5];
        let d = paired_difference(&t, &b, 0.0, 0.95).unwrap();
        assert_eq!((d.n, d.wins, d.ties, d.losses), (5, 5, 0, 0));
        assert_eq!((d.ci_low, d.ci_high), t_interval(&t, 0.95).unwrap());
        assert!(close(d.std, 0.006648308055437871, 1e-15));

        let d =
            paired_difference(&[1.0, 2.0, 3.0, 4.0], &[1.05, 1.0, 3.0, 5.0], 0.1, 0.95).unwrap();
        assert_eq!((d.wins, d.ties, d.losses), (1, 2, 1));

        let single = paired_difference(&[0.9], &[0.8], 0.0, 0.95).unwrap();
        assert!(close(single.mean, 0.1, 1e-12));
        assert_eq!(
            (single.std, single.ci_low, single.ci_high),
            (0.0, single.mean, single.mean)
        );

        assert!(paired_difference(&[1.0, 2.0], &[1.0], 0.0, 0.95).is_none());
        assert!(paired_difference(&[], &[], 0.0, 0.95).is_none());
    }

    #[test]
    fn wilcoxon_exact_matches_scipy() {
        let d = [1.5, -0.3, 2.1, 0.8, -1.2, 3.3, 0.4, 2.7];
        // scipy.stats.wilcoxon(d, method='exact') -> statistic 5.0, pvalue 0.078125
        let w = wilcoxon_signed_rank(&d).unwrap();
        assert_eq!((w.n, w.w_plus, w.w_minus, w.statistic), (8, 31.0, 5.0, 5.0));
        assert!(close(w.p_value, 0.078125, 1e-15));
        // Zeros are dropped: scipy.stats.wilcoxon([0.0, *d, 0.0], method='exact',
        // zero_method='wilcox') -> statistic 5.0, pvalue 0.078125
        let mut with_zeros = vec![0.0];
        with_zeros.extend(d);
        with_zeros.push(-0.0);
        assert_eq!(wilcoxon_signed_rank(&with_zeros), Some(w));
        // The sign does not matter in a two-sided test.
        let flipped: Vec<f64> = d.iter().map(|x| -x).collect();
        let wf = wilcoxon_signed_rank(&flipped).unwrap();
        assert_eq!(
            (wf.w_plus, wf.w_minus, wf.p_value),
            (w.w_minus, w.w_plus, w.p_value)
        );
    }

    #[test]
    fn wilcoxon_exact_with_ties_matches_permutation_test() {
        let d = [1.0, -1.0, 2.0, 2.0, -3.0, 4.0, 4.0, 4.0, 5.0, -0.5];
        // scipy.stats.wilcoxon(d, method=stats.PermutationMethod(n_resamples=10**6))
        // (exact enumeration of the 1024 sign flips) -> statistic 9.5, pvalue 0.068359375
        let w = wilcoxon_signed_rank(&d).unwrap();
        assert_eq!((w.n, w.statistic, w.w_plus), (10, 9.5, 45.5));
        assert!(close(w.p_value, 0.068359375, 1e-15));
    }

    #[test]
    fn wilcoxon_normal_approximation_matches_scipy() {
        // 30 differences, 2 zeros (dropped, n = 28 > 25) and many ties.
        let d: Vec<f64> = (1..=30)
            .map(|i| ((i * 7 % 13) as f64 - 4.0) * 0.5)
            .collect();
        // scipy.stats.wilcoxon(d, method='approx', correction=True)
        // -> statistic 99.5, pvalue 0.018660169624526053
        let w = wilcoxon_signed_rank(&d).unwrap();
        assert_eq!((w.n, w.statistic), (28, 99.5));
        assert!(
            close(w.p_value, 0.018660169624526053, 1e-12),
            "{}",
            w.p_value
        );

        // 30 distinct differences.
        let d: Vec<f64> = (1..=30)
            .map(|i| (i as f64 * 0.37) % 2.3 - 0.9 + i as f64 * 1e-3)
            .collect();
        // scipy.stats.wilcoxon(d, method='approx', correction=True)
        // -> statistic 144.0, pvalue 0.07029363734368356
        let w = wilcoxon_signed_rank(&d).unwrap();
        assert_eq!((w.n, w.statistic), (30, 144.0));
        // statrs and scipy evaluate the normal tail with different erfc approximations.
        assert!(
            close(w.p_value, 0.07029363734368356, 1e-10),
            "{}",
            w.p_value
        );
    }

    #[test]
    fn wilcoxon_edge_cases() {
        // scipy.stats.wilcoxon([2.0], method='exact') -> statistic 0.0, pvalue 1.0
        let one = wilcoxon_signed_rank(&[2.0]).unwrap();
        assert_eq!(
            (one.n, one.w_plus, one.statistic, one.p_value),
            (1, 1.0, 0.0, 1.0)
        );
        // All |d| tied (rank 2.5 each): W+ = 2.5 k with k positive signs, and the 1 + 4 sign
        // patterns with k <= 1 have W+ <= 2.5, so p = 2 * 5 / 16.
        let tied = wilcoxon_signed_rank(&[1.0, 1.0, 1.0, -1.0]).unwrap();
        assert_eq!((tied.w_plus, tied.w_minus, tied.statistic), (7.5, 2.5, 2.5));
        assert!(close(tied.p_value, 0.625, 1e-15));
        let zeros = wilcoxon_signed_rank(&[0.0, 0.0, 0.0]).unwrap();
        assert_eq!((zeros.n, zeros.statistic, zeros.p_value), (0, 0.0, 1.0));
        assert!(wilcoxon_signed_rank(&[]).is_none());
        assert!(wilcoxon_signed_rank(&[1.0, f64::NAN]).is_none());
        assert!(wilcoxon_signed_rank(&[1.0, f64::INFINITY]).is_none());
    }

    #[test]
    fn average_ranks_match_scipy_rankdata() {
        // scipy.stats.rankdata([-0.9, -0.8, -0.9, -0.7]) -> [1.5, 3.0, 1.5, 4.0]
        assert_eq!(
            average_ranks(&[0.9, 0.8, 0.9, 0.7], true),
            vec![1.5, 3.0, 1.5, 4.0]
        );
        // scipy.stats.rankdata([0.9, 0.8, 0.9, 0.7]) -> [3.5, 2.0, 3.5, 1.0]
        assert_eq!(
            average_ranks(&[0.9, 0.8, 0.9, 0.7], false),
            vec![3.5, 2.0, 3.5, 1.0]
        );
        assert_eq!(average_ranks(&[5.0; 3], true), vec![2.0; 3]);
        assert_eq!(average_ranks(&[0.0, -0.0], true), vec![1.5, 1.5]);
        assert_eq!(
            average_ranks(&[f64::NAN, 1.0, f64::NAN, 2.0], true),
            vec![3.5, 2.0, 3.5, 1.0]
        );
        assert_eq!(
            average_ranks(&[f64::NAN, 1.0, 2.0], false),
            vec![3.0, 1.0, 2.0]
        );
        assert_eq!(average_ranks(&[7.0], true), vec![1.0]);
        assert!(average_ranks(&[], true).is_empty());
    }
}
