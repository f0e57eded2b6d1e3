//! The optimizer section of a config: the algorithm with its own keys, and the schedule.

use serde::{Deserialize, Serialize};
use smart_default::SmartDefault;

use super::check;
use crate::LabError;

/// Optimizer, schedule and clipping. Defaults follow PyTorch, not burn: Adam/AdamW epsilon
/// 1e-8, AdamW weight decay 0.01, SGD momentum without dampening, clipping by the global norm.
///
/// ```toml
/// [optim]
/// name = "adamw"            # or "adam" (beta1, beta2, eps), "sgd" (momentum, nesterov)
/// lr = 0.001
/// weight_decay = 0.01
/// warmup_steps = 20
/// schedule = { name = "cosine", min_lr_factor = 0.0 }   # or "constant", { name = "step", every, gamma }
/// ```
#[derive(Debug, Clone, PartialEq, SmartDefault, Serialize, Deserialize)]
#[serde(default)]
pub struct OptimConfig {
    /// Peak learning rate.
    #[default = 1e-3]
    pub lr: f64,
    /// Weight decay: decoupled for AdamW (PyTorch default 0.01), L2 for SGD and Adam.
    #[default = 0.01]
    pub weight_decay: f64,
    /// Linear warm-up steps from 0 to `lr`.
    pub warmup_steps: u64,
    /// Clip gradients to this global L2 norm (0: no clipping).
    pub clip_grad_norm: f64,
    /// The algorithm and its own keys (`name = ...`).
    #[serde(flatten)]
    #[default(Optimizer::Adamw(AdamConfig::default()))]
    pub algorithm: Optimizer,
    /// The learning-rate schedule after the warm-up.
    #[default(Schedule::Cosine(CosineSchedule::default()))]
    pub schedule: Schedule,
}

/// The optimizer algorithm: `name = "sgd" | "adam" | "adamw"`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "lowercase")]
pub enum Optimizer {
    /// SGD, optionally with momentum (no dampening, as PyTorch).
    Sgd(SgdConfig),
    /// Adam, with L2 weight decay.
    Adam(AdamConfig),
    /// AdamW, with decoupled weight decay.
    Adamw(AdamConfig),
}

/// SGD's keys.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SgdConfig {
    /// Momentum (0: none).
    pub momentum: f64,
    /// Nesterov momentum.
    pub nesterov: bool,
}

/// Adam's and AdamW's keys.
#[derive(Debug, Clone, Copy, PartialEq, SmartDefault, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdamConfig {
    /// First-moment decay.
    #[default = 0.9]
    pub beta1: f64,
    /// Second-moment decay.
    #[default = 0.999]
    pub beta2: f64,
    /// Epsilon (PyTorch's 1e-8, not burn's 1e-5).
    #[default = 1e-8]
    pub eps: f64,
}

/// The learning rate after the warm-up: `name = "constant" | "cosine" | "step"`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "lowercase")]
pub enum Schedule {
    /// `lr` throughout.
    Constant,
    /// Cosine decay from `lr` to `min_lr_factor * lr` at the last step.
    Cosine(CosineSchedule),
    /// `lr` times `gamma` every `every` steps.
    Step(StepSchedule),
}

/// The cosine schedule's keys.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CosineSchedule {
    /// Final learning rate as a fraction of `lr`.
    pub min_lr_factor: f64,
}

/// The step schedule's keys.
#[derive(Debug, Clone, Copy, PartialEq, SmartDefault, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StepSchedule {
    /// Decay period in steps.
    #[default = 1000]
    pub every: u64,
    /// Decay factor.
    #[default = 0.1]
    pub gamma: f64,
}

impl OptimConfig {
    /// Checks every key.
    pub fn validate(&self) -> Result<(), LabError> {
        check(self.lr.is_finite() && self.lr > 0.0, || {
            format!("optim.lr = {} must be a finite number > 0", self.lr)
        })?;
        check(
            self.weight_decay >= 0.0 && self.weight_decay.is_finite(),
            || format!("optim.weight_decay = {} must be >= 0", self.weight_decay),
        )?;
        check(
            self.clip_grad_norm >= 0.0 && self.clip_grad_norm.is_finite(),
            || {
                format!(
                    "optim.clip_grad_norm = {} must be >= 0 (0 disables clipping)",
                    self.clip_grad_norm
                )
            },
        )?;
        match self.algorithm {
            Optimizer::Sgd(s) => {
                check((0.0..1.0).contains(&s.momentum), || {
                    format!("optim.momentum = {} must lie in [0, 1)", s.momentum)
                })?;
                check(!s.nesterov || s.momentum > 0.0, || {
                    "optim.nesterov needs optim.momentum > 0".into()
                })?;
            }
            Optimizer::Adam(a) | Optimizer::Adamw(a) => {
                check(
                    (0.0..1.0).contains(&a.beta1) && (0.0..1.0).contains(&a.beta2),
                    || {
                        format!(
                            "optim.beta1 = {} and optim.beta2 = {} must lie in [0, 1)",
                            a.beta1, a.beta2
                        )
                    },
                )?;
                check(a.eps > 0.0, || format!("optim.eps = {} must be > 0", a.eps))?;
            }
        }
        match self.schedule {
            Schedule::Constant => Ok(()),
            Schedule::Cosine(c) => check((0.0..=1.0).contains(&c.min_lr_factor), || {
                format!(
                    "optim.schedule.min_lr_factor = {} must lie in [0, 1]",
                    c.min_lr_factor
                )
            }),
            Schedule::Step(s) => check(s.every > 0 && s.gamma > 0.0 && s.gamma <= 1.0, || {
                format!(
                    "optim.schedule.every = {} must be > 0 and optim.schedule.gamma = {} in (0, 1]",
                    s.every, s.gamma
                )
            }),
        }
    }
}
