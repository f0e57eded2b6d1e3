//! A dense layer `y = x W + b` on row matrices, forward and backward, bit for bit burn's.
//!
//! burn 0.22.1 computes a linear layer on Flex as a matrix product into a fresh output (which
//! burn-flex zero-fills and then copies once more to align it), then the bias in a second pass
//! on the calling thread; its backward allocates each gradient the same way. On the fused ViT
//! those allocations, copies and the single-threaded bias pass were a third of the work left
//! on the main thread while rayon's workers waited. Here the same `gemm` calls as burn-flex's
//! (the same shapes, strides and threading rule, so the same numbers) write straight into the
//! outputs, and the bias is added across rayon's pool:
//!
//! ```text
//! y = x W + b        ∂x = ∂y Wᵀ        ∂W = xᵀ ∂y        ∂b = Σ_rows ∂y
//! ```
//!
//! with `x` `[N, D_in]`, `W` `[D_in, D_out]` (burn-nn's layout), `b` `[D_out]`; the bias
//! gradient is summed by burn's own reduction, as its autodiff does. [`linear`] takes this path
//! on the Flex backend (with or without autodiff) for f32 tensors on
//! [`EncoderPath::Fused`], and burn's `linear` everywhere else. On [`EncoderPath::Packed`] the
//! three products are the `matrixmultiply` crate's instead (both operands packed, AVX-512 where
//! the CPU has it): faster on the ViT's shapes, equal to burn's within rounding, not bit for
//! bit.
//!
//! Rows only: on a `[B, T, D]` input that burn's `MatmulTransformPolicy` keeps batched, burn
//! (whose Dispatch backend decomposes `linear` into a tracked matmul and add) sums the weight
//! gradient over `B` per-example products and the bias gradient over two dimensions, a
//! different summation order from one product on the `[B·T, D]` rows; so the same layer on
//! rows is bit for bit burn's only where burn's own input is rows.

mod extension;
mod flex;

use burn::backend::{Dispatch, DispatchDevice};
use burn::tensor::module::linear as burn_linear;
use burn::tensor::{DType, Tensor};

use crate::encoder_path::EncoderPath;
use extension::FusedLinear;

/// `x W + b` for rows `x` `[N, D_in]`, weight `[D_in, D_out]` and bias `[D_out]`:
/// `[N, D_out]`, differentiable on autodiff devices, with the numbers of burn's `linear` (on
/// [`EncoderPath::Packed`], within rounding of them).
///
/// # Panics
///
/// If the shapes do not agree (as burn's `linear`).
///
/// ```
/// use burn::tensor::{Device, Tensor, TensorData};
/// use rgd_kernels::{EncoderPath, linear::linear};
/// let device = Device::flex();
/// let x = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, 2.0], [1, 2]), &device);
/// let w = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, 0.0, 0.0, 3.0], [2, 2]), &device);
/// let b = Tensor::<1>::from_data(TensorData::new(vec![0.5f32, -1.0], [2]), &device);
/// let y = linear(x, w, Some(b), EncoderPath::Fused);
/// assert_eq!(y.into_data().try_to_vec::<f32>().unwrap(), [1.5, 5.0]);
/// ```
pub fn linear(
    x: Tensor<2>,
    weight: Tensor<2>,
    bias: Option<Tensor<1>>,
    path: EncoderPath,
) -> Tensor<2> {
    let [n, d_in] = x.dims();
    let [w_in, d_out] = weight.dims();
    assert_eq!(
        d_in, w_in,
        "linear: x has {d_in} columns but the weight {w_in} rows"
    );
    let on_flex = matches!(x.device().inner().as_dispatch(), DispatchDevice::Flex(_));
    let f32s = x.dtype() == DType::F32
        && weight.dtype() == DType::F32
        && bias.as_ref().is_none_or(|b| b.dtype() == DType::F32);
    let fused = path != EncoderPath::Burn && on_flex && f32s && n > 0;
    let bias = match bias {
        Some(bias) if fused => bias,
        bias => return burn_linear(x, weight, bias),
    };
    assert_eq!(bias.dims(), [d_out], "linear: a bias of {:?}", bias.dims());
    Tensor::from_dispatch(<Dispatch as FusedLinear>::linear_fused(
        x.into_dispatch(),
        weight.into_dispatch(),
        bias.into_dispatch(),
        path == EncoderPath::Packed,
    ))
}
