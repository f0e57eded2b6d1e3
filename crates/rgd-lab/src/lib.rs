//! # rgd-lab: the `rgd` command-line lab
//!
//! Trains real models on real data with ERM, RGD and its peers side by side, in self-describing,
//! resumable run folders, and compares them over seeds with paired statistics. The training loop
//! is the lab's own, on burn's autodiff and optimizers; the reweighting is `rgd-burn`'s.
#![warn(missing_docs)]
#![warn(clippy::too_many_lines)]

pub mod bench;
pub mod bert;
pub mod checkpoint;
pub mod cli;
pub mod compare;
pub mod config;
pub mod crash;
pub mod data;
pub mod device;
pub mod encoder;
pub mod engine;
pub mod error;
pub mod export;
pub mod inference;
pub mod interrupt;
pub mod launch;
pub mod lock;
pub mod meta;
pub mod metrics;
pub mod metrics_log;
pub mod model;
pub mod numerics;
pub mod optim;
pub mod plot;
pub mod power;
pub mod regimes;
pub mod report;
pub mod reproduce;
pub mod run_dir;
pub mod run_plots;
pub mod site;
pub mod stats;
pub mod suite;
pub mod sweep;
#[cfg(test)]
mod test_support;
pub mod text;
pub mod train;
pub mod transformer;
pub mod vit;
pub mod weight_trace;

pub use error::{EXIT_CODES, LabError};
