//! The im2col convolution, alone and with its fused ReLU, against burn's own path (`conv2d`, and
//! `relu(conv2d)`): values and the gradients of x, weight and bias on random shapes (stride,
//! asymmetric padding, dilation, odd sizes), a finite-difference check, and the routing to
//! burn's path where the kernel does not apply.

use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor, TensorData};
use proptest::prelude::*;
use rgd_kernels::conv::{ConvPath, conv2d, conv2d_relu, uses_gemm};

mod common;
use common::uniform as values;

/// A convolution problem: shapes, options and a seed for its values.
#[derive(Debug, Clone)]
struct Case {
    x: [usize; 4],
    out_channels: usize,
    kernel: [usize; 2],
    options: ConvOptions<2>,
    seed: u64,
}

fn tensor<const D: usize>(shape: [usize; D], seed: u64, device: &Device) -> Tensor<D> {
    let n = shape.iter().product();
    Tensor::from_data(TensorData::new(values(n, seed), shape), device)
}

/// What one path computes: the output and the gradients of `Σ r · y` (r fixed and random).
struct Computed {
    y: Vec<f32>,
    dx: Vec<f32>,
    dw: Vec<f32>,
    db: Vec<f32>,
}

/// The convolution alone, or followed by a ReLU.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Conv,
    ConvRelu,
}

fn compute(case: &Case, path: ConvPath, op: Op) -> Computed {
    let device = Device::flex().autodiff();
    let [_, c, _, _] = case.x;
    let [kh, kw] = case.kernel;
    let x = tensor(case.x, case.seed, &device).require_grad();
    let w = tensor([case.out_channels, c, kh, kw], case.seed + 1, &device).require_grad();
    let b = tensor([case.out_channels], case.seed + 2, &device).require_grad();
    if path == ConvPath::Gemm {
        assert!(uses_gemm(&x, &w, &case.options, path), "{case:?}");
    }
    let (x_, w_, b_, options) = (x.clone(), w.clone(), Some(b.clone()), case.options.clone());
    let y = match op {
        Op::Conv => conv2d(x_, w_, b_, options, path),
        Op::ConvRelu => conv2d_relu(x_, w_, b_, options, path),
    };
    let r = tensor(y.dims(), case.seed + 3, &device);
    let grads = (y.clone() * r).sum().backward();
    let data = |t: Tensor<4>| t.into_data().try_to_vec::<f32>().unwrap();
    Computed {
        y: data(y),
        dx: data(x.grad(&grads).unwrap()),
        dw: data(w.grad(&grads).unwrap()),
        db: b
            .grad(&grads)
            .unwrap()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap(),
    }
}

/// `got` equals `want` to float tolerance relative to the largest magnitude of `want`.
fn assert_close(what: &str, got: &[f32], want: &[f32], case: &Case) {
    assert_eq!(got.len(), want.len(), "{what}: lengths, {case:?}");
    let scale = want.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-5 * scale + 1e-6,
            "{what}[{i}]: {g} against burn's {w} (scale {scale}), {case:?}"
        );
    }
}

fn case() -> impl Strategy<Value = Case> {
    (
        (1usize..5, 1usize..4, 1usize..10, 1usize..10),
        1usize..5,
        [1usize..4, 1usize..4],
        [1usize..3, 1usize..3],
        [(0usize..3, 0usize..3), (0usize..3, 0usize..3)],
        [1usize..3, 1usize..3],
        0u64..1_000_000,
    )
        .prop_map(
            |((b, c, h, w), out_channels, kernel, stride, padding, dilation, seed)| Case {
                x: [b, c, h, w],
                out_channels,
                kernel,
                options: ConvOptions::new_with_padding(stride, padding, dilation, 1),
                seed,
            },
        )
        .prop_filter("the dilated kernel fits the padded input", |c| {
            (0..2).all(|d| {
                let (before, after) = c.options.padding[d];
                c.x[2 + d] + before + after > c.options.dilation[d] * (c.kernel[d] - 1)
            })
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn values_and_gradients_match_burns_path(case in case()) {
        assert_same_as_burn(&case, Op::Conv);
    }

    #[test]
    fn with_the_fused_relu_values_and_gradients_match_burns_path(case in case()) {
        assert_same_as_burn(&case, Op::ConvRelu);
    }
}

/// The output and the three gradients agree with burn's path.
fn assert_same_as_burn(case: &Case, op: Op) {
    let (ours, burns) = (
        compute(case, ConvPath::Gemm, op),
        compute(case, ConvPath::Burn, op),
    );
    assert_close("y", &ours.y, &burns.y, case);
    assert_close("dx", &ours.dx, &burns.dx, case);
    assert_close("dweight", &ours.dw, &burns.dw, case);
    assert_close("dbias", &ours.db, &burns.db, case);
}

/// The shapes of the lab's CNN (3x3 same convolutions on 28x28 and 14x14) and a batch larger
/// than the thread count, so that the batch-parallel paths run.
#[test]
fn the_lab_cnn_shapes_match_burns_path() {
    for (x, out_channels) in [([64, 1, 28, 28], 16), ([64, 16, 14, 14], 32)] {
        let case = Case {
            x,
            out_channels,
            kernel: [3, 3],
            options: ConvOptions::new([1, 1], [1, 1], [1, 1], 1),
            seed: 7,
        };
        for op in [Op::Conv, Op::ConvRelu] {
            assert_same_as_burn(&case, op);
        }
        // About half of the ReLU's inputs are negative here: the mask is exercised.
        let y = compute(&case, ConvPath::Gemm, Op::ConvRelu).y;
        let zeros = y.iter().filter(|&&v| v == 0.0).count() as f64 / y.len() as f64;
        assert!((0.2..0.8).contains(&zeros), "{zeros} of the outputs are 0");
    }
}

/// Without a bias and without autodiff, the fused ReLU is burn's `relu(conv2d)`, and a NaN in
/// the input stays NaN (as in burn's ReLU, which zeroes only where `z <= 0`).
#[test]
fn the_fused_relu_without_bias_keeps_nans_as_burn_does() {
    let device = Device::flex();
    let options = ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
    let mut values = values(2 * 3 * 5 * 5, 41);
    values[7] = f32::NAN;
    let x = Tensor::<4>::from_data(TensorData::new(values, [2, 3, 5, 5]), &device);
    let w = tensor([4, 3, 3, 3], 42, &device);
    let ours = conv2d_relu(x.clone(), w.clone(), None, options.clone(), ConvPath::Gemm);
    let burns = burn::tensor::activation::relu(burn::tensor::module::conv2d(x, w, None, options));
    let (ours, burns) = (
        ours.into_data().try_to_vec::<f32>().unwrap(),
        burns.into_data().try_to_vec::<f32>().unwrap(),
    );
    let nans = |v: &[f32]| v.iter().map(|x| x.is_nan()).collect::<Vec<_>>();
    assert_eq!(nans(&ours), nans(&burns));
    assert!(nans(&ours).iter().any(|&n| n), "the NaN reached the output");
    for (i, (a, b)) in ours.iter().zip(&burns).enumerate() {
        assert!(
            a.is_nan() || (a - b).abs() <= 1e-5,
            "y[{i}]: {a} against burn's {b}"
        );
    }
}

/// Central differences of `L = Σ r · conv2d(x, w)` against the kernel's gradients. L is linear
/// in x and in w, so the differences are exact up to rounding.
#[test]
fn gradients_match_finite_differences() {
    let device = Device::flex().autodiff();
    let options = ConvOptions::new_with_padding([2, 1], [(1, 0), (2, 1)], [1, 2], 1);
    let (xs, ws) = ([2, 2, 5, 6], [3, 2, 3, 2]);
    let x = tensor(xs, 11, &device);
    let w = tensor(ws, 12, &device);
    let loss = |x: Tensor<4>, w: Tensor<4>| {
        let y = conv2d(x, w, None, options.clone(), ConvPath::Gemm);
        let r = tensor(y.dims(), 13, &device);
        f64::from((y * r).sum().into_scalar::<f32>())
    };
    let (xg, wg) = (x.clone().require_grad(), w.clone().require_grad());
    let y = conv2d(
        xg.clone(),
        wg.clone(),
        None,
        options.clone(),
        ConvPath::Gemm,
    );
    let r = tensor(y.dims(), 13, &device);
    let grads = (y * r).sum().backward();
    let dx = xg
        .grad(&grads)
        .unwrap()
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    let dw = wg
        .grad(&grads)
        .unwrap()
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    let eps = 0.25f32;
    let bump = |t: &Tensor<4>, i: usize, by: f32| {
        let mut v = t.clone().into_data().try_to_vec::<f32>().unwrap();
        v[i] += by;
        Tensor::<4>::from_data(TensorData::new(v, t.dims()), &device)
    };
    assert_eq!(dx.len(), xs.iter().product::<usize>());
    for (i, &analytic) in dx.iter().enumerate() {
        let numeric = (loss(bump(&x, i, eps), w.clone()) - loss(bump(&x, i, -eps), w.clone()))
            / (2.0 * f64::from(eps));
        let error = (numeric - f64::from(analytic)).abs();
        assert!(error < 1e-4, "dx[{i}]: {numeric} vs {analytic}");
    }
    assert_eq!(dw.len(), ws.iter().product::<usize>());
    for (i, &analytic) in dw.iter().enumerate() {
        let numeric = (loss(x.clone(), bump(&w, i, eps)) - loss(x.clone(), bump(&w, i, -eps)))
            / (2.0 * f64::from(eps));
        let error = (numeric - f64::from(analytic)).abs();
        assert!(error < 1e-4, "dw[{i}]: {numeric} vs {analytic}");
    }
}

/// Without autodiff the forward is the same function.
#[test]
fn the_forward_without_autodiff_matches_burns() {
    let device = Device::flex();
    let options = ConvOptions::new([1, 2], [2, 0], [2, 1], 1);
    let x = tensor([3, 2, 9, 7], 21, &device);
    let w = tensor([4, 2, 2, 3], 22, &device);
    let b = tensor([4], 23, &device);
    assert!(uses_gemm(&x, &w, &options, ConvPath::Gemm));
    let ours = conv2d(
        x.clone(),
        w.clone(),
        Some(b.clone()),
        options.clone(),
        ConvPath::Gemm,
    );
    let burns = burn::tensor::module::conv2d(x, w, Some(b), options);
    let case = Case {
        x: [3, 2, 9, 7],
        out_channels: 4,
        kernel: [2, 3],
        options: ConvOptions::new([1, 2], [2, 0], [2, 1], 1),
        seed: 21,
    };
    assert_close(
        "y",
        &ours.into_data().try_to_vec::<f32>().unwrap(),
        &burns.into_data().try_to_vec::<f32>().unwrap(),
        &case,
    );
}

/// Grouped convolutions and the Burn path go through burn's conv2d, with the same result.
#[test]
fn what_the_kernel_does_not_cover_takes_burns_path() {
    let device = Device::flex();
    let grouped = ConvOptions::new([1, 1], [1, 1], [1, 1], 2);
    let x = tensor([2, 4, 6, 6], 31, &device);
    let w = tensor([6, 2, 3, 3], 32, &device);
    assert!(!uses_gemm(&x, &w, &grouped, ConvPath::Gemm));
    let ours = conv2d(x.clone(), w.clone(), None, grouped.clone(), ConvPath::Gemm);
    let burns = burn::tensor::module::conv2d(x.clone(), w.clone(), None, grouped);
    assert_eq!(ours.into_data(), burns.into_data());
    let plain = ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
    let w = tensor([3, 4, 3, 3], 33, &device);
    assert!(!uses_gemm(&x, &w, &plain, ConvPath::Burn));
}

/// The fused bias and ReLU change no number: on the lab's CNN shapes, the output and the
/// gradients of x, weight and bias equal, bit for bit, those of the kernel's convolution without
/// bias followed by burn's broadcast add and ReLU (how the lab's CNN computed before the fusion).
#[test]
fn the_fused_relu_is_bit_identical_to_the_unfused_ops() {
    let device = Device::flex().autodiff();
    let options = ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
    for (shape, out_channels) in [
        ([64, 1, 28, 28], 16),
        ([64, 16, 14, 14], 32),
        ([1, 3, 5, 4], 2),
    ] {
        let run = |fused: bool| {
            let x = tensor(shape, 51, &device).require_grad();
            let w = tensor([out_channels, shape[1], 3, 3], 52, &device).require_grad();
            let b = tensor([out_channels], 53, &device).require_grad();
            let y = if fused {
                conv2d_relu(
                    x.clone(),
                    w.clone(),
                    Some(b.clone()),
                    options.clone(),
                    ConvPath::Gemm,
                )
            } else {
                let z = conv2d(x.clone(), w.clone(), None, options.clone(), ConvPath::Gemm);
                burn::tensor::activation::relu(z + b.clone().reshape([1, out_channels, 1, 1]))
            };
            let r = tensor(y.dims(), 54, &device);
            let grads = (y.clone() * r).sum().backward();
            let bits = |t: Vec<f32>| t.into_iter().map(f32::to_bits).collect::<Vec<_>>();
            let data = |t: Tensor<4>| bits(t.into_data().try_to_vec::<f32>().unwrap());
            (
                data(y),
                data(x.grad(&grads).unwrap()),
                data(w.grad(&grads).unwrap()),
                bits(
                    b.grad(&grads)
                        .unwrap()
                        .into_data()
                        .try_to_vec::<f32>()
                        .unwrap(),
                ),
            )
        };
        let (fused, unfused) = (run(true), run(false));
        assert!(fused.0 == unfused.0, "y differs, shape {shape:?}");
        assert!(fused.1 == unfused.1, "dx differs, shape {shape:?}");
        assert!(fused.2 == unfused.2, "dweight differs, shape {shape:?}");
        assert!(fused.3 == unfused.3, "dbias differs, shape {shape:?}");
    }
}
