//! Where a grid's runs train: in this process one after another (`local`, the default), in N
//! worker processes on this machine (`local:N`), or as the tasks of a Slurm job array
//! (`slurm`).
//!
//! A grid point is a run folder and its config. Every launcher first *stages* the points in
//! this process ([`crate::run_dir::stage`]: a finished run of the same config and numerics is
//! reused, a folder of another config refused, the config written), runs the rest as `rgd
//! resume <folder>` (which trains a run from its start or resumes its checkpoint), then reads
//! the summaries back. So a record's metrics do not depend on the launcher (at equal threads
//! per run), running the same command twice is safe, and an interrupted grid resumes where
//! it stopped. The grid folder keeps `points.json` (every point launched, for `rgd status`);
//! a point whose worker failed gets `failed.txt` (its exit status and log) until it succeeds.

mod args;
mod pool;
mod slurm;
pub mod status;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use smart_default::SmartDefault;

use crate::LabError;
use crate::config::RunConfig;
use crate::run_dir::{RunOptions, Trainable, read_json, write_atomic, write_json};

pub use args::LaunchArgs;
pub use slurm::SlurmOptions;

/// How a grid's runs are launched (`--launcher`).
#[derive(Debug, Clone, PartialEq, SmartDefault)]
pub enum Launcher {
    /// In this process (`local`), or in N worker processes (`local:N`).
    #[default]
    Local {
        /// Worker processes (1: in this process).
        #[default = 1]
        workers: usize,
    },
    /// One task of a Slurm job array per run (`slurm`).
    Slurm(SlurmOptions),
}

impl Launcher {
    /// Parses `local`, `local:N` or `slurm` (Slurm's settings come from `options`).
    ///
    /// ```
    /// use rgd_lab::launch::{Launcher, SlurmOptions};
    /// let slurm = SlurmOptions::default();
    /// assert_eq!(Launcher::parse("local:4", &slurm).unwrap(), Launcher::Local { workers: 4 });
    /// assert!(Launcher::parse("local:0", &slurm).is_err());
    /// assert!(Launcher::parse("ssh", &slurm).unwrap_err().to_string().contains("local:N"));
    /// ```
    pub fn parse(text: &str, options: &SlurmOptions) -> Result<Launcher, LabError> {
        match (text, text.strip_prefix("local:").map(str::parse)) {
            ("local", _) => Ok(Launcher::default()),
            ("slurm", _) => Ok(Launcher::Slurm(options.clone())),
            (_, Some(Ok(workers))) if workers >= 1 => Ok(Launcher::Local { workers }),
            _ => Err(LabError::Config(format!(
                "--launcher {text}: expected local, local:N (N >= 1 worker processes) or slurm"
            ))),
        }
    }
}

/// One run of a grid: its config (supervised or meta-learning) and its folder.
#[derive(Debug, Clone)]
pub struct Point<C = RunConfig> {
    /// The run's config.
    pub config: C,
    /// The run folder.
    pub folder: PathBuf,
}

/// `points.json` of a grid folder: every run folder launched from it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Manifest {
    /// Run folders relative to the grid folder, in launch order, each once.
    pub points: Vec<PathBuf>,
}

/// The file of a failed point.
pub(crate) const FAILED: &str = "failed.txt";

/// Trains (or reuses) every point with `launcher` and returns their summaries in order. `grid`
/// is the grid's folder (for `points.json` and the workers' scripts and logs).
pub fn run_points<C: Trainable>(
    launcher: &Launcher,
    points: &[Point<C>],
    grid: &Path,
    options: RunOptions,
) -> Result<Vec<C::Summary>, LabError> {
    record_points(grid, points)?;
    if *launcher == Launcher::default() {
        return (points.iter())
            .map(|p| p.config.run_or_reuse(&p.folder, options))
            .collect();
    }
    let mut todo = Vec::new();
    for point in points {
        let (_, finished) = crate::run_dir::stage::<_, C::Summary>(&point.config, &point.folder)?;
        if finished.is_none() {
            todo.push(point.folder.clone());
        }
    }
    if !todo.is_empty() {
        match launcher {
            Launcher::Local { workers } => pool::run(&todo, *workers, options)?,
            Launcher::Slurm(slurm) => slurm::run(&todo, grid, slurm, options)?,
        }
    }
    failures(&todo)?;
    points
        .iter()
        .map(|p| read_json(&crate::run_dir::RunDir::new(&p.folder).summary()))
        .collect()
}

/// Adds `points` to the grid's `points.json`.
fn record_points<C>(grid: &Path, points: &[Point<C>]) -> Result<(), LabError> {
    let path = grid.join("points.json");
    let mut manifest: Manifest = if path.is_file() {
        read_json(&path)?
    } else {
        Manifest::default()
    };
    for p in points {
        // Relative to the grid folder, so the manifest reads from any working directory.
        let folder = (p.folder.strip_prefix(grid)).unwrap_or(&p.folder);
        if !manifest.points.iter().any(|f| f == folder) {
            manifest.points.push(folder.to_path_buf());
        }
    }
    write_json(&path, &manifest)
}

/// Marks `folder` failed with `reason` (its exit status and log).
pub(crate) fn mark_failed(folder: &Path, reason: &str) -> Result<(), LabError> {
    write_atomic(&folder.join(FAILED), format!("{reason}\n").as_bytes())
}

/// Clears the failure mark of a point that is about to run again.
pub(crate) fn clear_failed(folder: &Path) -> Result<(), LabError> {
    crate::metrics_log::remove_if_present(&folder.join(FAILED))
}

/// An error naming every point of `folders` that has no summary, with its reason.
fn failures(folders: &[PathBuf]) -> Result<(), LabError> {
    let failed: Vec<String> = folders
        .iter()
        .filter(|f| !f.join("summary.json").exists())
        .map(|f| {
            let reason = std::fs::read_to_string(f.join(FAILED))
                .unwrap_or_else(|_| "ended without a summary".into());
            format!("{}: {}", f.display(), reason.trim())
        })
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    Err(LabError::GridFailed {
        count: failed.len(),
        total: folders.len(),
        failed: failed.join("\n  "),
    })
}

/// [`LabError::GridInterrupted`] when a signal stopped the launch of `folders`, else `Ok`.
pub(crate) fn stopped_by(signal: Option<i32>, folders: &[PathBuf]) -> Result<(), LabError> {
    match signal {
        Some(signal) => Err(LabError::GridInterrupted {
            signal,
            done: folders
                .iter()
                .filter(|f| f.join("summary.json").exists())
                .count(),
            total: folders.len(),
        }),
        None => Ok(()),
    }
}

/// The command that trains or resumes the run in a folder: this binary's `resume`.
pub(crate) fn worker_command() -> Result<PathBuf, LabError> {
    std::env::current_exe().map_err(|e| LabError::io("the rgd binary", e))
}
