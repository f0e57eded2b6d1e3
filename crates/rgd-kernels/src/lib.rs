//! CPU kernels for burn's Flex backend, added through burn's public extension points rather
//! than a fork: a backend extension (`#[backend_extension(Flex, Autodiff)]`, burn's `extension`
//! feature) and burn-optim's `Optimizer` trait.
//!
//! - [`conv::conv2d`]: a 2-D convolution whose forward, weight gradient and input gradient are
//!   matrix products on the `gemm` crate over an im2col layout, threaded over the batch; burn's
//!   own path on any other device.
//! - [`pool::max_pool2d`]: max pooling over non-overlapping windows in one pass per plane, and
//!   its backward to each window's argmax.
//! - [`attention::attention`]: multi-head scaled dot-product attention in one pass per batch
//!   element, forward and backward, on the projections' `[B, T, D]` layout.
//! - [`gelu::gelu`]: GELU and its derivative as vectorised polynomials.
//! - [`linear::linear`]: a dense layer whose products write straight into their outputs and
//!   whose bias is added across the pool, bit for bit burn's `linear`.
//! - [`adam::FusedAdamW`], [`adam::FusedAdam`]: AdamW and Adam in one pass over each parameter,
//!   bit-identical to burn's.
//!
//! Every kernel is tested against burn's own path: the convolution and the pooling on random
//! shapes, values and gradients (`tests/conv.rs`, `tests/pool.rs`), attention, GELU and the dense
//! layer likewise (`tests/encoder.rs`, `tests/linear.rs`), Adam and AdamW bit for bit (`tests/adam.rs`).

pub mod adam;
pub mod attention;
pub mod conv;
mod encoder_path;
mod flex_data;
pub mod gelu;
pub mod linear;
mod matmul;
pub mod pool;
mod simd;

pub use encoder_path::EncoderPath;
pub use simd::instruction_set;
