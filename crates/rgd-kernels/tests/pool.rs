//! The max-pooling kernel against burn's own `max_pool2d` (stride = window, no padding): values
//! and input gradients on random shapes and windows, with ties (values on a coarse grid, and the
//! zeros a ReLU leaves) and NaNs, where the argmax rule decides which input gets the gradient.

use burn::tensor::{Device, Tensor, TensorData};
use proptest::prelude::*;
use rgd_kernels::conv::ConvPath;
use rgd_kernels::pool::max_pool2d;

mod common;

/// Values on a grid of 7 levels (many ties in a window), some clipped to 0 like a ReLU's
/// output, and a NaN at `nan` if given.
fn values(n: usize, seed: u64, nan: Option<usize>) -> Vec<f32> {
    let mut lcg = common::Lcg::new(seed);
    (0..n)
        .map(|i| {
            let level = ((lcg.next_u64() >> 33) % 7) as f32 - 3.0;
            match nan {
                Some(at) if at == i => f32::NAN,
                _ => level.max(-1.0),
            }
        })
        .collect()
}

/// The pooled values and the gradient of `Σ r · y` with respect to x, on one path.
fn compute(shape: [usize; 4], window: [usize; 2], xs: &[f32], path: ConvPath) -> [Vec<f32>; 2] {
    let device = Device::flex().autodiff();
    let x = Tensor::<4>::from_data(TensorData::new(xs.to_vec(), shape), &device).require_grad();
    let y = max_pool2d(x.clone(), window, path);
    let n = y.dims().iter().product::<usize>();
    let r = (0..n).map(|i| 1.0 + (i % 5) as f32).collect::<Vec<_>>();
    let r = Tensor::<4>::from_data(TensorData::new(r, y.dims()), &device);
    let grads = (y.clone() * r).sum().backward();
    let data = |t: Tensor<4>| t.into_data().try_to_vec::<f32>().unwrap();
    [data(y), data(x.grad(&grads).unwrap())]
}

/// Equal, NaN for NaN.
fn assert_same(what: &str, ours: &[f32], burns: &[f32], context: &str) {
    assert_eq!(ours.len(), burns.len(), "{what}: lengths, {context}");
    for (i, (a, b)) in ours.iter().zip(burns).enumerate() {
        assert!(
            a == b || (a.is_nan() && b.is_nan()),
            "{what}[{i}]: {a} against burn's {b}, {context}"
        );
    }
}

fn check(shape: [usize; 4], window: [usize; 2], seed: u64, nan: Option<usize>) {
    let xs = values(shape.iter().product(), seed, nan);
    let context = format!("shape {shape:?}, window {window:?}, seed {seed}, NaN at {nan:?}");
    let [y, dx] = compute(shape, window, &xs, ConvPath::Gemm);
    let [burn_y, burn_dx] = compute(shape, window, &xs, ConvPath::Burn);
    assert_same("y", &y, &burn_y, &context);
    assert_same("dx", &dx, &burn_dx, &context);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn values_and_gradients_match_burns_path(
        (b, c) in (1usize..4, 1usize..4),
        window in [1usize..4, 1usize..4],
        extra in [0usize..5, 0usize..5],
        seed in 0u64..1_000_000,
        nan in proptest::option::of(0usize..1000),
    ) {
        // At least one window per dimension; sizes that are not multiples of the window.
        let shape = [b, c, window[0] + extra[0], window[1] + extra[1]];
        let nan = nan.map(|i| i % shape.iter().product::<usize>());
        check(shape, window, seed, nan);
    }
}

/// The lab's CNN: 2x2 windows over its two activation shapes (more planes than threads).
#[test]
fn the_lab_cnn_shapes_match_burns_path() {
    for shape in [[64, 16, 28, 28], [64, 32, 14, 14]] {
        check(shape, [2, 2], 3, None);
    }
}

/// Without autodiff the forward is the same; the Burn path is burn's function itself.
#[test]
fn the_forward_without_autodiff_matches_burns() {
    let device = Device::flex();
    let shape = [2, 3, 7, 9];
    let xs = values(shape.iter().product(), 9, Some(40));
    let x = Tensor::<4>::from_data(TensorData::new(xs, shape), &device);
    let ours = max_pool2d(x.clone(), [2, 3], ConvPath::Gemm);
    let burns = max_pool2d(x, [2, 3], ConvPath::Burn);
    assert_eq!(ours.dims(), [2, 3, 3, 3]);
    let data = |t: Tensor<4>| t.into_data().try_to_vec::<f32>().unwrap();
    assert_same("y", &data(ours), &data(burns), "no autodiff");
}
