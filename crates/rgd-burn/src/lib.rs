//! # rgd-burn: Re-weighted Gradient Descent for burn training loops
//!
//! The glue between the framework-free [`rgd`] rules and [burn](https://burn.dev) 0.22:
//! per-example losses as rank-1 tensors ([`loss`]), and a [`Reweighter`] that turns them into
//! the weighted training loss `(1/B) Σ w_i l_i` with the weights detached, so one RGD step is
//! one ordinary optimizer step (SGD, Adam, AdamW, ...) on that loss.
//!
//! ```text
//! w_i = exp(clamp(stopgrad(l_i), 0, tau) / (tau + 1))       (Kumar et al., TMLR 2024)
//! ```
//!
//! ```
//! use burn::nn::{Linear, LinearConfig};
//! use burn::optim::{AdamConfig, GradientsParams};
//! use burn::prelude::*;
//! use rgd::{RgdConfig, RuleConfig};
//! use rgd_burn::{Reweighter, loss};
//!
//! let device = Device::flex().autodiff();
//! let mut model: Linear = LinearConfig::new(4, 3).init(&device);
//! let mut optim = AdamConfig::new().init();
//! let mut rgd = Reweighter::new(&RuleConfig::Rgd(RgdConfig::new().with_tau(1.0)))?;
//! let x = Tensor::<2>::ones([8, 4], &device);
//! let y = Tensor::<1, Int>::zeros([8], &device);
//!
//! let per_example = loss::cross_entropy(model.forward(x), y, 0.0)?; // [8], never the mean
//! let out = rgd.apply(per_example)?;                                // detached weights
//! let grads = GradientsParams::from_grads(out.loss.backward(), &model);
//! model = optim.step(1e-3, model, grads);                           // optimizer untouched
//! assert!(out.stats.max <= 1.6488);
//! # Ok::<(), rgd_burn::RgdBurnError>(())
//! ```
#![warn(missing_docs)]

mod error;
pub mod loss;
mod per_example;
mod reweighter;

pub use burn;
pub use error::RgdBurnError;
pub use per_example::PerExampleLoss;
pub use reweighter::{Reweighter, WeightedLoss};
