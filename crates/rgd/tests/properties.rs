//! Property tests: weights positive, finite, bounded and monotone where the rule says so; ERM
//! as a limit; normalised rules have mean 1; CVaR caps weights at 1/alpha on the top
//! ceil(alpha B), and is the old top-k rule bit for bit when alpha B is an integer.

use proptest::prelude::*;
use rgd::{
    AbsgdConfig, ChiSquareConfig, CvarConfig, GroupDroConfig, RgdConfig, Rule, RuleConfig,
    TermConfig, reweight_dyn,
};

fn losses() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(0.0..50.0f64, 1..200)
}

fn tau() -> impl Strategy<Value = f64> {
    prop_oneof![1e-3..0.2f64, 0.2..5.0f64, 5.0..1e3f64]
}

/// True if a larger loss never gets a smaller weight.
fn monotone(losses: &[f64], weights: &[f64]) -> bool {
    let mut pairs: Vec<(f64, f64)> = losses
        .iter()
        .copied()
        .zip(weights.iter().copied())
        .collect();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    pairs
        .windows(2)
        .all(|p| p[1].0 == p[0].0 || p[1].1 >= p[0].1 * (1.0 - 1e-12))
}

proptest! {
    #[test]
    fn rgd_weights_lie_in_the_closed_interval_and_are_monotone(l in losses(), tau in tau()) {
        let r = RgdConfig::new().with_tau(tau).init().unwrap().reweight(&l).unwrap();
        let max = (tau / (tau + 1.0)).exp();
        for &w in &r.weights {
            prop_assert!(w.is_finite() && (1.0..=max).contains(&w), "w = {w}, max = {max}");
        }
        prop_assert!(monotone(&l, &r.weights));
        prop_assert!(r.stats.max < std::f64::consts::E);
    }

    #[test]
    fn rgd_tends_to_erm_as_tau_goes_to_zero_and_infinity(l in losses()) {
        let small = RgdConfig::new().with_tau(1e-9).init().unwrap().reweight(&l).unwrap();
        let large = RgdConfig::new().with_tau(1e12).init().unwrap().reweight(&l).unwrap();
        for (&a, &b) in small.weights.iter().zip(&large.weights) {
            prop_assert!((a - 1.0).abs() < 1e-8 && (b - 1.0).abs() < 1e-9, "{a} {b}");
        }
    }

    #[test]
    fn rgd_f32_weights_stay_finite_and_bounded(l in prop::collection::vec(-10.0..1e30f32, 1..100), tau in tau()) {
        let r = RgdConfig::new().with_tau(tau).init().unwrap().reweight(&l).unwrap();
        let max = (tau / (tau + 1.0)).exp() as f32;
        prop_assert!(r.weights.iter().all(|&w| w.is_finite() && (1.0..=max).contains(&w)));
    }

    #[test]
    fn term_weights_are_positive_mean_one_and_ordered_by_tilt_sign(l in losses(), t in -5.0..5.0f64) {
        let r = TermConfig::new(t).init().unwrap().reweight(&l).unwrap();
        prop_assert!(r.weights.iter().all(|&w| w.is_finite() && w >= 0.0));
        prop_assert!((r.stats.mean - 1.0).abs() < 1e-9);
        if t >= 0.0 {
            prop_assert!(monotone(&l, &r.weights));
        } else {
            let neg: Vec<f64> = l.iter().map(|x| -x).collect();
            prop_assert!(monotone(&neg, &r.weights));
        }
    }

    #[test]
    fn absgd_weights_are_finite_and_monotone_for_any_temperature(
        batches in prop::collection::vec(losses(), 1..5),
        lambda in prop_oneof![-5.0..-1e-3f64, 1e-3..5.0f64],
        gamma in 0.01..=1.0f64,
    ) {
        let mut rule = AbsgdConfig::new(lambda).with_gamma(gamma).init().unwrap();
        for l in &batches {
            let r = rule.reweight(l).unwrap();
            prop_assert!(r.weights.iter().all(|&w| w.is_finite() && w >= 0.0));
            if lambda > 0.0 {
                prop_assert!(monotone(l, &r.weights));
            }
        }
    }

    #[test]
    fn cvar_weights_are_capped_mean_one_and_on_the_top_ceil_alpha_b(
        l in prop_oneof![losses(), prop::collection::vec((0u8..4).prop_map(f64::from), 1..200)],
        alpha in 0.001..=1.0f64,
    ) {
        let rule = CvarConfig::new(alpha).init().unwrap();
        let r = rule.clone().reweight(&l).unwrap();
        let b = l.len();
        let k = ((alpha * b as f64) * (1.0 - 1e-9)).ceil().clamp(1.0, b as f64) as usize;
        prop_assert_eq!(rule.kept(b), k);
        let kept: Vec<usize> = (0..b).filter(|&i| r.weights[i] > 0.0).collect();
        prop_assert_eq!(kept.len(), k);
        let cut = kept.iter().map(|&i| l[i]).fold(f64::INFINITY, f64::min);
        prop_assert!((0..b).filter(|i| !kept.contains(i)).all(|i| l[i] <= cut));
        let cap = (1.0 + 1e-9) / alpha;
        prop_assert!(r.weights.iter().all(|&w| (0.0..=cap).contains(&w)), "cap {}", cap);
        // In descending loss order (earlier first on ties) the weights never increase, and all
        // but the last kept one sit at the cap.
        let mut order: Vec<usize> = (0..b).collect();
        order.sort_by(|&x, &y| l[y].total_cmp(&l[x]));
        prop_assert!(order.windows(2).all(|p| r.weights[p[0]] >= r.weights[p[1]]));
        prop_assert!(order[..k - 1].iter().all(|&i| r.weights[i] * alpha > 1.0 - 1e-9));
        prop_assert!((r.stats.mean - 1.0).abs() < 1e-12);
    }

    #[test]
    fn cvar_with_integer_alpha_b_is_bit_identical_to_top_k(
        l in prop_oneof![losses(), prop::collection::vec((0u8..4).prop_map(f64::from), 1..200)],
        frac in 0.0..=1.0f64,
        decimal in any::<bool>(),
    ) {
        let b = l.len();
        // alpha = k / B, or a decimal alpha (tenths) on a batch it divides into an integer.
        let (alpha, k) = if decimal && b % 10 == 0 {
            let tenths = 1 + (frac * 9.0).round() as usize;
            (tenths as f64 / 10.0, tenths * b / 10)
        } else {
            let k = 1 + ((b - 1) as f64 * frac).round() as usize;
            (k as f64 / b as f64, k)
        };
        let got = CvarConfig::new(alpha).init().unwrap().reweight(&l).unwrap().weights;
        // The old rule: B / k on the k largest (stable sort, earlier first on ties).
        let mut order: Vec<usize> = (0..b).collect();
        order.sort_by(|&x, &y| l[y].total_cmp(&l[x]));
        let mut want = vec![0.0f64; b];
        for &i in &order[..k] {
            want[i] = b as f64 / k as f64;
        }
        for (g, w) in got.iter().zip(&want) {
            prop_assert_eq!(g.to_bits(), w.to_bits(), "alpha {} B {} k {}", alpha, b, k);
        }
    }

    #[test]
    fn chi_square_weights_are_nonnegative_mean_one_monotone_and_inside_the_ball(
        l in losses(), rho in 1e-3..10.0f64,
    ) {
        let r = ChiSquareConfig::new(rho).init().unwrap().reweight(&l).unwrap();
        let b = l.len() as f64;
        prop_assert!(r.weights.iter().all(|&w| w.is_finite() && w >= 0.0));
        prop_assert!((r.stats.mean - 1.0).abs() < 1e-9);
        prop_assert!(monotone(&l, &r.weights));
        let d = r.weights.iter().map(|w| (w - 1.0).powi(2)).sum::<f64>() / (2.0 * b);
        prop_assert!(d <= rho * (1.0 + 1e-6) + 1e-12, "divergence {d} > rho {rho}");
    }

    #[test]
    fn group_dro_weights_have_mean_one(
        pairs in prop::collection::vec((0.0..20.0f64, 0usize..4), 1..100),
        eta in 1e-3..2.0f64,
        steps in 1usize..5,
    ) {
        let (l, g): (Vec<f64>, Vec<usize>) = pairs.into_iter().unzip();
        let mut rule = GroupDroConfig::new(4, eta).init().unwrap();
        for _ in 0..steps {
            let r = rule.reweight_grouped(&l, &g).unwrap();
            prop_assert!(r.weights.iter().all(|&w| w.is_finite() && w > 0.0));
            prop_assert!((r.stats.mean - 1.0).abs() < 1e-9);
        }
        prop_assert!((rule.group_weights().iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn ess_lies_between_one_and_the_batch_size(l in losses(), tau in tau()) {
        let mut rule = RuleConfig::Rgd(RgdConfig::new().with_tau(tau)).init().unwrap();
        let r = reweight_dyn(rule.as_mut(), &l, None).unwrap();
        prop_assert!(r.stats.ess >= 1.0 - 1e-9 && r.stats.ess <= l.len() as f64 * (1.0 + 1e-12));
    }
}
