//! The switch between this crate's transformer-block kernels and burn's own ops.

use burn::backend::DispatchDevice;
use burn::tensor::{DType, Tensor};
use serde::{Deserialize, Serialize};

/// Which implementation computes a transformer block's attention, GELU and dense layers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EncoderPath {
    /// The fused kernels of [`crate::attention`], [`crate::gelu`] and [`crate::linear`] on Flex
    /// for f32 tensors, burn's ops elsewhere.
    #[default]
    Fused,
    /// The fused kernels, with the dense layers' matrix products by the `matrixmultiply` crate
    /// (both operands packed into panels, its AVX-512 kernel picked at run time where the CPU
    /// has it) instead of `gemm`: the same values within rounding, not bit for bit.
    Packed,
    /// burn's own ops and their autodiff backward, always (for comparison).
    Burn,
}

impl EncoderPath {
    /// Whether this path computes with a fused kernel on `x`: the fused or packed path, on the
    /// Flex device (with or without autodiff), f32.
    pub fn fuses<const D: usize>(self, x: &Tensor<D>) -> bool {
        self != EncoderPath::Burn
            && matches!(x.device().inner().as_dispatch(), DispatchDevice::Flex(_))
            && x.dtype() == DType::F32
    }
}
