//! The weights are detached: the autodiff gradient of mean(w * l) equals Σ w_i ∇l_i / B with
//! w held fixed (finite differences on an independent f64 reference), not the gradient through
//! w. And one RGD step with SGD equals one ERM step on the surrogate Phi(l) of method.md.

mod common;

use burn::optim::{GradientsParams, SgdConfig};
use burn::prelude::*;
use common::*;
use rgd::{RgdConfig, RuleConfig, TermConfig};
use rgd_burn::{Reweighter, loss};

const TAU: f64 = 1.0;

/// Central finite differences of `f` at `p`.
fn finite_differences(p: &[f64], f: impl Fn(&[f64]) -> f64) -> Vec<f64> {
    let h = 1e-6;
    (0..p.len())
        .map(|k| {
            let (mut up, mut down) = (p.to_vec(), p.to_vec());
            up[k] += h;
            down[k] -= h;
            (f(&up) - f(&down)) / (2.0 * h)
        })
        .collect()
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

#[test]
fn rgd_gradient_treats_the_weights_as_constants() {
    let device = Device::flex().autodiff();
    let p0 = params();
    let model = linear(&p0, &device);
    let (x, y) = inputs(&device);
    let mut rgd = Reweighter::new(&RuleConfig::Rgd(RgdConfig::new().with_tau(TAU))).unwrap();
    let out = rgd
        .apply(loss::cross_entropy(model.forward(x), y, 0.0).unwrap())
        .unwrap();
    let autodiff = flat_grads(&model, &out.loss.backward());

    let fixed_w: Vec<f64> = host_losses(&p0)
        .iter()
        .map(|&l| rgd_weight(l, TAU))
        .collect();
    for (w32, w64) in out.weights.iter().zip(&fixed_w) {
        assert!(
            (f64::from(*w32) - w64).abs() < 1e-6,
            "weights match the reference"
        );
    }
    let n = fixed_w.len() as f64;
    let detached = finite_differences(&p0, |p| {
        host_losses(p)
            .iter()
            .zip(&fixed_w)
            .map(|(l, w)| w * l)
            .sum::<f64>()
            / n
    });
    let through_weights = finite_differences(&p0, |p| {
        host_losses(p)
            .iter()
            .map(|&l| rgd_weight(l, TAU) * l)
            .sum::<f64>()
            / n
    });
    assert!(
        max_abs_diff(&autodiff, &detached) < 1e-5,
        "autodiff {autodiff:?} vs detached reference {detached:?}"
    );
    // The check has teeth: differentiating through w would give a clearly different gradient.
    assert!(max_abs_diff(&autodiff, &through_weights) > 1e-2);
}

#[test]
fn term_gradient_treats_the_normalised_weights_as_constants() {
    let device = Device::flex().autodiff();
    let p0 = params();
    let model = linear(&p0, &device);
    let (x, y) = inputs(&device);
    let mut term = Reweighter::new(&RuleConfig::Term(TermConfig::new(2.0))).unwrap();
    let out = term
        .apply(loss::cross_entropy(model.forward(x), y, 0.0).unwrap())
        .unwrap();
    let autodiff = flat_grads(&model, &out.loss.backward());
    let weights = |l: &[f64]| -> Vec<f64> {
        let e: Vec<f64> = l.iter().map(|l| (2.0 * l).exp()).collect();
        let mean = e.iter().sum::<f64>() / e.len() as f64;
        e.iter().map(|x| x / mean).collect()
    };
    let fixed_w = weights(&host_losses(&p0));
    let detached = finite_differences(&p0, |p| {
        host_losses(p)
            .iter()
            .zip(&fixed_w)
            .map(|(l, w)| w * l)
            .sum::<f64>()
            / 4.0
    });
    assert!(max_abs_diff(&autodiff, &detached) < 1e-5);
}

/// Phi of method.md in burn tensor ops: Phi'(l) = RGD weight.
fn surrogate(l: Tensor<1>, tau: f64) -> Tensor<1> {
    let temp = tau + 1.0;
    let below = l
        .clone()
        .clamp_max(tau)
        .div_scalar(temp)
        .exp()
        .sub_scalar(1.0)
        .mul_scalar(temp);
    let phi_tau = temp * ((tau / temp).exp() - 1.0);
    let above = l
        .clone()
        .sub_scalar(tau)
        .mul_scalar((tau / temp).exp())
        .add_scalar(phi_tau);
    below.mask_where(l.greater_elem(tau), above)
}

#[test]
fn one_rgd_step_equals_one_erm_step_on_the_surrogate() {
    // tau small enough that some losses are clipped, so both branches of Phi are exercised.
    for tau in [0.5, 1.0, 3.0] {
        let device = Device::flex().autodiff();
        let (x, y) = inputs(&device);
        let lr = 0.5;

        let model = linear(&params(), &device);
        let mut rgd = Reweighter::new(&RuleConfig::Rgd(RgdConfig::new().with_tau(tau))).unwrap();
        let out = rgd
            .apply(loss::cross_entropy(model.forward(x.clone()), y.clone(), 0.0).unwrap())
            .unwrap();
        let grads = GradientsParams::from_grads(out.loss.backward(), &model);
        let after_rgd = SgdConfig::new().init().step(lr, model, grads);

        let model = linear(&params(), &device);
        let l = loss::cross_entropy(model.forward(x), y, 0.0)
            .unwrap()
            .into_tensor();
        let erm = surrogate(l, tau).mean();
        let grads = GradientsParams::from_grads(erm.backward(), &model);
        let after_erm = SgdConfig::new().init().step(lr, model, grads);

        let (a, b) = (flat_params(&after_rgd), flat_params(&after_erm));
        assert!(max_abs_diff(&a, &b) < 1e-6, "tau {tau}: {a:?} vs {b:?}");
        assert!(
            max_abs_diff(&a, &params()) > 1e-3,
            "the step moved the parameters"
        );
    }
}
