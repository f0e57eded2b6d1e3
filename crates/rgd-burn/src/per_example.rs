//! A rank-1 tensor that is known to hold one loss per example.

use burn::prelude::*;

use crate::RgdBurnError;

/// Per-example losses `[batch]`, checked to hold exactly one loss per example.
///
/// The loss functions of [`crate::loss`] return it; a custom loss enters through
/// [`PerExampleLoss::new`], which rejects anything but a rank-1 tensor whose length is the batch
/// size. Reweighting an already reduced mean, the classic mistake (it only rescales the learning
/// rate), therefore cannot happen.
///
/// ```
/// use burn::prelude::*;
/// use rgd_burn::{PerExampleLoss, RgdBurnError};
/// let device = Device::flex();
/// let losses = Tensor::<1>::from_floats([0.1, 0.7, 2.0], &device);
/// assert_eq!(PerExampleLoss::new(losses.clone(), 3).unwrap().batch_size(), 3);
/// let mean = losses.mean(); // shape [1]
/// assert!(matches!(PerExampleLoss::new(mean, 3), Err(RgdBurnError::BatchMismatch { .. })));
/// let per_token = Tensor::<2>::zeros([3, 5], &device);
/// assert!(matches!(PerExampleLoss::new(per_token, 3), Err(RgdBurnError::NotPerExample { .. })));
/// ```
#[derive(Debug, Clone)]
pub struct PerExampleLoss {
    losses: Tensor<1>,
}

impl PerExampleLoss {
    /// Checks that `losses` is rank 1 with `batch_size` entries.
    pub fn new<const D: usize>(losses: Tensor<D>, batch_size: usize) -> Result<Self, RgdBurnError> {
        let dims = losses.dims();
        if D != 1 {
            return Err(RgdBurnError::NotPerExample {
                rank: D,
                shape: dims.to_vec(),
            });
        }
        if dims[0] != batch_size {
            return Err(RgdBurnError::BatchMismatch {
                expected: batch_size,
                got: dims[0],
            });
        }
        Ok(PerExampleLoss {
            losses: losses.reshape([batch_size]),
        })
    }

    /// Wraps a tensor the crate built itself with one loss per row.
    pub(crate) fn from_rows(losses: Tensor<1>) -> Self {
        PerExampleLoss { losses }
    }

    /// The number of examples.
    pub fn batch_size(&self) -> usize {
        self.losses.dims()[0]
    }

    /// The losses, still attached to the autodiff graph.
    pub fn tensor(&self) -> &Tensor<1> {
        &self.losses
    }

    /// The plain (ERM) mean loss, shape `[1]`.
    pub fn mean(self) -> Tensor<1> {
        self.losses.mean()
    }

    /// Unwraps the tensor.
    pub fn into_tensor(self) -> Tensor<1> {
        self.losses
    }
}
