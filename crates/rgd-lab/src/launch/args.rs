//! The launcher flags of `compare` and `reproduce`, merged with a config's `[launcher]` table.

use serde::Deserialize;

use super::{Launcher, SlurmOptions};
use crate::LabError;

/// Where a grid's runs train (`compare`, `reproduce`).
#[derive(Debug, Clone, clap::Args)]
pub struct LaunchArgs {
    /// local (one run after another in this process), local:N (N worker processes, the cores
    /// split between them) or slurm (one task of a job array per run; see docs/cluster.md).
    #[arg(long, default_value = "local")]
    pub launcher: String,
    /// Slurm: the partition (default: the cluster's).
    #[arg(long)]
    pub partition: Option<String>,
    /// Slurm: the time limit of each task, e.g. 2:00:00.
    #[arg(long)]
    pub time: Option<String>,
    /// Slurm: CPUs (and threads) per task.
    #[arg(long)]
    pub cpus_per_task: Option<usize>,
    /// Slurm: memory per task, e.g. 4G.
    #[arg(long)]
    pub mem: Option<String>,
    /// Slurm: at most this many tasks at once.
    #[arg(long)]
    pub max_running: Option<usize>,
    /// Slurm: most tasks of one array; a larger stage is submitted as several arrays in turn.
    #[arg(long)]
    pub max_array_size: Option<usize>,
    /// Slurm: one more sbatch argument, as it is (repeatable), e.g. --sbatch-arg=--account=abc.
    #[arg(long = "sbatch-arg", allow_hyphen_values = true)]
    pub sbatch_args: Vec<String>,
}

impl LaunchArgs {
    /// The launcher, its Slurm settings from `table` (a config's `[launcher]`) and the flags.
    pub fn launcher(&self, table: Option<toml::Table>) -> Result<Launcher, LabError> {
        let table = toml::Value::Table(table.unwrap_or_default());
        let mut slurm = SlurmOptions::deserialize(table).map_err(|e| {
            LabError::Config(format!(
                "[launcher]: {e}; its keys are partition, time, cpus_per_task, mem, \
                 max_running, sbatch_args, max_array_size"
            ))
        })?;
        slurm.partition = self.partition.clone().unwrap_or(slurm.partition);
        slurm.time = self.time.clone().unwrap_or(slurm.time);
        slurm.mem = self.mem.clone().unwrap_or(slurm.mem);
        slurm.cpus_per_task = self.cpus_per_task.unwrap_or(slurm.cpus_per_task);
        slurm.max_running = self.max_running.unwrap_or(slurm.max_running);
        slurm.max_array_size = self.max_array_size.unwrap_or(slurm.max_array_size);
        slurm.sbatch_args.extend(self.sbatch_args.iter().cloned());
        Launcher::parse(&self.launcher, &slurm)
    }
}
