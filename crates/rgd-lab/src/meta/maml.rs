//! First-order MAML (Finn, Abbeel, Levine, ICML 2017; the first-order approximation of their
//! section 5.2).
//!
//! Per episode: start from the meta-parameters `θ`, take `inner_steps` plain SGD steps on the
//! mean support cross-entropy, `θ' = θ - α ∇L_support(θ)` (repeated), then evaluate the query
//! loss at `θ'`. The outer gradient of the episode is `∇_{θ'} L_query(θ')`, applied to `θ`
//! (second derivatives dropped). The inner steps are never reweighted: the rules act on the
//! query losses (example level) or the episode losses (task level).

use burn::module::Module;
use burn::optim::{GradientsParams, SgdConfig};
use burn::prelude::*;
use rgd_burn::loss;

use crate::LabError;

/// Adapts `model` to a support set with `steps` plain SGD steps (learning rate `lr`) on the
/// mean cross-entropy of `forward(model, x)` against `y`. The result shares `model`'s parameter
/// ids, and its parameters are fresh leaves: gradients taken at it are first-order MAML's.
pub fn adapt<M: Module + Clone>(
    mut model: M,
    forward: impl Fn(&M, Tensor<2>) -> Tensor<2>,
    x: Tensor<2>,
    y: Tensor<1, Int>,
    steps: usize,
    lr: f64,
) -> Result<M, LabError> {
    let mut sgd = SgdConfig::new().init();
    for _ in 0..steps {
        let loss = loss::cross_entropy(forward(&model, x.clone()), y.clone(), 0.0)?.mean();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = sgd.step(lr, model, grads);
    }
    Ok(model)
}
