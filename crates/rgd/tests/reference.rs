//! Every rule against an independent f64 reference written straight from the formulas of
//! method.md (no code shared with the crate).

use rgd::{
    AbsgdConfig, ChiSquareConfig, CvarConfig, Erm, GroupDroConfig, RgdConfig, Rule, TermConfig,
};

const BATCH: [f64; 8] = [0.05, 0.7, 1.9, 0.0, 3.4, 0.33, 1.0, 12.0];

fn assert_close(got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * w.abs().max(1.0),
            "weight {i}: got {g}, want {w}"
        );
    }
}

#[test]
fn erm_weights_are_one() {
    let w = Erm::default().reweight(&BATCH).unwrap().weights;
    assert_eq!(w, vec![1.0; BATCH.len()]);
}

#[test]
fn rgd_matches_the_formula_for_the_paper_grid() {
    for tau in [1.0 / 9.0, 1.0 / 7.0, 1.0 / 5.0, 1.0 / 3.0, 1.0, 3.0, 10.0] {
        let want: Vec<f64> = BATCH
            .iter()
            .map(|&l: &f64| (l.max(0.0).min(tau) / (tau + 1.0)).exp())
            .collect();
        let got = RgdConfig::new()
            .with_tau(tau)
            .init()
            .unwrap()
            .reweight(&BATCH)
            .unwrap();
        assert_close(&got.weights, &want, 1e-15);
        let clipped = BATCH.iter().filter(|&&l| l > tau).count() as f64 / BATCH.len() as f64;
        assert_eq!(got.stats.clipped_fraction, clipped);
    }
}

#[test]
fn rgd_worked_values_of_method_md() {
    // tau -> max weight: 1/9 -> 1.105, 1/3 -> 1.284, 1 -> 1.649, 3 -> 2.117, 10 -> 2.482.
    for (tau, max) in [
        (1.0 / 9.0, 1.105),
        (1.0 / 3.0, 1.284),
        (1.0, 1.649),
        (3.0, 2.117),
        (10.0, 2.482),
    ] {
        let rule = RgdConfig::new().with_tau(tau).init().unwrap();
        assert!((rule.weight(1e6) - max).abs() < 5e-4, "tau {tau}");
    }
    let rule = RgdConfig::new().init().unwrap();
    for (l, w) in [(0.1, 1.051), (0.5, 1.284), (2.0, 1.649)] {
        assert!((rule.weight(l) - w).abs() < 5e-4, "loss {l}");
    }
}

#[test]
fn rgd_negative_losses_are_clamped_at_zero_inside_the_weight_only() {
    let mut rule = RgdConfig::new().init().unwrap();
    let losses = [-3.0, -0.1, 0.0];
    let r = rule.reweight(&losses).unwrap();
    assert_eq!(r.weights, vec![1.0, 1.0, 1.0]);
    assert_eq!(r.weighted_mean(&losses), (-3.1) / 3.0);
}

#[test]
fn rgd_normalised_divides_by_the_batch_mean() {
    let tau = 1.0;
    let raw: Vec<f64> = BATCH
        .iter()
        .map(|&l: &f64| (l.min(tau) / 2.0).exp())
        .collect();
    let mean = raw.iter().sum::<f64>() / raw.len() as f64;
    let want: Vec<f64> = raw.iter().map(|w| w / mean).collect();
    let mut rule = RgdConfig::new().with_normalize(true).init().unwrap();
    assert_close(&rule.reweight(&BATCH).unwrap().weights, &want, 1e-14);
}

#[test]
fn rgd_warmup_runs_plain_erm_first() {
    let mut rule = RgdConfig::new().with_warmup_steps(2).init().unwrap();
    for _ in 0..2 {
        assert_eq!(
            rule.reweight(&BATCH).unwrap().weights,
            vec![1.0; BATCH.len()]
        );
    }
    assert!(rule.reweight(&BATCH).unwrap().stats.max > 1.6);
}

#[test]
fn term_matches_the_formula_both_signs() {
    for t in [-2.0, -0.5, 0.0, 0.3, 1.0, 4.0] {
        let e: Vec<f64> = BATCH.iter().map(|&l: &f64| (t * l).exp()).collect();
        let mean = e.iter().sum::<f64>() / e.len() as f64;
        let want: Vec<f64> = e.iter().map(|x| x / mean).collect();
        let got = TermConfig::new(t).init().unwrap().reweight(&BATCH).unwrap();
        assert_close(&got.weights, &want, 1e-12);
        assert!((got.stats.mean - 1.0).abs() < 1e-12);
    }
}

#[test]
fn absgd_matches_a_direct_moving_average() {
    let (lambda, gamma) = (2.0, 0.3);
    let batches = [&BATCH[..4], &BATCH[4..], &BATCH[2..7]];
    let mut rule = AbsgdConfig::new(lambda).with_gamma(gamma).init().unwrap();
    let mut u: Option<f64> = None;
    for batch in batches {
        let mean_exp =
            batch.iter().map(|&l: &f64| (l / lambda).exp()).sum::<f64>() / batch.len() as f64;
        let next = match u {
            None => mean_exp,
            Some(old) => (1.0 - gamma) * old + gamma * mean_exp,
        };
        u = Some(next);
        let want: Vec<f64> = batch
            .iter()
            .map(|&l: &f64| (l / lambda).exp() / next)
            .collect();
        assert_close(&rule.reweight(batch).unwrap().weights, &want, 1e-12);
    }
}

#[test]
fn absgd_negative_lambda_downweights_hard_examples() {
    let w = AbsgdConfig::new(-1.0)
        .init()
        .unwrap()
        .reweight(&BATCH)
        .unwrap()
        .weights;
    assert!(w[7] < w[0], "the largest loss gets the smallest weight");
}

#[test]
fn cvar_keeps_exactly_the_top_k() {
    // Sorted descending: 12.0 (7), 3.4 (4), 1.9 (2), 1.0 (6), 0.7 (1), ...
    for (alpha, top) in [
        (0.125, vec![7]),
        (0.25, vec![7, 4]),
        (0.5, vec![7, 4, 2, 6]),
    ] {
        let got = CvarConfig::new(alpha)
            .init()
            .unwrap()
            .reweight(&BATCH)
            .unwrap();
        let k = top.len() as f64;
        for (i, w) in got.weights.iter().enumerate() {
            let want = if top.contains(&i) { 8.0 / k } else { 0.0 };
            assert_eq!(*w, want, "alpha {alpha} weight {i}");
        }
    }
    let all = CvarConfig::new(1.0)
        .init()
        .unwrap()
        .reweight(&BATCH)
        .unwrap();
    assert_eq!(all.weights, vec![1.0; 8]);
}

/// Chi-square reference: maximise Σ q l over the simplex within the ball, by dense search over
/// eta of the closed-form family q ∝ (l - eta)_+ (independent of the crate's bisection).
fn chi_square_reference(losses: &[f64], rho: f64) -> Vec<f64> {
    let n = losses.len() as f64;
    let weights_at = |eta: f64| -> Vec<f64> {
        let total: f64 = losses.iter().map(|&l| (l - eta).max(0.0)).sum();
        losses
            .iter()
            .map(|&l| n * (l - eta).max(0.0) / total)
            .collect()
    };
    let divergence = |w: &[f64]| w.iter().map(|w| (w - 1.0) * (w - 1.0)).sum::<f64>() / (2.0 * n);
    let max = losses.iter().cloned().fold(f64::MIN, f64::max);
    let mut lo = -1e6;
    let mut hi = max;
    for _ in 0..400 {
        let mid = 0.5 * (lo + hi);
        if divergence(&weights_at(mid)) > rho {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    weights_at(lo)
}

#[test]
fn chi_square_matches_a_bisection_reference_and_saturates_the_ball() {
    for rho in [0.01, 0.1, 0.5, 1.0, 2.0] {
        let want = chi_square_reference(&BATCH, rho);
        let got = ChiSquareConfig::new(rho)
            .init()
            .unwrap()
            .reweight(&BATCH)
            .unwrap();
        assert_close(&got.weights, &want, 1e-6);
        let d = got.weights.iter().map(|w| (w - 1.0).powi(2)).sum::<f64>() / 16.0;
        assert!((d - rho).abs() < 1e-8, "rho {rho}: divergence {d}");
        assert!((got.stats.mean - 1.0).abs() < 1e-12);
    }
}

#[test]
fn chi_square_concentrates_on_the_largest_loss_when_the_ball_is_large() {
    // All mass on one of 8 examples has divergence (49 + 7) / 16 = 3.5.
    let got = ChiSquareConfig::new(3.5)
        .init()
        .unwrap()
        .reweight(&BATCH)
        .unwrap();
    let mut want = vec![0.0; 8];
    want[7] = 8.0;
    assert_eq!(got.weights, want);
}

#[test]
fn group_dro_matches_the_exponentiated_gradient_recursion() {
    let eta = 0.5;
    let groups = [0, 1, 1, 2, 0, 2, 2, 1];
    let mut q = [1.0 / 3.0; 3];
    let mut rule = GroupDroConfig::new(3, eta).init().unwrap();
    for step in 0..3 {
        let losses: Vec<f64> = BATCH.iter().map(|l| l * (1.0 + step as f64)).collect();
        let mut sums = [0.0; 3];
        let mut counts = [0.0; 3];
        for (&g, &l) in groups.iter().zip(&losses) {
            sums[g] += l;
            counts[g] += 1.0;
        }
        for g in 0..3 {
            q[g] *= (eta * sums[g] / counts[g]).exp();
        }
        let total: f64 = q.iter().sum();
        q.iter_mut().for_each(|x| *x /= total);
        let want: Vec<f64> = groups.iter().map(|&g| 8.0 * q[g] / counts[g]).collect();
        let got = rule.reweight_grouped(&losses, &groups).unwrap();
        assert_close(&got.weights, &want, 1e-12);
        assert_close(&rule.group_weights(), &q, 1e-12);
    }
}

#[test]
fn group_dro_renormalises_over_the_groups_present() {
    let mut rule = GroupDroConfig::new(3, 1.0).init().unwrap();
    rule.reweight_grouped(&[5.0, 0.0, 0.0], &[2, 0, 1]).unwrap();
    let r = rule.reweight_grouped(&[1.0, 1.0], &[0, 1]).unwrap();
    assert!(
        (r.stats.mean - 1.0).abs() < 1e-12,
        "group 2 is absent: mean {}",
        r.stats.mean
    );
}

#[test]
fn f32_input_gets_f64_accurate_weights() {
    let losses32: Vec<f32> = BATCH.iter().map(|&l| l as f32).collect();
    let widened: Vec<f64> = losses32.iter().map(|&l| f64::from(l)).collect();
    let mut rule32 = RgdConfig::new().init().unwrap();
    let mut rule64 = RgdConfig::new().init().unwrap();
    let w32 = rule32.reweight(&losses32).unwrap().weights;
    let w64 = rule64.reweight(&widened).unwrap().weights;
    for (a, b) in w32.iter().zip(&w64) {
        assert_eq!(*a, *b as f32);
    }
}
