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

/// CVaR weights straight from the definition, without sorting: `w_i = B q_i` with `q_i =
/// min(cap, max(0, 1 - g_i cap))`, `cap = 1/(alpha B)` and `g_i` the number of examples ahead of
/// `i` (larger loss, or equal loss and earlier in the batch): the mass left once every example
/// ahead of `i` has taken its cap.
fn cvar_reference(losses: &[f64], alpha: f64) -> Vec<f64> {
    let b = losses.len() as f64;
    let cap = 1.0 / (alpha * b);
    (0..losses.len())
        .map(|i| {
            let ahead = (0..losses.len())
                .filter(|&j| losses[j] > losses[i] || (losses[j] == losses[i] && j < i))
                .count() as f64;
            b * (1.0 - ahead * cap).max(0.0).min(cap)
        })
        .collect()
}

/// CVaR value by Rockafellar-Uryasev: `min_eta eta + 1/(alpha B) Σ (l_i - eta)_+`, the minimum
/// of a convex piecewise-linear function of eta, attained at one of the losses.
fn cvar_value_rockafellar_uryasev(losses: &[f64], alpha: f64) -> f64 {
    let scale = 1.0 / (alpha * losses.len() as f64);
    losses
        .iter()
        .map(|&eta| eta + scale * losses.iter().map(|&l| (l - eta).max(0.0)).sum::<f64>())
        .fold(f64::INFINITY, f64::min)
}

/// The top-k rule the crate used before the exact CVaR: `B/k` on the `k` largest losses (stable
/// sort by descending loss, earlier first), 0 elsewhere.
fn top_k(losses: &[f64], k: usize) -> Vec<f64> {
    let mut order: Vec<usize> = (0..losses.len()).collect();
    order.sort_by(|&a, &b| losses[b].total_cmp(&losses[a]));
    let mut w = vec![0.0; losses.len()];
    for &i in &order[..k] {
        w[i] = losses.len() as f64 / k as f64;
    }
    w
}

fn cvar_weights(alpha: f64, losses: &[f64]) -> Vec<f64> {
    CvarConfig::new(alpha)
        .init()
        .unwrap()
        .reweight(losses)
        .unwrap()
        .weights
}

/// A small deterministic generator (xorshift64*), so the reference test needs no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn cvar_matches_the_definition_and_the_rockafellar_uryasev_value_on_random_batches() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut fractional = 0;
    for case in 0..3000 {
        let b = 1 + rng.below(96);
        let losses: Vec<f64> = (0..b)
            .map(|_| match case % 3 {
                // Many ties: losses on a coarse grid.
                0 => rng.below(4) as f64 * 0.5,
                1 => rng.uniform() * 20.0,
                _ => (rng.uniform() * 6.0).exp() - 1.0,
            })
            .collect();
        let alpha = match case % 4 {
            0 => 1.0 - rng.uniform(),
            1 => 0.05 + 0.1 * rng.below(10) as f64,
            2 => (1 + rng.below(b)) as f64 / b as f64,
            _ => 0.2 / b as f64 * (1.0 - rng.uniform()),
        };
        let exact = alpha * b as f64;
        if (exact - exact.round()).abs() > 1e-6 {
            fractional += 1;
        }
        let got = cvar_weights(alpha, &losses);
        assert_close(&got, &cvar_reference(&losses, alpha), 1e-12);
        for &w in &got {
            assert!(
                (0.0..=(1.0 + 1e-9) / alpha).contains(&w),
                "case {case}: weight {w} outside [0, 1/alpha], alpha {alpha}"
            );
        }
        let mean = got.iter().sum::<f64>() / b as f64;
        assert!((mean - 1.0).abs() < 1e-12, "case {case}: mean {mean}");
        let value = got.iter().zip(&losses).map(|(w, l)| w * l).sum::<f64>() / b as f64;
        let want = cvar_value_rockafellar_uryasev(&losses, alpha);
        assert!(
            (value - want).abs() <= 1e-12 * want.abs().max(1e-300),
            "case {case}: CVaR {value}, Rockafellar-Uryasev {want} (alpha {alpha}, B {b})"
        );
    }
    assert!(
        fractional > 1000,
        "only {fractional} fractional alpha B cases"
    );
}

#[test]
fn cvar_worked_example_alpha_0_1_on_64() {
    // alpha B = 6.4: weight 1/alpha = 10 on the six largest, 64 - 60 = 4 on the seventh (top-k
    // would put 64/7 = 9.14 on seven). Losses in scrambled order.
    let losses: Vec<f64> = (0..64).map(|i| ((i * 37) % 64) as f64).collect();
    let got = cvar_weights(0.1, &losses);
    for (i, (&w, &l)) in got.iter().zip(&losses).enumerate() {
        let want = match l {
            58.0..=63.0 => 10.0,
            57.0 => 4.0,
            _ => 0.0,
        };
        assert_eq!(w, want, "weight {i} (loss {l})");
    }
    let rule = CvarConfig::new(0.1).init().unwrap();
    assert_eq!(rule.kept(64), 7);
}

#[test]
fn cvar_on_a_fractional_alpha_b_puts_the_remainder_on_the_next_loss() {
    // Sorted descending: 12.0 (7), 3.4 (4), 1.9 (2), 1.0 (6), 0.7 (1), ...
    // alpha 0.3, B 8: alpha B = 2.4, cap 1/0.3 on two, 8 - 2/0.3 = 4/3 on the third.
    let got = cvar_weights(0.3, &BATCH);
    let mut want = vec![0.0; 8];
    want[7] = 1.0 / 0.3;
    want[4] = 1.0 / 0.3;
    want[2] = 8.0 - 2.0 / 0.3;
    assert_close(&got, &want, 1e-15);
    assert!((want[2] - 4.0 / 3.0).abs() < 1e-12);
}

#[test]
fn cvar_alpha_one_is_erm() {
    assert_eq!(cvar_weights(1.0, &BATCH), vec![1.0; 8]);
    assert_eq!(cvar_weights(1.0, &[2.0, 2.0, 2.0]), vec![1.0; 3]);
}

#[test]
fn cvar_below_one_example_puts_all_mass_on_the_largest_loss() {
    // alpha B = 0.5 < 1: the cap 1/(alpha B) = 2 exceeds 1, so q = 1 on the largest: weight B.
    let losses = [0.3, 4.0, 1.0, 4.0, 2.0];
    let got = cvar_weights(0.1, &losses);
    // Tie at the top: the earlier example wins.
    assert_eq!(got, vec![0.0, 5.0, 0.0, 0.0, 0.0]);
    assert_eq!(got, cvar_reference(&losses, 0.1));
    assert_eq!(cvar_value_rockafellar_uryasev(&losses, 0.1), 4.0);
    assert_eq!(cvar_weights(0.01, &BATCH)[7], 8.0);
}

#[test]
fn cvar_ties_go_to_earlier_examples() {
    // alpha B = 2.5 on equal losses: 2 at the cap 1/alpha = 2, 5 - 4 = 1 on the third.
    let got = cvar_weights(0.5, &[1.0; 5]);
    assert_eq!(got, vec![2.0, 2.0, 1.0, 0.0, 0.0]);
}

#[test]
fn cvar_with_integer_alpha_b_is_bit_identical_to_top_k() {
    // Committed meta-learning records used alpha 0.5 on batches of 4.
    let four = [0.7, 0.2, 1.5, 0.2];
    for (alpha, losses, k) in [
        (0.5, &four[..], 2),
        (0.25, &four[..], 1),
        (0.75, &four[..], 3),
        (0.125, &BATCH[..], 1),
        (0.25, &BATCH[..], 2),
        (0.5, &BATCH[..], 4),
        (0.375, &BATCH[..], 3),
        (1.0, &BATCH[..], 8),
    ] {
        let got = cvar_weights(alpha, losses);
        let want = top_k(losses, k);
        let bits = |w: &[f64]| w.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&got), bits(&want), "alpha {alpha}, B {}", losses.len());
    }
    // alpha B = 0.3 * 10 = 3.0000000000000004 counts as exactly 3.
    let ten: Vec<f64> = (0..10).map(|i| ((i * 7) % 10) as f64).collect();
    let got = cvar_weights(0.3, &ten);
    let want = top_k(&ten, 3);
    assert!(
        got.iter()
            .zip(&want)
            .all(|(a, b)| a.to_bits() == b.to_bits())
    );
    for alpha in [0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9] {
        let k = (alpha * 10.0_f64).round() as usize;
        let got = cvar_weights(alpha, &ten);
        let want = top_k(&ten, k);
        assert!(
            got.iter()
                .zip(&want)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "alpha {alpha}: {got:?} vs {want:?}"
        );
    }
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
