//! The RGD gradient of a tiny linear model matches PyTorch (reference/torch_fixture.json, made by
//! reference/torch_reference.py) to 1e-6.

mod common;

use burn::prelude::*;
use common::*;
use rgd::{RgdConfig, RuleConfig};
use rgd_burn::{Reweighter, loss};
use serde_json::Value;

fn floats(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(items) => items.iter().flat_map(floats).collect(),
        other => vec![other.as_f64().unwrap()],
    }
}

#[test]
fn rgd_gradient_of_a_linear_model_matches_torch() {
    let fx: Value =
        serde_json::from_str(include_str!("../../../reference/torch_fixture.json")).unwrap();
    let cases = fx["linear"].as_array().unwrap();
    assert_eq!(cases.len(), 3);
    for case in cases {
        let tau = case["tau"].as_f64().unwrap();
        let device = Device::flex().autodiff();
        let model = linear(&params(), &device);
        let (x, y) = inputs(&device);
        let mut rgd = Reweighter::new(&RuleConfig::Rgd(RgdConfig::new().with_tau(tau))).unwrap();
        let out = rgd
            .apply(loss::cross_entropy(model.forward(x), y, 0.0).unwrap())
            .unwrap();
        let got_losses: Vec<f64> = out.losses.iter().map(|&v| f64::from(v)).collect();
        let got_weights: Vec<f64> = out.weights.iter().map(|&v| f64::from(v)).collect();
        let got_grads = flat_grads(&model, &out.loss.backward());
        let mut want_grads = floats(&case["grad_weight"]);
        want_grads.extend(floats(&case["grad_bias"]));
        for (name, got, want) in [
            ("losses", got_losses, floats(&case["losses"])),
            ("weights", got_weights, floats(&case["weights"])),
            ("gradient", got_grads, want_grads),
        ] {
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    (g - w).abs() < 1e-6,
                    "tau {tau} {name}: {got:?} vs torch {want:?}"
                );
            }
        }
    }
}
