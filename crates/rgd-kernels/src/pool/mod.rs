//! 2-D max pooling over non-overlapping windows (stride = window, no padding), forward and
//! backward.
//!
//! burn-flex pools in 2-D through its 3-D kernel, which works out every window's valid range
//! with divisions for padding and dilation; on the lab's CNN that was a fifth of the training
//! step (2x2 windows over `[64, 16, 28, 28]` and `[64, 32, 14, 14]`). Here each `H x W` plane
//! is one pass, and the backward writes each output's gradient to the position of its maximum:
//!
//! ```text
//! y[b, c, i, j] = max { x[b, c, i·KH + u, j·KW + v] : u < KH, v < KW }
//! ∂x[b, c, p]   = ∂y[b, c, i, j]  at p = argmax of window (i, j),  0 elsewhere
//! ```
//!
//! The argmax is the window's first maximum in row-major order, or its last NaN (so a NaN
//! propagates), as in burn-flex. [`max_pool2d`] takes this path on the Flex backend (with or
//! without autodiff) for f32 tensors, and burn's `max_pool2d` everywhere else.

mod extension;
mod flex;

use burn::backend::{Dispatch, DispatchDevice};
use burn::tensor::module::max_pool2d as burn_max_pool2d;
use burn::tensor::ops::MaxPoolOptions;
use burn::tensor::{DType, Tensor};

use crate::conv::ConvPath;
use extension::FastPool;

/// Max pooling of `x` `[B, C, H, W]` over `window` `[KH, KW]` with stride `window` and no
/// padding: `[B, C, H / KH, W / KW]` (rounded down, as burn's `ceil_mode = false`), on this
/// crate's kernel where `path` is [`ConvPath::Gemm`] (the CNN's kernels) and the tensor is an
/// f32 Flex tensor, burn's `max_pool2d` otherwise. Differentiable on autodiff devices.
///
/// # Panics
///
/// If a window dimension is 0.
///
/// ```
/// use burn::tensor::{Device, Tensor, TensorData};
/// use rgd_kernels::{conv::ConvPath, pool::max_pool2d};
/// let device = Device::flex();
/// let x = Tensor::<4>::from_data(TensorData::new((1..=8).map(|v| v as f32).collect(), [1, 1, 2, 4]), &device);
/// let y = max_pool2d(x, [2, 2], ConvPath::Gemm);
/// assert_eq!(y.into_data().try_to_vec::<f32>().unwrap(), [6.0, 8.0]);
/// ```
pub fn max_pool2d(x: Tensor<4>, window: [usize; 2], path: ConvPath) -> Tensor<4> {
    assert!(
        window.iter().all(|&k| k > 0),
        "max_pool2d: a window of {window:?}"
    );
    let on_flex = matches!(x.device().inner().as_dispatch(), DispatchDevice::Flex(_));
    let [_, _, h, w] = x.dims();
    let fits = h >= window[0] && w >= window[1] && u32::try_from(h * w).is_ok();
    if path != ConvPath::Gemm || !on_flex || x.dtype() != DType::F32 || !fits {
        return burn_max_pool2d(x, MaxPoolOptions::new(window).with_stride(window));
    }
    Tensor::from_dispatch(<Dispatch as FastPool>::max_pool2d_fast(
        x.into_dispatch(),
        window,
    ))
}
