//! Per-example losses as rank-1 tensors (reduction 'none'), ready for any rule.

use burn::prelude::*;
use burn::tensor::activation::{log_softmax, relu};

use crate::{PerExampleLoss, RgdBurnError};

fn check_targets(logits: &[usize], targets: usize) -> Result<(), RgdBurnError> {
    if targets != logits[0] {
        return Err(RgdBurnError::ShapeMismatch {
            what: "targets",
            expected: vec![logits[0]],
            got: vec![targets],
        });
    }
    Ok(())
}

/// Cross-entropy from logits `[B, C]` and class ids `[B]`, one loss per example:
/// `l_i = -(1 - eps) log p_i[y_i] - eps mean_c log p_i[c]` with label smoothing `eps` in `[0, 1)`
/// (`eps = 0`: plain cross-entropy).
///
/// ```
/// use burn::prelude::*;
/// let device = Device::flex();
/// let logits = Tensor::<2>::from_floats([[2.0, 0.0], [0.0, 0.0]], &device);
/// let targets = Tensor::<1, Int>::from_ints([0, 1], &device);
/// let l = rgd_burn::loss::cross_entropy(logits, targets, 0.0).unwrap();
/// let v = l.into_tensor().into_data().try_into_vec_as::<f32>().unwrap();
/// assert!((v[0] - (1.0 + (-2.0f32).exp()).ln()).abs() < 1e-6);
/// assert!((v[1] - 2f32.ln()).abs() < 1e-6);
/// ```
pub fn cross_entropy(
    logits: Tensor<2>,
    targets: Tensor<1, Int>,
    label_smoothing: f64,
) -> Result<PerExampleLoss, RgdBurnError> {
    if !(0.0..1.0).contains(&label_smoothing) {
        return Err(RgdBurnError::InvalidParameter {
            field: "label_smoothing",
            value: label_smoothing,
            allowed: "label smoothing must lie in [0, 1) (0 disables it)",
        });
    }
    let [batch, _] = logits.dims();
    check_targets(&logits.dims(), targets.dims()[0])?;
    let log_p = log_softmax(logits, 1);
    let nll = log_p
        .clone()
        .gather(1, targets.reshape([batch, 1]))
        .reshape([batch])
        .neg();
    let loss = if label_smoothing > 0.0 {
        let uniform = log_p.mean_dim(1).reshape([batch]).neg();
        nll.mul_scalar(1.0 - label_smoothing) + uniform.mul_scalar(label_smoothing)
    } else {
        nll
    };
    Ok(PerExampleLoss::from_rows(loss))
}

/// Binary cross-entropy from logits `[B]` and targets in `[0, 1]` `[B]`, computed stably:
/// `l_i = max(x, 0) - x y + log(1 + e^{-|x|})`.
///
/// ```
/// use burn::prelude::*;
/// let device = Device::flex();
/// let x = Tensor::<1>::from_floats([0.0, 100.0], &device);
/// let y = Tensor::<1>::from_floats([1.0, 0.0], &device);
/// let v = rgd_burn::loss::binary_cross_entropy_with_logits(x, y).unwrap()
///     .into_tensor().into_data().try_into_vec_as::<f32>().unwrap();
/// assert!((v[0] - 2f32.ln()).abs() < 1e-6);
/// assert!((v[1] - 100.0).abs() < 1e-4); // no overflow
/// ```
pub fn binary_cross_entropy_with_logits(
    logits: Tensor<1>,
    targets: Tensor<1>,
) -> Result<PerExampleLoss, RgdBurnError> {
    check_targets(&logits.dims(), targets.dims()[0])?;
    let softplus_neg_abs = logits.clone().abs().neg().exp().log1p();
    let loss = relu(logits.clone()) - logits * targets + softplus_neg_abs;
    Ok(PerExampleLoss::from_rows(loss))
}

/// Mean squared error per example, averaged over the feature axis:
/// `l_i = (1/D) Σ_d (p_id - y_id)^2` for predictions and targets `[B, D]`.
///
/// ```
/// use burn::prelude::*;
/// let device = Device::flex();
/// let p = Tensor::<2>::from_floats([[1.0, 2.0], [0.0, 0.0]], &device);
/// let y = Tensor::<2>::from_floats([[0.0, 0.0], [0.0, 3.0]], &device);
/// let v = rgd_burn::loss::mse(p, y).unwrap().into_tensor().into_data()
///     .try_into_vec_as::<f32>().unwrap();
/// assert_eq!(v, vec![2.5, 4.5]);
/// ```
pub fn mse(predictions: Tensor<2>, targets: Tensor<2>) -> Result<PerExampleLoss, RgdBurnError> {
    if predictions.dims() != targets.dims() {
        return Err(RgdBurnError::ShapeMismatch {
            what: "targets",
            expected: predictions.dims().to_vec(),
            got: targets.dims().to_vec(),
        });
    }
    let [batch, _] = predictions.dims();
    let diff = predictions - targets;
    Ok(PerExampleLoss::from_rows(
        (diff.clone() * diff).mean_dim(1).reshape([batch]),
    ))
}

/// Focal loss (Lin, Goyal, Girshick, He, Dollár, ICCV 2017) per example:
/// `l_i = (1 - p_i)^gamma * ce_i` with `p_i = e^{-ce_i}` the probability of the true class.
///
/// The factor is part of the loss, so the gradient flows through it (it is not a detached
/// weight); combine it with any rule. `gamma = 0` is cross-entropy.
///
/// ```
/// use burn::prelude::*;
/// let device = Device::flex();
/// let logits = Tensor::<2>::from_floats([[0.0, 0.0]], &device);
/// let targets = Tensor::<1, Int>::from_ints([0], &device);
/// let v = rgd_burn::loss::focal(logits, targets, 2.0).unwrap()
///     .into_tensor().into_data().try_into_vec_as::<f32>().unwrap();
/// assert!((v[0] - 0.25 * 2f32.ln()).abs() < 1e-6);
/// ```
pub fn focal(
    logits: Tensor<2>,
    targets: Tensor<1, Int>,
    gamma: f64,
) -> Result<PerExampleLoss, RgdBurnError> {
    if !(gamma.is_finite() && gamma >= 0.0) {
        return Err(RgdBurnError::InvalidParameter {
            field: "gamma",
            value: gamma,
            allowed: "the focal exponent gamma must be a finite number >= 0 (try 2.0)",
        });
    }
    let ce = cross_entropy(logits, targets, 0.0)?.into_tensor();
    let miss = ce
        .clone()
        .neg()
        .exp()
        .neg()
        .add_scalar(1.0)
        .clamp_min(1e-12);
    Ok(PerExampleLoss::from_rows(miss.powf_scalar(gamma) * ce))
}

/// Reduces per-token losses `[B, T]` to one loss per example: the mean over the tokens whose
/// mask is true (`l_i = Σ_t m_it l_it / max(1, Σ_t m_it)`); padding never counts.
///
/// ```
/// use burn::prelude::*;
/// let device = Device::flex();
/// let tokens = Tensor::<2>::from_floats([[1.0, 3.0, 100.0], [2.0, 0.0, 0.0]], &device);
/// let mask = Tensor::<2, Bool>::from_data([[true, true, false], [true, false, false]], &device);
/// let v = rgd_burn::loss::masked_mean(tokens, mask).unwrap()
///     .into_tensor().into_data().try_into_vec_as::<f32>().unwrap();
/// assert_eq!(v, vec![2.0, 2.0]);
/// ```
pub fn masked_mean(
    token_losses: Tensor<2>,
    mask: Tensor<2, Bool>,
) -> Result<PerExampleLoss, RgdBurnError> {
    if token_losses.dims() != mask.dims() {
        return Err(RgdBurnError::ShapeMismatch {
            what: "mask",
            expected: token_losses.dims().to_vec(),
            got: mask.dims().to_vec(),
        });
    }
    let [batch, _] = token_losses.dims();
    let mask = mask.float();
    let total = (token_losses * mask.clone()).sum_dim(1).reshape([batch]);
    let count = mask.sum_dim(1).reshape([batch]).clamp_min(1.0);
    Ok(PerExampleLoss::from_rows(total / count))
}

/// Per-token cross-entropy for sequence models: logits `[B, T, V]`, targets `[B, T]`, mask
/// `[B, T]` (true for real tokens), reduced to one loss per sequence with [`masked_mean`].
///
/// ```
/// use burn::prelude::*;
/// let device = Device::flex();
/// let logits = Tensor::<3>::zeros([2, 3, 4], &device);
/// let targets = Tensor::<2, Int>::zeros([2, 3], &device);
/// let mask = Tensor::<2, Bool>::from_data([[true, true, false], [true, false, false]], &device);
/// let l = rgd_burn::loss::token_cross_entropy(logits, targets, mask).unwrap();
/// assert_eq!(l.batch_size(), 2);
/// ```
pub fn token_cross_entropy(
    logits: Tensor<3>,
    targets: Tensor<2, Int>,
    mask: Tensor<2, Bool>,
) -> Result<PerExampleLoss, RgdBurnError> {
    let [batch, steps, vocab] = logits.dims();
    if targets.dims() != [batch, steps] {
        return Err(RgdBurnError::ShapeMismatch {
            what: "targets",
            expected: vec![batch, steps],
            got: targets.dims().to_vec(),
        });
    }
    let flat = cross_entropy(
        logits.reshape([batch * steps, vocab]),
        targets.reshape([batch * steps]),
        0.0,
    )?;
    masked_mean(flat.into_tensor().reshape([batch, steps]), mask)
}
