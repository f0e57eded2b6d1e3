//! # rgd: Re-weighted Gradient Descent and its robust peers, framework-free
//!
//! RGD (Kumar, Majmundar, Nagaraj, Suggala, "Stochastic Re-weighted Gradient Descent via
//! Distributionally Robust Optimization", TMLR 2024, arXiv 2306.09222) turns plain training into
//! distributionally robust training by weighting every example of every minibatch by the
//! exponential of its clipped loss:
//!
//! ```text
//! w_i = exp(clamp(stopgrad(l_i), 0, tau) / (tau + 1))
//! L   = (1/B) Σ_i w_i l_i          then any optimizer step on grad L
//! ```
//!
//! This crate holds the rules on plain slices of per-example losses (`f32` or `f64`) and knows
//! nothing of any deep-learning framework; `rgd-burn` applies them to burn tensors with the
//! weights detached. Every rule returns weights scaled so that the training loss is the plain
//! batch mean of `w_i l_i`; normalising rules (TERM, CVaR, chi-square, Group DRO) return weights
//! whose batch mean is 1.
//!
//! | rule | weight | config |
//! |---|---|---|
//! | [`Erm`] | 1 | - |
//! | [`Rgd`] | `exp(min(l, tau)/(tau+1))` | [`RgdConfig`] |
//! | [`Term`] | `exp(t l) / mean exp(t l)` | [`TermConfig`] |
//! | [`Absgd`] | `exp(l/lambda) / u`, `u` a moving average | [`AbsgdConfig`] |
//! | [`Cvar`] | `1/alpha` on the top `floor(alpha B)`, the rest on the next | [`CvarConfig`] |
//! | [`ChiSquare`] | `B q`, `q` on the chi-square ball | [`ChiSquareConfig`] |
//! | [`GroupDro`] | `B q_g / n_g`, `q` kept across steps | [`GroupDroConfig`] |
//!
//! ```
//! use rgd::{RgdConfig, Rule};
//! let mut rule = RgdConfig::new().with_tau(1.0).init()?;
//! let losses = [0.1_f32, 0.5, 2.0];            // per-example losses, never a batch mean
//! let r = rule.reweight(&losses)?;
//! let loss = r.weighted_mean(&losses);          // what to differentiate (weights detached)
//! assert!(r.stats.max <= rule.max_weight() as f64);
//! assert!(loss > losses.iter().map(|&l| l as f64).sum::<f64>() / 3.0);
//! # Ok::<(), rgd::RgdError>(())
//! ```
#![warn(missing_docs)]

mod config;
mod error;
mod math;
mod rule;
pub mod rules;
mod stats;

pub use config::RuleConfig;
pub use error::RgdError;
pub use rule::{Real, Reweighted, Rule, RuleState, reweight_dyn};
pub use rules::absgd::{Absgd, AbsgdConfig};
pub use rules::chi_square::{ChiSquare, ChiSquareConfig};
pub use rules::cvar::{Cvar, CvarConfig};
pub use rules::erm::Erm;
pub use rules::group_dro::{GroupDro, GroupDroConfig};
pub use rules::rgd::{Rgd, RgdConfig};
pub use rules::term::{Term, TermConfig};
pub use stats::WeightStats;
