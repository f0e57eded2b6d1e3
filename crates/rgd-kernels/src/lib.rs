//! CPU kernels for burn's Flex backend, added through burn's public backend-extension point
//! (`#[backend_extension(Flex, Autodiff)]`, burn's `extension` feature) rather than a fork.
//!
//! - [`conv::conv2d`]: a 2-D convolution whose forward, weight gradient and input gradient are
//!   matrix products on the `gemm` crate over an im2col layout, threaded over the batch; burn's
//!   own path on any other device.
//! - [`adam::FusedAdamW`]: AdamW in one pass over each parameter, bit-identical to burn's.
//!
//! Every kernel is tested against burn's own path on random shapes, values and gradients
//! (`tests/conv.rs`).

pub mod adam;
pub mod conv;
mod matmul;
