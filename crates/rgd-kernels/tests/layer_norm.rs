//! The layer-norm kernel against burn's `layer_norm` (the op of burn-nn's `LayerNorm`) and an
//! f64 evaluation of the definition: values and the gradients of the input, the scale and the shift on random shapes (one column, rows
//! beyond one block of the kernel's threads, rows far from zero mean), a finite-difference check
//! of the input gradient by central differences, and the routing to burn's op.

use burn::tensor::{Device, Tensor, TensorData};
use proptest::prelude::*;
use rgd_kernels::EncoderPath;
use rgd_kernels::layer_norm::layer_norm;

mod common;

const EPSILON: f64 = 1e-5;

fn tensor<const D: usize>(shape: [usize; D], values: Vec<f32>, device: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(values, shape), device)
}

fn data<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

/// Rows `[n, d]` of values `offset + scale · u`, `u` uniform in [-1, 1).
fn rows(n: usize, d: usize, seed: u64, offset: f32, scale: f32) -> Vec<f32> {
    let u = common::uniform(n * d, seed);
    u.into_iter().map(|u| offset + scale * u).collect()
}

/// The output and the gradients of `Σ r ⊙ y` for x, γ and β, on `path`.
fn compute(n: usize, d: usize, seed: u64, offset: f32, path: EncoderPath) -> [Vec<f32>; 4] {
    let device = Device::flex().autodiff();
    let x = tensor([n, d], rows(n, d, seed, offset, 2.0), &device).require_grad();
    let gamma = tensor([d], rows(1, d, seed + 1, 1.0, 0.5), &device).require_grad();
    let beta = tensor([d], rows(1, d, seed + 2, 0.0, 0.5), &device).require_grad();
    let y = layer_norm(x.clone(), gamma.clone(), beta.clone(), EPSILON, path);
    let r = tensor([n, d], rows(n, d, seed + 3, 0.0, 1.0), &device);
    let grads = (y.clone() * r).sum().backward();
    [
        data(y),
        data(x.grad(&grads).unwrap()),
        data(gamma.grad(&grads).unwrap()),
        data(beta.grad(&grads).unwrap()),
    ]
}

/// The output and the three gradients of `Σ r ⊙ y` in f64 from the definition: the exact
/// values the f32 computations round.
fn exact(n: usize, d: usize, seed: u64, offset: f32) -> [Vec<f32>; 4] {
    let f64s = |v: Vec<f32>| v.into_iter().map(f64::from).collect::<Vec<_>>();
    let x = f64s(rows(n, d, seed, offset, 2.0));
    let (gamma, beta) = (
        f64s(rows(1, d, seed + 1, 1.0, 0.5)),
        f64s(rows(1, d, seed + 2, 0.0, 0.5)),
    );
    let r = f64s(rows(n, d, seed + 3, 0.0, 1.0));
    let (mut y, mut dx, mut dgamma, mut dbeta) = (
        vec![0.0; n * d],
        vec![0.0; n * d],
        vec![0.0; d],
        vec![0.0; d],
    );
    for row in 0..n {
        let at = |v: &[f64], i: usize| v[row * d + i];
        let mean = (0..d).map(|i| at(&x, i)).sum::<f64>() / d as f64;
        let var = (0..d).map(|i| (at(&x, i) - mean).powi(2)).sum::<f64>() / d as f64;
        let rstd = 1.0 / (var + EPSILON).sqrt();
        let xhat: Vec<f64> = (0..d).map(|i| (at(&x, i) - mean) * rstd).collect();
        let g: Vec<f64> = (0..d).map(|i| at(&r, i) * gamma[i]).collect();
        let mean_g = g.iter().sum::<f64>() / d as f64;
        let mean_gx = g.iter().zip(&xhat).map(|(g, x)| g * x).sum::<f64>() / d as f64;
        for i in 0..d {
            y[row * d + i] = xhat[i] * gamma[i] + beta[i];
            dx[row * d + i] = rstd * (g[i] - mean_g - xhat[i] * mean_gx);
            dgamma[i] += at(&r, i) * xhat[i];
            dbeta[i] += at(&r, i);
        }
    }
    let f32s = |v: Vec<f64>| v.into_iter().map(|v| v as f32).collect();
    [f32s(y), f32s(dx), f32s(dgamma), f32s(dbeta)]
}

/// Ours within `1e-5 (1 + |offset|)` of burn's, relative to the largest of burn's magnitudes
/// (at least 1): the inputs' own rounding grows with their offset, and the input gradient
/// scales it by `1/σ`; or, where rounding dominates, no further from the exact value than twice
/// burn's own error.
fn check(n: usize, d: usize, seed: u64, offset: f32) {
    let ours = compute(n, d, seed, offset, EncoderPath::FusedNorm);
    let burn = compute(n, d, seed, offset, EncoderPath::Burn);
    let exact = exact(n, d, seed, offset);
    let names = ["y", "dx", "dgamma", "dbeta"];
    for (what, ((a, b), e)) in names.iter().zip(ours.iter().zip(&burn).zip(&exact)) {
        let scale = b.iter().fold(1.0f32, |m, v| m.max(v.abs()));
        for (i, ((a, b), e)) in a.iter().zip(b).zip(e).enumerate() {
            let as_burn = (a - b).abs() <= 1e-5 * scale * (1.0 + offset.abs());
            let as_accurate = (a - e).abs() <= 2.0 * (b - e).abs();
            assert!(
                as_burn || as_accurate,
                "{what}[{i}]: {a} vs burn's {b}, exact {e} (n {n}, d {d}, seed {seed}, offset {offset})"
            );
        }
    }
}

#[test]
fn layer_norm_matches_burn_on_the_lab_shapes() {
    // The ViT's 64 · 17 token rows of 128, its 64 class tokens, and one row of one column
    // (σ = 0: the output is β).
    check(64 * 17, 128, 3, 0.0);
    check(64, 128, 4, 0.5);
    check(1, 1, 5, 0.0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn layer_norm_matches_burn_on_random_shapes(
        n in 1usize..80,
        d in 1usize..40,
        seed in 0u64..1000,
        offset in prop::sample::select(vec![0.0f32, 3.0, -20.0]),
    ) {
        check(n, d, seed, offset);
    }
}

#[test]
fn the_input_gradient_matches_finite_differences() {
    let (n, d, h) = (3, 5, 1e-2f32);
    let device = Device::flex().autodiff();
    let xs = rows(n, d, 9, 0.0, 2.0);
    let gamma = rows(1, d, 10, 1.0, 0.5);
    let beta = rows(1, d, 11, 0.0, 0.5);
    let weights = rows(n, d, 12, 0.0, 1.0);
    let loss = |x: Tensor<2>| {
        let g = tensor([d], gamma.clone(), &device);
        let b = tensor([d], beta.clone(), &device);
        let y = layer_norm(x, g, b, EPSILON, EncoderPath::FusedNorm);
        (y * tensor([n, d], weights.clone(), &device)).sum()
    };
    let x = tensor([n, d], xs.clone(), &device).require_grad();
    let analytic = data(x.grad(&loss(x.clone()).backward()).unwrap());
    for i in 0..n * d {
        let shifted = |delta: f32| {
            let mut v = xs.clone();
            v[i] += delta;
            data(loss(tensor([n, d], v, &device)))[0]
        };
        let numeric = (shifted(h) - shifted(-h)) / (2.0 * h);
        assert!(
            (numeric - analytic[i]).abs() <= 2e-3 * (1.0 + analytic[i].abs()),
            "dx[{i}]: finite difference {numeric} vs {}",
            analytic[i]
        );
    }
}

#[test]
fn off_the_fused_norm_path_it_is_burns_op_bit_for_bit() {
    let device = Device::flex();
    let x = tensor([7, 6], rows(7, 6, 13, 1.0, 2.0), &device);
    let gamma = tensor([6], rows(1, 6, 14, 1.0, 0.5), &device);
    let beta = tensor([6], rows(1, 6, 15, 0.0, 0.5), &device);
    let burn = data(burn::tensor::module::layer_norm(
        x.clone(),
        gamma.clone(),
        Some(beta.clone()),
        EPSILON,
    ));
    for path in [EncoderPath::Fused, EncoderPath::Burn] {
        let y = layer_norm(x.clone(), gamma.clone(), beta.clone(), EPSILON, path);
        assert_eq!(data(y), burn, "{path:?}");
    }
    // And the kernel's values differ from burn's only by rounding.
    let fused = data(layer_norm(x, gamma, beta, EPSILON, EncoderPath::FusedNorm));
    let worst = fused
        .iter()
        .zip(&burn)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(worst < 1e-5, "largest difference {worst}");
}
