//! Power and multiplicity for paired seed differences: the paired t-test's p-value, the
//! minimum detectable effect at a given power, and the Benjamini-Hochberg step-up over many
//! cells with its false-coverage-rate adjusted intervals (Benjamini and Yekutieli 2005).
//!
//! A map of many cells, each a handful of seeds, needs all three: "no effect" only means "no
//! effect larger than the minimum detectable one", and with dozens of cells some 95% intervals
//! exclude zero by chance alone.

use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::stats::{summarize, t_quantile};

/// Two-sided p-value of the one-sample (paired) t-test of "the mean difference is zero":
/// `t = mean / (sd / sqrt(n))` on `n - 1` degrees of freedom, `p = 2 P(T > |t|)`.
///
/// A zero spread gives `p = 0` for a non-zero mean and `p = 1` for a zero one. `None` when
/// `n < 2` or a difference is not finite.
///
/// ```
/// // t = 2 / (0.8165 / sqrt(4)) = 4.899 on 3 degrees of freedom: p = 0.01628 (the t density
/// // integrated numerically, independently of statrs)
/// let p = rgd_lab::power::paired_t_p_value(&[1.0, 2.0, 3.0, 2.0]).unwrap();
/// assert!((p - 0.01628).abs() < 1e-4, "{p}");
/// ```
pub fn paired_t_p_value(differences: &[f64]) -> Option<f64> {
    if differences.iter().any(|d| !d.is_finite()) {
        return None;
    }
    let s = summarize(differences).filter(|s| s.n >= 2)?;
    if s.std == 0.0 {
        return Some(if s.mean == 0.0 { 1.0 } else { 0.0 });
    }
    let t = s.mean.abs() / (s.std / (s.n as f64).sqrt());
    let dist = StudentsT::new(0.0, 1.0, (s.n - 1) as f64).ok()?;
    Some((2.0 * (1.0 - dist.cdf(t))).clamp(0.0, 1.0))
}

/// The smallest true mean difference a two-sided paired t-test at level `alpha` detects with
/// probability `power`, given `n` pairs whose differences have standard deviation `sd`:
///
/// ```text
/// MDE = (t_{1 - alpha/2, n-1} + t_{power, n-1}) * sd / sqrt(n)
/// ```
///
/// (the usual normal-shift approximation of the non-central t; it errs slightly small for
/// very few pairs). `None` when `n < 2` or an argument is out of range.
///
/// ```
/// // 5 seeds, sd 1: (2.7764 + 0.9410) / sqrt(5) = 1.6625
/// let mde = rgd_lab::power::minimum_detectable_effect(1.0, 5, 0.05, 0.8).unwrap();
/// assert!((mde - 1.6625).abs() < 1e-3, "{mde}");
/// ```
pub fn minimum_detectable_effect(sd: f64, n: usize, alpha: f64, power: f64) -> Option<f64> {
    let valid = n >= 2 && sd.is_finite() && sd >= 0.0;
    if !(valid && alpha > 0.0 && alpha < 1.0 && power > 0.0 && power < 1.0) {
        return None;
    }
    let df = (n - 1) as f64;
    let z = t_quantile(1.0 - alpha / 2.0, df)? + t_quantile(power, df)?;
    Some(z * sd / (n as f64).sqrt())
}

/// The Benjamini-Hochberg step-up at false-discovery rate `q` over `p_values`: which
/// hypotheses are rejected (in the given order), and how many (`R`).
///
/// With the p-values sorted, `p_(1) <= ... <= p_(m)`, the largest `k` with `p_(k) <= k q / m`
/// rejects the `k` smallest. The intervals that go with it are those of
/// [`fcr_level`]: the selected cells' intervals at level `1 - R q / m` exclude zero exactly
/// when the cells are rejected (for tests and intervals from one t distribution).
///
/// ```
/// // Benjamini and Hochberg (1995), section 4: 15 p-values at q = 0.05 reject 4.
/// let p = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240,
///          0.4262, 0.5719, 0.6528, 0.7590, 1.0];
/// let (rejected, r) = rgd_lab::power::benjamini_hochberg(&p, 0.05);
/// assert_eq!(r, 4);
/// assert_eq!(rejected.iter().filter(|&&x| x).count(), 4);
/// assert!(rejected[..4].iter().all(|&x| x));
/// ```
pub fn benjamini_hochberg(p_values: &[f64], q: f64) -> (Vec<bool>, usize) {
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]));
    let k = (1..=m)
        .rev()
        .find(|&k| p_values[order[k - 1]] <= k as f64 * q / m as f64)
        .unwrap_or(0);
    let mut rejected = vec![false; m];
    for &i in &order[..k] {
        rejected[i] = true;
    }
    (rejected, k)
}

/// The confidence level of the false-coverage-rate adjusted intervals of the `selected` of
/// `cells` (Benjamini and Yekutieli 2005): `1 - selected q / cells`, or `1 - q / cells` when
/// none is selected (the Bonferroni level, for the record).
///
/// ```
/// assert!((rgd_lab::power::fcr_level(4, 15, 0.05) - (1.0 - 4.0 * 0.05 / 15.0)).abs() < 1e-15);
/// ```
pub fn fcr_level(selected: usize, cells: usize, q: f64) -> f64 {
    1.0 - selected.max(1) as f64 * q / cells.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::t_interval;
    use proptest::prelude::*;

    #[test]
    fn the_p_value_matches_scipy_and_the_interval() {
        // t = 2.5253 on 4 degrees of freedom: p = 0.06499 (Simpson's rule on the t density, in
        // Python, independently of statrs).
        let d = [0.3, -0.1, 0.5, 0.2, 0.4];
        assert!((paired_t_p_value(&d).unwrap() - 0.06499).abs() < 1e-4);
        // The 95% interval contains zero exactly when p > 0.05.
        let (lo, hi) = t_interval(&d, 0.95).unwrap();
        assert!(lo < 0.0 && hi > 0.0);
        assert_eq!(paired_t_p_value(&[1.0, 1.0, 1.0]), Some(0.0));
        assert_eq!(paired_t_p_value(&[0.0, 0.0]), Some(1.0));
        assert_eq!(paired_t_p_value(&[1.0]), None);
        assert_eq!(paired_t_p_value(&[1.0, f64::NAN]), None);
    }

    #[test]
    fn the_mde_has_the_stated_power_by_simulation() {
        // Draw n = 10 normal differences with mean MDE and sd 1; the test at 0.05 rejects in
        // about 80% of 4000 draws (the approximation is close at 10 pairs).
        use rand::{Rng, SeedableRng};
        let n = 10;
        let mde = minimum_detectable_effect(1.0, n, 0.05, 0.8).unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let normal = |rng: &mut rand_chacha::ChaCha8Rng| {
            let (u, v): (f64, f64) = (rng.random::<f64>().max(1e-300), rng.random());
            (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
        };
        let trials = 4000;
        let rejected = (0..trials)
            .filter(|_| {
                let d: Vec<f64> = (0..n).map(|_| mde + normal(&mut rng)).collect();
                paired_t_p_value(&d).unwrap() < 0.05
            })
            .count();
        let rate = rejected as f64 / trials as f64;
        assert!((0.76..0.84).contains(&rate), "{rate}");
        assert_eq!(minimum_detectable_effect(1.0, 1, 0.05, 0.8), None);
        assert_eq!(minimum_detectable_effect(1.0, 5, 0.0, 0.8), None);
    }

    proptest! {
        #[test]
        fn bh_rejects_a_prefix_of_the_sorted_p_values_and_agrees_with_fcr_intervals(
            cells in prop::collection::vec(prop::collection::vec(-1.0f64..1.5, 5), 1..30),
        ) {
            let p: Vec<f64> = cells.iter().map(|d| paired_t_p_value(d).unwrap()).collect();
            let (rejected, r) = benjamini_hochberg(&p, 0.05);
            prop_assert_eq!(rejected.iter().filter(|&&x| x).count(), r);
            let largest_rejected = (0..p.len()).filter(|&i| rejected[i]).map(|i| p[i]).fold(0.0, f64::max);
            for i in (0..p.len()).filter(|&i| !rejected[i]) {
                prop_assert!(p[i] >= largest_rejected);
            }
            // Benjamini-Yekutieli: a selected cell's FCR interval excludes zero.
            let level = fcr_level(r, p.len(), 0.05);
            for (d, &sel) in cells.iter().zip(&rejected) {
                if sel {
                    let (lo, hi) = t_interval(d, level).unwrap();
                    prop_assert!(lo > -1e-9 || hi < 1e-9, "{lo} {hi}");
                }
            }
        }
    }
}
