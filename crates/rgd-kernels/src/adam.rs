//! AdamW in one pass over each parameter on the Flex backend: the same arithmetic as burn's
//! `AdamW`, element by element, so the results are bit-identical, without its dozen
//! intermediate tensors.
//!
//! With gradient `g`, moments `m`, `v`, step count `t` (from 1), learning rate `lr` and weight
//! decay `wd`, every element is updated as burn 0.22.1's `AdamW` does, in `f32` and in this
//! order (`f₁ = 1 − β₁`, `f₂ = 1 − β₂`):
//!
//! ```text
//! m ← m·β₁ + g·f₁                 (t = 1: m ← g·f₁)
//! v ← v·β₂ + (g·g)·f₂             (t = 1: v ← (g·g)·f₂)
//! δ = (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε)
//! p ← p·(1 − lr·wd) − δ·lr        (p − δ·lr when lr·wd = 0)
//! ```
//!
//! The state is burn's own [`AdamWState`], so checkpoints of either optimizer load into the
//! other. On any device other than Flex, and for tensors that are not `f32`, the step is burn's
//! `AdamW`.

use burn::backend::DispatchDevice;
use burn::optim::{
    AdamW, AdamWConfig, AdamWState, AdaptiveMomentumState, LearningRate, ModuleOptimizer, Optimizer,
};
use burn::tensor::{DType, Device, Tensor, TensorData};

/// AdamW's hyper-parameters (PyTorch's names; no AMSGrad, no cautious weight decay).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamWParams {
    /// First-moment decay β₁.
    pub beta_1: f32,
    /// Second-moment decay β₂.
    pub beta_2: f32,
    /// ε, added to √v̂.
    pub epsilon: f32,
    /// Decoupled weight decay.
    pub weight_decay: f32,
}

/// AdamW, fused on Flex ([module docs](self)); burn's `AdamW` elsewhere.
///
/// ```
/// use rgd_kernels::adam::{AdamWParams, FusedAdamW};
/// let params = AdamWParams { beta_1: 0.9, beta_2: 0.999, epsilon: 1e-8, weight_decay: 0.01 };
/// let optimizer: burn::optim::ModuleOptimizer = FusedAdamW::new(params).into();
/// ```
#[derive(Clone)]
pub struct FusedAdamW {
    params: AdamWParams,
    /// burn's optimizer with the same parameters: the path off Flex.
    burn: AdamW,
}

impl FusedAdamW {
    /// The optimizer with `params`.
    pub fn new(params: AdamWParams) -> Self {
        let burn = AdamWConfig::new()
            .with_beta_1(params.beta_1)
            .with_beta_2(params.beta_2)
            .with_epsilon(params.epsilon)
            .with_weight_decay(params.weight_decay)
            .build();
        FusedAdamW { params, burn }
    }

    /// burn's `AdamW` with the same parameters, as a module optimizer (for comparisons).
    pub fn burn(params: AdamWParams) -> ModuleOptimizer {
        FusedAdamW::new(params).burn.into()
    }
}

/// The f32 elements of `tensor`, moved out without a copy where Flex holds them alone.
fn elements<const D: usize>(tensor: Tensor<D>) -> TensorData {
    tensor.into_data()
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
        let on_flex = matches!(tensor.device().as_dispatch(), DispatchDevice::Flex(_));
        let amsgrad = state
            .as_ref()
            .is_some_and(|s| s.momentum.max_moment_2.is_some());
        if !on_flex || tensor.dtype() != DType::F32 || grad.dtype() != DType::F32 || amsgrad {
            return self.burn.step(lr, tensor, grad, state);
        }
        let device = tensor.device();
        let shape = tensor.shape();
        let (time, m, v) = match state {
            Some(s) => (
                s.momentum.time + 1,
                Some(s.momentum.moment_1),
                Some(s.momentum.moment_2),
            ),
            None => (1, None, None),
        };
        let mut p = elements(tensor);
        let g = elements(grad);
        let fresh = || TensorData::zeros::<f32, _>(shape.clone());
        let mut m = m.map_or_else(fresh, elements);
        let mut v = v.map_or_else(fresh, elements);
        let (Ok(p_s), Ok(g_s), Ok(m_s), Ok(v_s)) = (
            p.as_mut_slice::<f32>(),
            g.as_slice::<f32>(),
            m.as_mut_slice::<f32>(),
            v.as_mut_slice::<f32>(),
        ) else {
            unreachable!("f32 tensors checked above hold f32 data")
        };
        update(p_s, g_s, m_s, v_s, &self.params, time, lr);
        let tensor = |data: TensorData| Tensor::<D>::from_data(data, &device);
        let momentum = AdaptiveMomentumState::new(time, tensor(m), tensor(v));
        (tensor(p), Some(AdamWState::new(momentum)))
    }

    fn to_device<const D: usize>(state: AdamWState<D>, device: &Device) -> AdamWState<D> {
        <AdamW as Optimizer>::to_device(state, device)
    }
}

/// One AdamW step of step count `time` (from 1) over the elements of a parameter `p`, its
/// gradient `g` and moments `m`, `v` (zeros at `time = 1`), as the module docs write it.
fn update(
    p: &mut [f32],
    g: &[f32],
    m: &mut [f32],
    v: &mut [f32],
    params: &AdamWParams,
    time: usize,
    lr: LearningRate,
) {
    let AdamWParams {
        beta_1,
        beta_2,
        epsilon,
        weight_decay,
    } = *params;
    let (f1, f2) = (1.0 - beta_1, 1.0 - beta_2);
    let t = time as i32;
    let (c1, c2) = (1f32 - beta_1.powi(t), 1f32 - beta_2.powi(t));
    let decay_rate = lr * f64::from(weight_decay);
    let keep = (1.0 - decay_rate) as f32;
    let lr = lr as f32;
    let first = time == 1;
    for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
        let gg = g * g;
        (*m, *v) = match first {
            true => (g * f1, gg * f2),
            false => (*m * beta_1 + g * f1, *v * beta_2 + gg * f2),
        };
        let delta = (*m / c1) / ((*v / c2).sqrt() + epsilon);
        let decayed = match decay_rate == 0.0 {
            true => *p,
            false => *p * keep,
        };
        *p = decayed - delta * lr;
    }
}
