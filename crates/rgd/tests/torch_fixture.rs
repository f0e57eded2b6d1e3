//! Check values from an independent implementation: reference/torch_reference.py (PyTorch,
//! float64), committed as reference/torch_fixture.json. Matched to 1e-6.

use rgd::{ChiSquareConfig, CvarConfig, RgdConfig, Rule, TermConfig};
use serde_json::Value;

fn fixture() -> Value {
    let text = include_str!("../../../reference/torch_fixture.json");
    serde_json::from_str(text).expect("reference/torch_fixture.json is valid JSON")
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn check(section: &str, knob: &str, weights: impl FnMut(f64, &[f64]) -> Vec<f64>) {
    check_where(section, knob, |_, _| true, weights);
}

/// [`check`] on the cases whose knob value passes `keep(knob, batch size)`.
fn check_where(
    section: &str,
    knob: &str,
    keep: impl Fn(f64, usize) -> bool,
    mut weights: impl FnMut(f64, &[f64]) -> Vec<f64>,
) {
    let fx = fixture();
    let losses = floats(&fx["losses"]);
    let cases = fx[section].as_array().unwrap();
    assert!(!cases.is_empty());
    let mut checked = 0;
    for case in cases {
        let k = case[knob].as_f64().unwrap();
        if !keep(k, losses.len()) {
            continue;
        }
        checked += 1;
        let want = floats(&case["weights"]);
        let got = weights(k, &losses);
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!(
                (g - w).abs() < 1e-6,
                "{section} {knob}={k} weight {i}: {g} vs torch {w}"
            );
        }
    }
    assert!(checked > 0, "no {section} case checked");
}

#[test]
fn rgd_matches_torch() {
    check("rgd", "tau", |tau, l| {
        RgdConfig::new()
            .with_tau(tau)
            .init()
            .unwrap()
            .reweight(l)
            .unwrap()
            .weights
    });
}

#[test]
fn term_matches_torch() {
    check("term", "tilt", |t, l| {
        TermConfig::new(t)
            .init()
            .unwrap()
            .reweight(l)
            .unwrap()
            .weights
    });
}

#[test]
fn cvar_matches_torch() {
    // Only the cases with alpha B an integer, where the exact CVaR equals top-k: the fixture's
    // cvar() in reference/torch_reference.py is still the old top-k rule (B/k on k = ceil(alpha
    // B)), which differs on fractional alpha B (its alpha 0.3 on 8). Check every case again once
    // the script implements the exact rule and the fixture is regenerated.
    let integer = |a: f64, b: usize| {
        let exact = a * b as f64;
        (exact - exact.round()).abs() <= 1e-9 * exact
    };
    check_where("cvar", "alpha", integer, |a, l| {
        CvarConfig::new(a)
            .init()
            .unwrap()
            .reweight(l)
            .unwrap()
            .weights
    });
}

#[test]
fn chi_square_matches_torch() {
    check("chi2", "rho", |r, l| {
        ChiSquareConfig::new(r)
            .init()
            .unwrap()
            .reweight(l)
            .unwrap()
            .weights
    });
}
