//! Adam and AdamW in one pass over each parameter on the Flex backend: the same arithmetic as
//! burn's `Adam` and `AdamW`, element by element, so the results are bit-identical, without
//! their dozen intermediate tensors.
//!
//! With gradient `g`, moments `m`, `v`, step count `t` (from 1), learning rate `lr`, every
//! element is updated as burn 0.22.1 does, in `f32` and in this order (`f₁ = 1 − β₁`,
//! `f₂ = 1 − β₂`, `b₁ = 1 − β₁ᵗ`, `b₂ = 1 − β₂ᵗ`):
//!
//! ```text
//! Adam only, with L2 penalty λ:   g ← p·λ + g
//! m ← m·β₁ + g·f₁                 (t = 1: m ← g·f₁)
//! v ← v·β₂ + (g·g)·f₂             (t = 1: v ← (g·g)·f₂)
//! AdamW, weight decay wd:         δ = (m / b₁) / (√(v / b₂) + ε)
//!                                 p ← p·(1 − lr·wd) − δ·lr        (p − δ·lr when lr·wd = 0)
//! Adam:                           δ = (m·(√b₂ / b₁)) / (√v + ε·√b₂)
//!                                 p ← p − δ·lr
//! ```
//!
//! The states are burn's own [`AdamState`] and [`AdamWState`], so checkpoints of burn's
//! optimizers and of these load into each other. On any device other than Flex, for tensors
//! that are not `f32`, and with AMSGrad state, the step is burn's.

use burn::backend::DispatchDevice;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::{
    Adam, AdamConfig, AdamState, AdamW, AdamWConfig, AdamWState, AdaptiveMomentumState,
    LearningRate, ModuleOptimizer, Optimizer,
};
use burn::tensor::{DType, Device, Tensor, TensorData};

/// Adam's and AdamW's hyper-parameters (PyTorch's names; no AMSGrad).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamParams {
    /// First-moment decay β₁.
    pub beta_1: f32,
    /// Second-moment decay β₂.
    pub beta_2: f32,
    /// ε, added to the root of the second moment.
    pub epsilon: f32,
    /// AdamW: the decoupled weight decay; Adam: the L2 penalty added to the gradient (none
    /// when 0).
    pub weight_decay: f32,
}

/// AdamW, fused on Flex ([module docs](self)); burn's `AdamW` elsewhere.
///
/// ```
/// use rgd_kernels::adam::{AdamParams, FusedAdamW};
/// let params = AdamParams { beta_1: 0.9, beta_2: 0.999, epsilon: 1e-8, weight_decay: 0.01 };
/// let optimizer: burn::optim::ModuleOptimizer = FusedAdamW::new(params).into();
/// ```
#[derive(Clone)]
pub struct FusedAdamW {
    params: AdamParams,
    /// burn's optimizer with the same parameters: the path off Flex.
    burn: AdamW,
}

/// Adam with an optional L2 penalty, fused on Flex ([module docs](self)); burn's `Adam`
/// elsewhere.
#[derive(Clone)]
pub struct FusedAdam {
    params: AdamParams,
    burn: Adam,
}

impl FusedAdamW {
    /// The optimizer with `params`.
    pub fn new(params: AdamParams) -> Self {
        FusedAdamW {
            params,
            burn: AdamWConfig::new()
                .with_beta_1(params.beta_1)
                .with_beta_2(params.beta_2)
                .with_epsilon(params.epsilon)
                .with_weight_decay(params.weight_decay)
                .build(),
        }
    }

    /// burn's `AdamW` with the same parameters, as a module optimizer (for comparisons).
    pub fn burn(params: AdamParams) -> ModuleOptimizer {
        FusedAdamW::new(params).burn.into()
    }
}

impl FusedAdam {
    /// The optimizer with `params`.
    pub fn new(params: AdamParams) -> Self {
        let penalty =
            (params.weight_decay > 0.0).then(|| WeightDecayConfig::new(params.weight_decay));
        FusedAdam {
            params,
            burn: AdamConfig::new()
                .with_beta_1(params.beta_1)
                .with_beta_2(params.beta_2)
                .with_epsilon(params.epsilon)
                .with_weight_decay(penalty)
                .build(),
        }
    }

    /// burn's `Adam` with the same parameters, as a module optimizer (for comparisons).
    pub fn burn(params: AdamParams) -> ModuleOptimizer {
        FusedAdam::new(params).burn.into()
    }
}

/// Which of the two updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    Adam,
    AdamW,
}

impl Optimizer for FusedAdamW {
    type State<const D: usize> = AdamWState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<AdamWState<D>>,
    ) -> (Tensor<D>, Option<AdamWState<D>>) {
        let moments = state.as_ref().map(|s| &s.momentum);
        if !fuses(&tensor, &grad, moments) {
            return self.burn.step(lr, tensor, grad, state);
        }
        let moments = state.map(|s| s.momentum);
        let (tensor, moments) = fused(Rule::AdamW, &self.params, lr, tensor, grad, moments);
        (tensor, Some(AdamWState::new(moments)))
    }

    fn to_device<const D: usize>(state: AdamWState<D>, device: &Device) -> AdamWState<D> {
        <AdamW as Optimizer>::to_device(state, device)
    }
}

impl Optimizer for FusedAdam {
    type State<const D: usize> = AdamState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<AdamState<D>>,
    ) -> (Tensor<D>, Option<AdamState<D>>) {
        let moments = state.as_ref().map(|s| &s.momentum);
        if !fuses(&tensor, &grad, moments) {
            return self.burn.step(lr, tensor, grad, state);
        }
        let moments = state.map(|s| s.momentum);
        let (tensor, moments) = fused(Rule::Adam, &self.params, lr, tensor, grad, moments);
        (tensor, Some(AdamState::new(moments)))
    }

    fn to_device<const D: usize>(state: AdamState<D>, device: &Device) -> AdamState<D> {
        <Adam as Optimizer>::to_device(state, device)
    }
}

/// Whether the fused step applies: f32 tensors on Flex, no AMSGrad state.
fn fuses<const D: usize>(
    tensor: &Tensor<D>,
    grad: &Tensor<D>,
    moments: Option<&AdaptiveMomentumState<D>>,
) -> bool {
    matches!(tensor.device().as_dispatch(), DispatchDevice::Flex(_))
        && tensor.dtype() == DType::F32
        && grad.dtype() == DType::F32
        && moments.is_none_or(|m| {
            m.max_moment_2.is_none()
                && m.moment_1.dtype() == DType::F32
                && m.moment_2.dtype() == DType::F32
        })
}

/// The fused step of `rule` on a parameter `tensor` with `grad` and its `moments` (none at the
/// first step), for tensors [`fuses`] accepts.
fn fused<const D: usize>(
    rule: Rule,
    params: &AdamParams,
    lr: LearningRate,
    tensor: Tensor<D>,
    grad: Tensor<D>,
    moments: Option<AdaptiveMomentumState<D>>,
) -> (Tensor<D>, AdaptiveMomentumState<D>) {
    let device = tensor.device();
    let shape = tensor.shape();
    // Moved out of Flex's buffers without a copy where the tensor holds them alone.
    let (time, m, v) = match moments {
        Some(s) => (s.time + 1, s.moment_1.into_data(), s.moment_2.into_data()),
        None => {
            let zeros = || TensorData::zeros::<f32, _>(shape.clone());
            (1, zeros(), zeros())
        }
    };
    let (mut p, g, mut m, mut v) = (tensor.into_data(), grad.into_data(), m, v);
    let (Ok(p_s), Ok(g_s), Ok(m_s), Ok(v_s)) = (
        p.as_mut_slice::<f32>(),
        g.as_slice::<f32>(),
        m.as_mut_slice::<f32>(),
        v.as_mut_slice::<f32>(),
    ) else {
        unreachable!("`fuses` checked that the four tensors are f32")
    };
    update(rule, params, time, lr, p_s, g_s, m_s, v_s);
    let tensor = |data: TensorData| Tensor::<D>::from_data(data, &device);
    let moments = AdaptiveMomentumState::new(time, tensor(m), tensor(v));
    (tensor(p), moments)
}

/// One step of step count `time` (from 1) over the elements of a parameter `p`, its gradient
/// `g` and moments `m`, `v` (not read at `time = 1`), as the module docs write it.
#[allow(clippy::too_many_arguments)]
fn update(
    rule: Rule,
    params: &AdamParams,
    time: usize,
    lr: LearningRate,
    p: &mut [f32],
    g: &[f32],
    m: &mut [f32],
    v: &mut [f32],
) {
    let AdamParams {
        beta_1,
        beta_2,
        epsilon,
        weight_decay,
    } = *params;
    let (f1, f2) = (1.0 - beta_1, 1.0 - beta_2);
    let t = time as i32;
    let (b1, b2) = (1f32 - beta_1.powi(t), 1f32 - beta_2.powi(t));
    let b2_sqrt = b2.sqrt();
    let (adam_factor, adam_epsilon) = (b2_sqrt / b1, epsilon * b2_sqrt);
    let decay_rate = lr * f64::from(weight_decay);
    let keep = (1.0 - decay_rate) as f32;
    let penalty = rule == Rule::Adam && weight_decay > 0.0;
    let lr = lr as f32;
    let first = time == 1;
    for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
        let g = match penalty {
            true => *p * weight_decay + g,
            false => g,
        };
        let gg = g * g;
        (*m, *v) = match first {
            true => (g * f1, gg * f2),
            false => (*m * beta_1 + g * f1, *v * beta_2 + gg * f2),
        };
        *p = match rule {
            Rule::AdamW => {
                let delta = (*m / b1) / ((*v / b2).sqrt() + epsilon);
                let decayed = match decay_rate == 0.0 {
                    true => *p,
                    false => *p * keep,
                };
                decayed - delta * lr
            }
            Rule::Adam => {
                let delta = (*m * adam_factor) / (v.sqrt() + adam_epsilon);
                *p - delta * lr
            }
        };
    }
}
