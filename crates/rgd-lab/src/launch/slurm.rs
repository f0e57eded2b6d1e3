//! `slurm`: one task of a Slurm job array per run, submitted with `sbatch --array --parsable`
//! (several arrays in turn when the grid is larger than `max_array_size`).
//!
//! The grid folder gets `slurm/points-<n>.txt` (the absolute run folders, one per line),
//! `slurm/task.sh` (task `i` runs `rgd --quiet resume` on line `i + 1`) and one log per task,
//! `slurm/<job>_<task>.log`. The coordinator waits for the array with `squeue`, then reads
//! each task's state from `scontrol show job`; a run without a summary is marked failed with
//! its state, exit code and log. Tasks are submitted with `--requeue`: a preempted or requeued
//! task resumes from its checkpoint, and Slurm's SIGTERM before a time limit makes it checkpoint
//! and exit 143. On SIGINT / SIGTERM the coordinator cancels the array (its tasks checkpoint)
//! and exits 130 / 143; the same command later reuses the finished runs and resumes the rest.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use smart_default::SmartDefault;

use super::{clear_failed, mark_failed, stopped_by, worker_command};
use crate::LabError;
use crate::run_dir::RunOptions;
use crate::run_dir::write_atomic;

/// What `sbatch` is asked for (flags of `compare` and `reproduce`, or a `[launcher]` table).
#[derive(Debug, Clone, PartialEq, SmartDefault, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlurmOptions {
    /// `--partition` (empty: the cluster's default).
    pub partition: String,
    /// `--time`, e.g. `2:00:00` (empty: the partition's default).
    pub time: String,
    /// `--cpus-per-task`; each run uses that many threads.
    #[default = 1]
    pub cpus_per_task: usize,
    /// `--mem`, e.g. `4G` (empty: the partition's default).
    pub mem: String,
    /// At most this many tasks at once (`--array=...%K`; 0: no limit).
    pub max_running: usize,
    /// More `sbatch` arguments, passed as they are (e.g. `--account=abc`).
    pub sbatch_args: Vec<String>,
    /// Most tasks of one array (the cluster's `MaxArraySize` less one; Slurm's default 1001
    /// admits indices 0-1000): a larger grid is submitted as several arrays in turn.
    #[default = 1000]
    pub max_array_size: usize,
}

/// Submits `folders` as job arrays, one after another, as the module documentation describes.
pub(super) fn run(
    folders: &[PathBuf],
    grid: &Path,
    slurm: &SlurmOptions,
    options: RunOptions,
) -> Result<(), LabError> {
    let dir = grid.join("slurm");
    std::fs::create_dir_all(&dir).map_err(|e| LabError::io(&dir, e))?;
    let dir = std::fs::canonicalize(&dir).map_err(|e| LabError::io(&dir, e))?;
    let script = dir.join("task.sh");
    write_atomic(
        &script,
        format!(
            "#!/bin/bash\n# One run of an rgd grid: line SLURM_ARRAY_TASK_ID + 1 of the list in $1.\n\
             set -u\nfolder=$(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" \"$1\")\n\
             export RAYON_NUM_THREADS=\"${{SLURM_CPUS_PER_TASK:-1}}\"\n\
             exec '{}' --quiet --device {} resume \"$folder\"\n",
            worker_command()?.display(),
            options.device.name()
        )
        .as_bytes(),
    )?;
    for chunk in folders.chunks(slurm.max_array_size.max(1)) {
        let mut lines = String::new();
        for folder in chunk {
            clear_failed(folder)?;
            let absolute = std::fs::canonicalize(folder).map_err(|e| LabError::io(folder, e))?;
            lines += &format!("{}\n", absolute.display());
        }
        let n = (0..)
            .find(|i| !dir.join(format!("points-{i}.txt")).exists())
            .unwrap_or(0);
        let list = dir.join(format!("points-{n}.txt"));
        write_atomic(&list, lines.as_bytes())?;
        let job = submit(&list, chunk.len(), grid, &dir, &script, slurm)?;
        if !options.quiet {
            eprintln!(
                "submitted {} runs as Slurm job array {job} (logs in {})",
                chunk.len(),
                dir.display()
            );
        }
        let stopped = wait(&job, chunk.len(), options)?;
        for (i, folder) in chunk.iter().enumerate() {
            if !folder.join("summary.json").exists() {
                let task = format!("{job}_{i}");
                let state = task_state(&task).unwrap_or_else(|| "state unknown".into());
                let log = dir.join(format!("{task}.log"));
                mark_failed(
                    folder,
                    &format!("Slurm task {task}: {state}; log: {}", log.display()),
                )?;
            }
        }
        if stopped.is_some() {
            return stopped_by(stopped, folders);
        }
    }
    Ok(())
}

/// Submits the runs listed in `list` (`count` of them) as one job array of `script`, its logs in
/// `dir`, named after `grid`; returns the job id.
fn submit(
    list: &Path,
    count: usize,
    grid: &Path,
    dir: &Path,
    script: &Path,
    slurm: &SlurmOptions,
) -> Result<String, LabError> {
    let mut array = format!("0-{}", count - 1);
    if slurm.max_running > 0 {
        array += &format!("%{}", slurm.max_running);
    }
    let mut sbatch = Command::new("sbatch");
    sbatch
        .arg("--parsable")
        .arg(format!("--array={array}"))
        .arg("--requeue")
        .arg(format!(
            "--job-name=rgd-{}",
            grid.file_name()
                .map_or("grid".into(), |s| s.to_string_lossy())
        ))
        .arg(format!("--output={}/%A_%a.log", dir.display()))
        .arg(format!("--cpus-per-task={}", slurm.cpus_per_task.max(1)));
    for (flag, value) in [
        ("partition", &slurm.partition),
        ("time", &slurm.time),
        ("mem", &slurm.mem),
    ] {
        if !value.is_empty() {
            sbatch.arg(format!("--{flag}={value}"));
        }
    }
    sbatch.args(&slurm.sbatch_args).arg(script).arg(list);
    let job = output(&mut sbatch)?;
    let job = job.trim().split(';').next().unwrap_or_default().to_string();
    if job.is_empty() || !job.chars().all(|c| c.is_ascii_digit()) {
        return Err(LabError::Launcher(format!(
            "sbatch printed `{job}`, not a job id"
        )));
    }
    Ok(job)
}

/// Waits until no task of `job` is pending or running; on a signal, cancels the array first.
fn wait(job: &str, total: usize, options: RunOptions) -> Result<Option<i32>, LabError> {
    let mut stopped = None;
    let mut last = usize::MAX;
    loop {
        let queued = output(Command::new("squeue").args(["-h", "-r", "-j", job, "-o", "%i %T"]))?;
        let left = queued.lines().filter(|l| !l.trim().is_empty()).count();
        if left == 0 {
            return Ok(stopped);
        }
        if left != last && !options.quiet {
            eprintln!(
                "Slurm job {job}: {} of {total} tasks finished",
                total.saturating_sub(left)
            );
            last = left;
        }
        if stopped.is_none()
            && let Some(signal) = crate::interrupt::requested()
        {
            stopped = Some(signal);
            output(Command::new("scancel").arg(job))?;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// `JobState` and `ExitCode` of one array task, from `scontrol show job -o`.
fn task_state(task: &str) -> Option<String> {
    let text = output(Command::new("scontrol").args(["show", "job", "-o", task])).ok()?;
    let field = |name: &str| {
        text.split_whitespace()
            .find_map(|w| w.strip_prefix(name))
            .map(str::to_string)
    };
    Some(format!(
        "{}, exit code {}",
        field("JobState=")?,
        field("ExitCode=").unwrap_or_else(|| "?".into())
    ))
}

/// Runs a Slurm command and returns its stdout, or an error with its stderr.
fn output(command: &mut Command) -> Result<String, LabError> {
    let name = command.get_program().to_string_lossy().into_owned();
    let out = command.output().map_err(|e| {
        LabError::Launcher(format!(
            "cannot run `{name}` ({e}): --launcher slurm needs Slurm's commands on the PATH"
        ))
    })?;
    if !out.status.success() {
        return Err(LabError::Launcher(format!(
            "`{name}` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
