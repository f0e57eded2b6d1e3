//! A few training steps of a lab model on fixed batches, to compare two ways of computing them
//! (two backends, two kernels) step by step.

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::prelude::*;
use rgd::{RgdConfig, RuleConfig};
use rgd_burn::{Reweighter, loss};
use rgd_lab::config::OptimConfig;
use rgd_lab::model::Model;
use rgd_lab::optim::build_optimizer;

/// Every step's per-example losses and RGD weights, and the final flat parameters, of `steps`
/// RGD steps with AdamW of `model` on `device`, on fixed batches of values in [-0.5, 0.5).
pub fn train(
    model: Model,
    shape: &[usize],
    steps: usize,
    device: &Device,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let input = |i: usize, step: usize| (((i * 37 + step * 11) % 97) as f32 / 97.0) - 0.5;
    train_on(model, shape, steps, device, input)
}

/// [`train`] on batches whose element `i` at step `step` is `input(i, step)`.
pub fn train_on(
    model: Model,
    shape: &[usize],
    steps: usize,
    device: &Device,
    input: impl Fn(usize, usize) -> f32,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let features: usize = shape.iter().product();
    let (batch, classes) = (16, 4);
    let mut model = model.fork(device);
    let mut optimizer = build_optimizer(&OptimConfig::default());
    let mut reweighter = Reweighter::new(&RuleConfig::Rgd(RgdConfig::new().with_tau(1.0))).unwrap();
    let (mut losses, mut weights) = (Vec::new(), Vec::new());
    for step in 0..steps {
        // Deterministic inputs, the same on both devices.
        let x: Vec<f32> = (0..batch * features).map(|i| input(i, step)).collect();
        let y: Vec<i64> = (0..batch).map(|i| ((i + step) % classes) as i64).collect();
        let x = Tensor::<2>::from_data(TensorData::new(x, [batch, features]), device);
        let y = Tensor::<1, Int>::from_data(TensorData::new(y, [batch]), device);
        let out = reweighter
            .apply(loss::cross_entropy(model.forward(x, shape), y, 0.0).unwrap())
            .unwrap();
        losses.extend(&out.losses);
        weights.extend(&out.weights);
        let grads = GradientsParams::from_grads(out.loss.backward(), &model);
        model = optimizer.step(1e-3, model, grads);
    }
    (losses, weights, parameters(&model))
}

/// The gradient of the mean cross-entropy of one batch (element `i` is `input(i, 0)`) with
/// respect to every float parameter of `model`, flattened in module order (0 where a parameter
/// gets none).
pub fn gradients(
    model: &Model,
    shape: &[usize],
    device: &Device,
    input: impl Fn(usize, usize) -> f32,
) -> Vec<f32> {
    let features: usize = shape.iter().product();
    let (batch, classes) = (16, 4);
    let x: Vec<f32> = (0..batch * features).map(|i| input(i, 0)).collect();
    let y: Vec<i64> = (0..batch).map(|i| (i % classes) as i64).collect();
    let x = Tensor::<2>::from_data(TensorData::new(x, [batch, features]), device);
    let y = Tensor::<1, Int>::from_data(TensorData::new(y, [batch]), device);
    let losses = loss::cross_entropy(model.forward(x, shape), y, 0.0).unwrap();
    let grads = losses.into_tensor().mean().backward();
    struct Collect<'a>(Vec<f32>, &'a burn::tensor::Gradients);
    impl burn::module::ModuleVisitor for Collect<'_> {
        fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
            let value = param.val();
            let grad = value
                .grad(self.1)
                .map(|g| g.into_data().try_to_vec::<f32>().unwrap());
            self.0
                .extend(grad.unwrap_or_else(|| vec![0.0; value.shape().num_elements()]));
        }
    }
    let mut c = Collect(Vec::new(), &grads);
    model.visit(&mut c);
    c.0
}

/// Every float parameter of `model`, flattened, in module order.
pub fn parameters(model: &Model) -> Vec<f32> {
    struct Collect(Vec<f32>);
    impl burn::module::ModuleVisitor for Collect {
        fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
            self.0
                .extend(param.val().into_data().try_to_vec::<f32>().unwrap());
        }
    }
    let mut c = Collect(Vec::new());
    model.visit(&mut c);
    c.0
}

pub fn assert_close(a: &[f32], b: &[f32], tolerance: f32, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tolerance * y.abs().max(1.0),
            "{what}[{i}]: {x} against {y}"
        );
    }
}
