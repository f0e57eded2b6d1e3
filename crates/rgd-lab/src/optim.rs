//! Optimizers with PyTorch's defaults, the learning-rate schedule, and global-norm clipping.

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{GradientsParams, ModuleOptimizer, MultiGradientsParams, SgdConfig};
use burn::prelude::*;
use rgd_kernels::adam::{AdamParams, FusedAdam, FusedAdamW};

use crate::config::{OptimConfig, Optimizer, Schedule};

/// Builds the optimizer of the config, every default set explicitly (PyTorch's, not burn's:
/// epsilon 1e-8, SGD momentum without dampening). Adam and AdamW are `rgd_kernels`' fused
/// steps, which compute burn's bit for bit in one pass per parameter.
pub fn build_optimizer(config: &OptimConfig) -> ModuleOptimizer {
    let decay =
        (config.weight_decay > 0.0).then(|| WeightDecayConfig::new(config.weight_decay as f32));
    match config.algorithm {
        Optimizer::Sgd(sgd) => SgdConfig::new()
            .with_weight_decay(decay)
            .with_momentum((sgd.momentum > 0.0).then(|| {
                MomentumConfig::new()
                    .with_momentum(sgd.momentum)
                    .with_dampening(0.0)
                    .with_nesterov(sgd.nesterov)
            }))
            .init(),
        Optimizer::Adam(adam) => FusedAdam::new(adam_params(adam, config.weight_decay)).into(),
        Optimizer::Adamw(adam) => FusedAdamW::new(adam_params(adam, config.weight_decay)).into(),
    }
}

/// Adam's parameters of the config: its betas and epsilon, and the weight decay (AdamW's
/// decoupled decay, Adam's L2 penalty).
fn adam_params(adam: crate::config::AdamConfig, weight_decay: f64) -> AdamParams {
    AdamParams {
        beta_1: adam.beta1 as f32,
        beta_2: adam.beta2 as f32,
        epsilon: adam.eps as f32,
        weight_decay: weight_decay as f32,
    }
}

/// The learning rate at `step` (0-based) of `total` steps: linear warm-up from 0, then
/// constant, cosine decay to `min_lr_factor * lr`, or step decay.
///
/// ```
/// use rgd_lab::{config::OptimConfig, optim::learning_rate};
/// let c = OptimConfig { lr: 1.0, warmup_steps: 10, ..OptimConfig::default() };
/// assert_eq!(learning_rate(&c, 4, 110), 0.5);
/// assert!((learning_rate(&c, 60, 110) - 0.5).abs() < 0.02);
/// ```
pub fn learning_rate(config: &OptimConfig, step: u64, total: u64) -> f64 {
    let lr = config.lr;
    if step < config.warmup_steps {
        return lr * (step + 1) as f64 / config.warmup_steps as f64;
    }
    let after = (step - config.warmup_steps) as f64;
    match config.schedule {
        Schedule::Cosine(cosine) => {
            let span = total.saturating_sub(config.warmup_steps).max(1) as f64;
            let progress = (after / span).min(1.0);
            let floor = cosine.min_lr_factor * lr;
            floor + (lr - floor) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
        }
        Schedule::Step(step) => lr * step.gamma.powi((after as u64 / step.every) as i32),
        Schedule::Constant => lr,
    }
}

/// Visits the trainable parameters to sum the squares of their gradients.
struct SquaredNorm<'a> {
    grads: &'a GradientsParams,
    total: f64,
}

impl ModuleVisitor for SquaredNorm<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.grads.get::<D>(param.id) {
            self.total += f64::from(g.powi_scalar(2).sum().into_scalar::<f32>());
        }
    }
}

/// Visits the trainable parameters to scale their gradients.
struct Scale<'a> {
    grads: &'a mut GradientsParams,
    factor: f64,
}

impl ModuleVisitor for Scale<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.grads.remove::<D>(param.id) {
            self.grads.register(param.id, g.mul_scalar(self.factor));
        }
    }
}

/// Visits the trainable parameters to move their summed gradients into one set.
struct Sum<'a> {
    multi: &'a mut MultiGradientsParams,
    out: GradientsParams,
    device: &'a Device,
}

impl ModuleVisitor for Sum<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some((g, _)) = self.multi.remove::<D>(param.id) {
            self.out.register(param.id, g.to_device(self.device));
        }
    }
}

/// The gradients of the model replicas of data-parallel training summed per parameter (burn's
/// [`MultiGradientsParams`] adds each parameter's gradients from every replica on one of their
/// devices), moved to `device`, the model's: one set to clip and step with.
pub fn sum_gradients<M: Module>(
    module: &M,
    mut multi: MultiGradientsParams,
    device: &Device,
) -> GradientsParams {
    let mut visitor = Sum {
        multi: &mut multi,
        out: GradientsParams::new(),
        device,
    };
    module.visit(&mut visitor);
    visitor.out
}

/// Clips the gradients to global L2 norm `max_norm`, as PyTorch's `clip_grad_norm_` (burn's
/// own clipping is per tensor).
pub fn clip_grad_norm<M: Module>(module: &M, grads: &mut GradientsParams, max_norm: f64) {
    let mut squares = SquaredNorm { grads, total: 0.0 };
    module.visit(&mut squares);
    let norm = squares.total.sqrt();
    if norm > max_norm {
        let factor = max_norm / (norm + 1e-6);
        module.visit(&mut Scale { grads, factor });
    }
}
