//! A 2-D convolution whose forward and backward are matrix products over an im2col layout.
//!
//! burn-flex computes the convolution's forward itself but has no backward of its own: burn's
//! default computes the weight gradient as a second convolution, with the output gradient as an
//! `OH x OW` kernel (a product with `K = B·C·H·W` and only `KH·KW` outputs per channel pair), and
//! the input gradient as a transposed convolution, with layout copies around both. Here all three
//! are products on `gemm` over the unfolded image (im2col, and its adjoint col2im):
//!
//! ```text
//! y_b = W · im2col(x_b)      ∂W = Σ_b ∂y_b · im2col(x_b)ᵀ      ∂x_b = col2im(Wᵀ · ∂y_b)
//! ```
//!
//! [`conv2d_relu`] adds the ReLU that follows a convolution in the lab's CNN to the same pass:
//! the bias and `max(·, 0)` on each image's output while it is in cache, and in the backward
//! the ReLU's mask in one pass and the bias gradient summed as burn's autodiff sums it, so its
//! numbers are bit for bit those of the unfused ops.
//!
//! [`conv2d`] and [`conv2d_relu`] take this path on the Flex backend (with or without autodiff)
//! for f32 tensors
//! without groups, and burn's own `conv2d` everywhere else (wgpu, cuda, grouped convolutions),
//! so a model can call it on any device.

mod extension;
mod flex;
pub mod im2col;

use burn::backend::{Dispatch, DispatchDevice};
use burn::tensor::ops::ConvOptions;
use burn::tensor::{DType, Tensor};
use serde::{Deserialize, Serialize};

use extension::GemmConv;
pub use im2col::Geometry;

/// Which implementation computes a convolution.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConvPath {
    /// The im2col matrix products of this crate where they apply (Flex, f32, no groups), burn's
    /// path elsewhere.
    #[default]
    Gemm,
    /// burn's own `conv2d` and its default backward, always (for comparison).
    Burn,
}

/// Whether `path` computes `conv2d(x, weight, options)` with this crate's kernel: the Gemm path,
/// on the Flex device (with or without autodiff), f32, no groups, and a kernel that fits.
pub fn uses_gemm(
    x: &Tensor<4>,
    weight: &Tensor<4>,
    options: &ConvOptions<2>,
    path: ConvPath,
) -> bool {
    let on_flex = matches!(x.device().inner().as_dispatch(), DispatchDevice::Flex(_));
    path == ConvPath::Gemm
        && on_flex
        && x.dtype() == DType::F32
        && weight.dtype() == DType::F32
        && flex::supports(&x.dims(), &weight.dims(), options)
}

/// The 2-D convolution `y[b, o] = bias[o] + Σ_c weight[o, c] ⋆ x[b, c]` (cross-correlation, as in
/// burn and PyTorch): `x` `[B, C, H, W]`, `weight` `[C_out, C / groups, KH, KW]`, `bias`
/// `[C_out]`; output `[B, C_out, OH, OW]` with `OH = (H + pad_top + pad_bottom − dy·(KH − 1) − 1)
/// / sy + 1` (and so for the width). Differentiable on autodiff devices.
///
/// ```
/// use burn::tensor::{Device, Tensor, ops::ConvOptions};
/// use rgd_kernels::conv::{ConvPath, conv2d};
/// let device = Device::flex();
/// let x = Tensor::<4>::ones([1, 1, 3, 3], &device);
/// let weight = Tensor::<4>::ones([1, 1, 3, 3], &device);
/// let options = ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
/// let y = conv2d(x, weight, None, options, ConvPath::Gemm);
/// // Each output sums the ones its 3x3 window covers: 4 at a corner, 6 at an edge, 9 inside.
/// assert_eq!(y.into_data().try_to_vec::<f32>().unwrap(), [4., 6., 4., 6., 9., 6., 4., 6., 4.]);
/// ```
pub fn conv2d(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Option<Tensor<1>>,
    options: ConvOptions<2>,
    path: ConvPath,
) -> Tensor<4> {
    convolve(x, weight, bias, options, path, false)
}

/// `relu(conv2d(x, weight, bias, options))` ([`conv2d`], then `max(·, 0)`), with the bias and
/// the ReLU applied in the kernel's pass over each image's output, where the kernel applies
/// (bit for bit the numbers of [`conv2d`] followed by burn's add and ReLU); burn's `conv2d` and
/// `relu` elsewhere.
///
/// ```
/// use burn::tensor::{Device, Tensor, ops::ConvOptions};
/// use rgd_kernels::conv::{ConvPath, conv2d_relu};
/// let device = Device::flex();
/// let x = Tensor::<4>::ones([1, 1, 2, 2], &device);
/// let weight = Tensor::<4>::ones([2, 1, 1, 1], &device);
/// let bias = Tensor::<1>::from_floats([0.5, -2.0], &device);
/// let options = ConvOptions::new([1, 1], [0, 0], [1, 1], 1);
/// let y = conv2d_relu(x, weight, Some(bias), options, ConvPath::Gemm);
/// // 1 + 0.5 in the first channel, max(1 - 2, 0) in the second.
/// assert_eq!(y.into_data().try_to_vec::<f32>().unwrap(), [1.5, 1.5, 1.5, 1.5, 0., 0., 0., 0.]);
/// ```
pub fn conv2d_relu(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Option<Tensor<1>>,
    options: ConvOptions<2>,
    path: ConvPath,
) -> Tensor<4> {
    convolve(x, weight, bias, options, path, true)
}

fn convolve(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Option<Tensor<1>>,
    options: ConvOptions<2>,
    path: ConvPath,
    relu: bool,
) -> Tensor<4> {
    if !uses_gemm(&x, &weight, &options, path) {
        let y = burn::tensor::module::conv2d(x, weight, bias, options);
        return if relu {
            burn::tensor::activation::relu(y)
        } else {
            y
        };
    }
    let bias = bias.unwrap_or_else(|| Tensor::zeros([weight.dims()[0]], &weight.device()));
    Tensor::<4>::from_dispatch(<Dispatch as GemmConv>::conv2d_gemm(
        x.into_dispatch(),
        weight.into_dispatch(),
        bias.into_dispatch(),
        options,
        relu,
    ))
}
