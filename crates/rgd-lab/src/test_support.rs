//! Helpers shared by the model files' unit tests.

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;

/// Trains `model` with Adam (learning rate `lr`) for `steps` steps on the scalar loss
/// `loss_of(model)`, and returns the loss before and after: the "a training step lowers the
/// loss on a tiny batch" check of every model family.
pub(crate) fn loss_before_and_after<M: Module>(
    mut model: M,
    steps: usize,
    lr: f64,
    loss_of: impl Fn(&M) -> Tensor<1>,
) -> (f32, f32) {
    let mut optim = AdamConfig::new().init();
    let before: f32 = loss_of(&model).into_scalar();
    for _ in 0..steps {
        let grads = GradientsParams::from_grads(loss_of(&model).backward(), &model);
        model = optim.step(lr, model, grads);
    }
    (before, loss_of(&model).into_scalar())
}
