//! The transformer-block kernels against burn's own ops: attention (values and the gradients of
//! queries, keys and values, with and without a padding mask and a dropout mask, on random
//! shapes with odd sizes),
//! a finite-difference check of its gradient, GELU's values and gradient, and the routing to
//! burn's ops off the fused path.

use burn::tensor::{Bool, Device, Tensor, TensorData};
use proptest::prelude::*;
use rgd_kernels::EncoderPath;
use rgd_kernels::attention::{Masks, attention, burn_attention};
use rgd_kernels::gelu::gelu;

mod common;

const MIN_FLOAT: f32 = -1.0e4;

/// Deterministic values in [-scale, scale).
fn values(n: usize, seed: u64, scale: f32) -> Vec<f32> {
    common::uniform(n, seed)
        .into_iter()
        .map(|v| v * scale)
        .collect()
}

fn tensor<const D: usize>(shape: [usize; D], seed: u64, scale: f32, device: &Device) -> Tensor<D> {
    let n = shape.iter().product();
    Tensor::from_data(TensorData::new(values(n, seed, scale), shape), device)
}

fn data<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

/// A padding mask `[B, T]`: sequence `b` keeps its first `T − b mod T` tokens (the last
/// sequence of a batch of more than `T` is all padding).
fn padding(b: usize, t: usize, device: &Device) -> Tensor<2, Bool> {
    let flags: Vec<bool> = (0..b)
        .flat_map(|s| (0..t).map(move |j| j >= t - s % (t + 1)))
        .collect();
    Tensor::from_data(TensorData::new(flags, [b, t]), device)
}

/// A dropout keep mask `[B, H, T, T]` of probability 0.25, scaled as burn-nn's `Dropout`
/// scales it: each factor `0` or `1 / 0.75`.
fn dropout(shape: [usize; 4], seed: u64, device: &Device) -> Tensor<4> {
    let n = shape.iter().product();
    let keep = values(n, seed, 1.0)
        .into_iter()
        .map(|u| if u < -0.5 { 0.0 } else { 1.0 / 0.75 })
        .collect();
    Tensor::from_data(TensorData::new(keep, shape), device)
}

#[derive(Debug, Clone)]
struct Case {
    batch: usize,
    tokens: usize,
    heads: usize,
    head_dim: usize,
    masked: bool,
    dropped: bool,
    seed: u64,
}

/// The output and the gradients of `Σ r · O` for q, k and v, with the fused kernel or burn's ops.
fn compute(case: &Case, fused: bool) -> [Vec<f32>; 4] {
    let device = Device::flex().autodiff();
    let shape = [case.batch, case.tokens, case.heads * case.head_dim];
    let q = tensor(shape, case.seed, 1.5, &device).require_grad();
    let k = tensor(shape, case.seed + 1, 1.5, &device).require_grad();
    let v = tensor(shape, case.seed + 2, 1.0, &device).require_grad();
    let mask = case
        .masked
        .then(|| padding(case.batch, case.tokens, &device));
    let (b, h, t) = (case.batch, case.heads, case.tokens);
    let masks = Masks {
        padding: mask,
        min_float: MIN_FLOAT,
        dropout: (case.dropped).then(|| dropout([b, h, t, t], case.seed + 4, &device)),
    };
    let (qc, kc, vc) = (q.clone(), k.clone(), v.clone());
    let o = if fused {
        attention(qc, kc, vc, h, masks, EncoderPath::Fused)
    } else {
        burn_attention(qc, kc, vc, h, masks)
    };
    let r = tensor(shape, case.seed + 3, 1.0, &device);
    let grads = (o.clone() * r).sum().backward();
    [
        data(o),
        data(q.grad(&grads).unwrap()),
        data(k.grad(&grads).unwrap()),
        data(v.grad(&grads).unwrap()),
    ]
}

fn assert_close(ours: &[f32], burn: &[f32], what: &str, case: &Case) {
    assert_eq!(ours.len(), burn.len());
    let scale = burn.iter().fold(1.0f32, |m, x| m.max(x.abs()));
    for (i, (a, b)) in ours.iter().zip(burn).enumerate() {
        assert!(
            (a - b).abs() <= 2e-5 * scale,
            "{what}[{i}]: {a} vs burn's {b} ({case:?})"
        );
    }
}

fn check(case: &Case) {
    let ours = compute(case, true);
    let burn = compute(case, false);
    for (what, (a, b)) in ["output", "dq", "dk", "dv"]
        .iter()
        .zip(ours.iter().zip(&burn))
    {
        assert_close(a, b, what, case);
    }
}

#[test]
fn attention_matches_burn_on_the_vit_and_text_shapes() {
    // The ViT's 17 tokens of 4 heads of 32, the text transformer's padded sequences and
    // MiniLM's 12 heads of 32 with padding and attention dropout.
    let shapes = [
        (17, 4, 32, false, false),
        (12, 4, 16, true, false),
        (9, 12, 32, true, true),
    ];
    for (tokens, heads, head_dim, masked, dropped) in shapes {
        check(&Case {
            batch: 5,
            tokens,
            heads,
            head_dim,
            masked,
            dropped,
            seed: 7,
        });
    }
}

#[test]
fn a_fully_padded_sequence_attends_uniformly_as_in_burn() {
    // Batch 4 > tokens 3: the last sequence is all padding.
    check(&Case {
        batch: 4,
        tokens: 3,
        heads: 2,
        head_dim: 3,
        masked: true,
        dropped: false,
        seed: 11,
    });
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn attention_matches_burn_on_random_shapes(
        batch in 1usize..5,
        tokens in 1usize..11,
        heads in 1usize..4,
        head_dim in 1usize..13,
        masked in any::<bool>(),
        dropped in any::<bool>(),
        seed in 0u64..1000,
    ) {
        check(&Case { batch, tokens, heads, head_dim, masked, dropped, seed });
    }
}

#[test]
fn the_attention_gradient_matches_finite_differences() {
    // f(q) = Σ r · attention(q, k, v) in f64-checked central differences, on a small case
    // with padding and a dropout mask.
    let device = Device::flex();
    let (b, t, heads, dh) = (2, 3, 2, 2);
    let shape = [b, t, heads * dh];
    let k = tensor(shape, 21, 1.0, &device);
    let v = tensor(shape, 22, 1.0, &device);
    let r = tensor(shape, 23, 1.0, &device);
    let q0 = values(b * t * heads * dh, 20, 1.0);
    let f = |q: &[f32]| -> f64 {
        let q = Tensor::<3>::from_data(TensorData::new(q.to_vec(), shape), &device);
        let masks = Masks {
            padding: Some(padding(b, t, &device)),
            min_float: MIN_FLOAT,
            dropout: Some(dropout([b, heads, t, t], 24, &device)),
        };
        let o = attention(q, k.clone(), v.clone(), heads, masks, EncoderPath::Fused);
        data(o * r.clone()).iter().map(|&x| x as f64).sum()
    };
    let autodiff = Device::flex().autodiff();
    let q = Tensor::<3>::from_data(TensorData::new(q0.clone(), shape), &autodiff).require_grad();
    let o = attention(
        q.clone(),
        Tensor::from_data(k.to_data(), &autodiff),
        Tensor::from_data(v.to_data(), &autodiff),
        heads,
        Masks {
            padding: Some(padding(b, t, &autodiff)),
            min_float: MIN_FLOAT,
            dropout: Some(dropout([b, heads, t, t], 24, &autodiff)),
        },
        EncoderPath::Fused,
    );
    let grads = (o * Tensor::from_data(r.to_data(), &autodiff))
        .sum()
        .backward();
    let dq = data(q.grad(&grads).unwrap());
    let h = 1e-2f32;
    for i in 0..q0.len() {
        let (mut up, mut down) = (q0.clone(), q0.clone());
        up[i] += h;
        down[i] -= h;
        let numeric = (f(&up) - f(&down)) / (2.0 * h as f64);
        assert!(
            (numeric - dq[i] as f64).abs() < 2e-3,
            "dq[{i}]: finite difference {numeric} vs {}",
            dq[i]
        );
    }
}

#[test]
fn gelu_matches_burn_in_value_and_gradient() {
    let device = Device::flex().autodiff();
    // Odd length (not a multiple of any vector width), wide range, more than one rayon chunk.
    let n = (1 << 15) + 37;
    let x = tensor([n], 5, 9.0, &device).require_grad();
    let r = tensor([n], 6, 1.0, &device);
    let run = |path| {
        let y = gelu(x.clone(), path);
        let grads = (y.clone() * r.clone()).sum().backward();
        (data(y), data(x.grad(&grads).unwrap()))
    };
    let (y, dx) = run(EncoderPath::Fused);
    let (y_burn, dx_burn) = run(EncoderPath::Burn);
    for i in 0..n {
        assert!(
            (y[i] - y_burn[i]).abs() < 2e-6 * y_burn[i].abs().max(1.0),
            "y[{i}]"
        );
        assert!(
            (dx[i] - dx_burn[i]).abs() < 2e-6,
            "dx[{i}]: {} vs {}",
            dx[i],
            dx_burn[i]
        );
    }
}

#[test]
fn the_burn_path_and_other_dtypes_take_burns_ops() {
    let device = Device::flex();
    let x = tensor([3, 4], 1, 1.0, &device);
    assert!(EncoderPath::Fused.fuses(&x));
    assert!(!EncoderPath::Burn.fuses(&x));
    assert!(!EncoderPath::Fused.fuses(&x.clone().cast(burn::tensor::DType::F64)));
}
