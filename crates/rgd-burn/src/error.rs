//! The one error type of the `rgd-burn` crate.

use thiserror::Error;

/// Everything that can go wrong when building per-example losses or reweighting them.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum RgdBurnError {
    /// The rule rejected the batch (non-finite loss, missing groups, ...).
    #[error(transparent)]
    Rule(#[from] rgd::RgdError),
    /// A tensor that is not rank 1 was given where per-example losses are needed.
    #[error(
        "expected per-example losses as a rank-1 tensor [batch], got rank {rank} with shape \
         {shape:?}; reduce per-token losses to one loss per example first (e.g. with \
         `masked_mean`)"
    )]
    NotPerExample {
        /// Rank of the tensor given.
        rank: usize,
        /// Its shape.
        shape: Vec<usize>,
    },
    /// The number of losses differs from the batch size: typically an already-reduced mean.
    #[error(
        "got {got} losses for a batch of {expected} examples; pass one loss per example \
         (reduction 'none'), not the batch mean: reweighting a mean only rescales the \
         learning rate"
    )]
    BatchMismatch {
        /// The batch size declared.
        expected: usize,
        /// The number of losses found.
        got: usize,
    },
    /// A target or mask does not fit the predictions.
    #[error("{what}: expected shape {expected:?}, got {got:?}")]
    ShapeMismatch {
        /// Which argument is wrong.
        what: &'static str,
        /// The shape required.
        expected: Vec<usize>,
        /// The shape given.
        got: Vec<usize>,
    },
    /// A loss parameter is out of range.
    #[error("invalid {field} = {value}: {allowed}")]
    InvalidParameter {
        /// The parameter.
        field: &'static str,
        /// The rejected value.
        value: f64,
        /// The allowed range.
        allowed: &'static str,
    },
    /// Reading the loss values back from the device failed.
    #[error("could not read the losses back from the device: {0}")]
    Readback(String),
}
