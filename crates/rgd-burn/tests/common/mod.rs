//! Shared fixtures: a tiny linear classifier with fixed weights, and an f64 host reference of
//! it, written independently of the crate.

#![allow(dead_code)]

use burn::module::Param;
use burn::nn::Linear;
use burn::prelude::*;

pub const D_IN: usize = 3;
pub const CLASSES: usize = 2;
pub const X: [[f64; D_IN]; 4] = [
    [0.5, -1.0, 2.0],
    [1.5, 0.3, -0.7],
    [-0.2, 0.8, 0.1],
    [2.2, -1.4, 0.9],
];
pub const Y: [usize; 4] = [0, 1, 1, 0];
/// Weight `[D_IN, CLASSES]` (burn's layout: input rows, output columns) and bias.
pub const W: [[f64; CLASSES]; D_IN] = [[0.4, -0.3], [0.1, 0.6], [-0.5, 0.2]];
pub const B: [f64; CLASSES] = [0.05, -0.1];

/// Flattened parameters: W row-major, then b.
pub fn params() -> Vec<f64> {
    W.iter().flatten().chain(B.iter()).copied().collect()
}

pub fn linear(params: &[f64], device: &Device) -> Linear {
    let w: Vec<f32> = params[..D_IN * CLASSES].iter().map(|&v| v as f32).collect();
    let b: Vec<f32> = params[D_IN * CLASSES..].iter().map(|&v| v as f32).collect();
    Linear {
        weight: Param::from_data(TensorData::new(w, [D_IN, CLASSES]), device),
        bias: Some(Param::from_data(TensorData::new(b, [CLASSES]), device)),
    }
}

pub fn inputs(device: &Device) -> (Tensor<2>, Tensor<1, Int>) {
    let x: Vec<f32> = X.iter().flatten().map(|&v| v as f32).collect();
    let y: Vec<i64> = Y.iter().map(|&v| v as i64).collect();
    (
        Tensor::from_data(TensorData::new(x, [X.len(), D_IN]), device),
        Tensor::from_data(TensorData::new(y, [Y.len()]), device),
    )
}

/// Host f64 log-softmax of the linear model, one row per example.
pub fn host_log_softmax(params: &[f64]) -> Vec<Vec<f64>> {
    X.iter()
        .map(|x| {
            let logits: Vec<f64> = (0..CLASSES)
                .map(|c| {
                    params[D_IN * CLASSES + c]
                        + (0..D_IN)
                            .map(|d| x[d] * params[d * CLASSES + c])
                            .sum::<f64>()
                })
                .collect();
            let max = logits.iter().cloned().fold(f64::MIN, f64::max);
            let lse = max + logits.iter().map(|z| (z - max).exp()).sum::<f64>().ln();
            logits.iter().map(|z| z - lse).collect()
        })
        .collect()
}

/// Host f64 per-example cross-entropy of the linear model.
pub fn host_losses(params: &[f64]) -> Vec<f64> {
    host_log_softmax(params)
        .iter()
        .zip(Y)
        .map(|(lp, y)| -lp[y])
        .collect()
}

/// RGD weight, straight from method.md.
pub fn rgd_weight(loss: f64, tau: f64) -> f64 {
    (loss.clamp(0.0, tau) / (tau + 1.0)).exp()
}

pub fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data()
        .try_into_vec_as::<f32>()
        .unwrap()
        .into_iter()
        .map(f64::from)
        .collect()
}

/// Autodiff gradient of the linear model's parameters, flattened like [`params`].
pub fn flat_grads(model: &Linear, grads: &burn::tensor::Gradients) -> Vec<f64> {
    let mut g = to_vec(model.weight.val().grad(grads).unwrap());
    g.extend(to_vec(
        model.bias.as_ref().unwrap().val().grad(grads).unwrap(),
    ));
    g
}

pub fn flat_params(model: &Linear) -> Vec<f64> {
    let mut p = to_vec(model.weight.val());
    p.extend(to_vec(model.bias.as_ref().unwrap().val()));
    p
}
