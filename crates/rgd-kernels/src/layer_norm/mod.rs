//! Layer normalisation of rows, forward and backward, in one pass per row across rayon's pool.
//!
//! burn-nn's `LayerNorm` computes the mean and variance, then subtracts, divides, scales and
//! shifts in separate element-wise passes on the calling thread, and its autodiff adds a pass
//! per op in the backward; on the fused ViT that was the largest serial piece of the main
//! thread while rayon's workers waited. Here, per row `x` of width `D`:
//!
//! ```text
//! μ = Σ x / D      σ² = Σ (x − μ)² / D      r = 1 / √(σ² + ε)      x̂ = (x − μ) r
//! y = γ ⊙ x̂ + β
//! ∂x = r (g − mean(g) − x̂ mean(g ⊙ x̂)),  g = γ ⊙ ∂y      ∂γ = Σ_rows ∂y ⊙ x̂      ∂β = Σ_rows ∂y
//! ```
//!
//! The parameter gradients are summed per fixed block of rows and the blocks in order, so the
//! numbers do not depend on the number of threads. They are burn's within float rounding, not
//! bit for bit (burn sums in another order), so the kernel runs only on
//! [`EncoderPath::FusedNorm`], a separate choice from [`EncoderPath::Fused`], whose numbers
//! are burn's exactly.

mod extension;
mod flex;

use burn::backend::Dispatch;
use burn::tensor::{DType, Tensor};

use crate::encoder_path::EncoderPath;
use extension::FusedLayerNorm;

/// `γ ⊙ (x − μ) / √(σ² + ε) + β` per row of `x` `[N, D]` (biased variance, as burn-nn's
/// `LayerNorm`), with `gamma` and `beta` `[D]`: differentiable on autodiff devices; the
/// kernel on Flex for f32 on [`EncoderPath::FusedNorm`], burn's `layer_norm` (the op of burn-nn's `LayerNorm`) elsewhere.
///
/// # Panics
///
/// If `gamma` or `beta` is not `[D]`.
///
/// ```
/// use burn::tensor::{Device, Tensor, TensorData};
/// use rgd_kernels::{EncoderPath, layer_norm::layer_norm};
/// let device = Device::flex();
/// let x = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, 3.0], [1, 2]), &device);
/// let gamma = Tensor::<1>::from_data(TensorData::new(vec![2.0f32, 1.0], [2]), &device);
/// let beta = Tensor::<1>::from_data(TensorData::new(vec![0.0f32, 0.5], [2]), &device);
/// let y = layer_norm(x, gamma, beta, 0.0, EncoderPath::FusedNorm);
/// // μ = 2, σ = 1: x̂ = [−1, 1].
/// assert_eq!(y.into_data().try_to_vec::<f32>().unwrap(), [-2.0, 1.5]);
/// ```
pub fn layer_norm(
    x: Tensor<2>,
    gamma: Tensor<1>,
    beta: Tensor<1>,
    epsilon: f64,
    path: EncoderPath,
) -> Tensor<2> {
    let [n, d] = x.dims();
    assert_eq!(gamma.dims(), [d], "layer_norm: gamma of {:?}", gamma.dims());
    assert_eq!(beta.dims(), [d], "layer_norm: beta of {:?}", beta.dims());
    let f32s = gamma.dtype() == DType::F32 && beta.dtype() == DType::F32;
    if path != EncoderPath::FusedNorm || !path.fuses(&x) || !f32s || n == 0 || d == 0 {
        return burn::tensor::module::layer_norm(x, gamma, Some(beta), epsilon);
    }
    Tensor::from_dispatch(<Dispatch as FusedLayerNorm>::layer_norm_fused(
        x.into_dispatch(),
        gamma.into_dispatch(),
        beta.into_dispatch(),
        epsilon as f32,
    ))
}
