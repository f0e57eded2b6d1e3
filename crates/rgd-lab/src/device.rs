//! Which burn device the lab computes on.

use burn::prelude::*;

use crate::LabError;

/// The CPU threads burn's pool uses: `RAYON_NUM_THREADS`, else the available cores.
pub fn cpu_threads() -> usize {
    std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// The backend chosen with `--device`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum DeviceChoice {
    /// burn's pure-Rust CPU backend (always available).
    #[default]
    Flex,
    /// NVIDIA GPU 0 (needs a build with `--features cuda`).
    Cuda,
    /// Any GPU through wgpu (needs a build with `--features wgpu`).
    Wgpu,
}

impl DeviceChoice {
    /// The name `--device` takes.
    pub fn name(self) -> String {
        let value = clap::ValueEnum::to_possible_value(&self).expect("no variant is skipped");
        value.get_name().to_string()
    }

    /// The plain (no autodiff) device, for evaluation and prediction.
    pub fn inference(self) -> Result<Device, LabError> {
        match self {
            DeviceChoice::Flex => Ok(Device::flex()),
            #[cfg(feature = "cuda")]
            DeviceChoice::Cuda => Ok(Device::cuda(0)),
            #[cfg(feature = "wgpu")]
            DeviceChoice::Wgpu => Ok(Device::wgpu(Default::default())),
            #[allow(unreachable_patterns)]
            other => Err(LabError::Device(format!(
                "this rgd was built without the {other:?} backend; rebuild with `cargo build \
                 -p rgd-lab --features {}` or use --device flex",
                other.name()
            ))),
        }
    }

    /// The same device with autodiff, for training.
    pub fn training(self) -> Result<Device, LabError> {
        Ok(self.inference()?.autodiff())
    }

    /// The training devices of `n` data-parallel replicas: CUDA devices 0..n; on flex and wgpu,
    /// `n` replicas of the one device (the same arithmetic as `n` devices, for tests and for a
    /// single GPU).
    pub fn training_devices(self, n: usize) -> Result<Vec<Device>, LabError> {
        match self {
            #[cfg(feature = "cuda")]
            DeviceChoice::Cuda => Ok((0..n).map(|k| Device::cuda(k).autodiff()).collect()),
            _ => Ok(vec![self.training()?; n]),
        }
    }
}
