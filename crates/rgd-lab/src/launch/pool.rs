//! `local:N`: N worker processes on this machine, the cores split between them.
//!
//! Each run is `rgd --quiet resume <folder>` in its own process group (so a terminal's Ctrl-C
//! reaches only this coordinator, which passes it on once), with `RAYON_NUM_THREADS` set to
//! its share of the cores and its stderr in `<folder>/log.txt`. On SIGINT / SIGTERM the
//! coordinator starts no new run, passes the signal to the running ones (each checkpoints and
//! exits 130 / 143) and exits the same way; the same command later resumes them.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{clear_failed, mark_failed, stopped_by, worker_command};
use crate::LabError;
use crate::run_dir::RunOptions;

/// Trains the runs in `folders`, at most `workers` at once.
pub(super) fn run(
    folders: &[PathBuf],
    workers: usize,
    options: RunOptions,
) -> Result<(), LabError> {
    let exe = worker_command()?;
    // `RAYON_NUM_THREADS` (else the cores) split evenly between the workers.
    let threads = (crate::device::cpu_threads() / workers).max(1);
    let total = folders.len();
    let mut queue = folders.iter();
    let mut running: Vec<(Child, &PathBuf, Instant)> = Vec::new();
    let (mut finished, mut stopped) = (0, None);
    loop {
        while stopped.is_none() && running.len() < workers {
            let Some(folder) = queue.next() else { break };
            clear_failed(folder)?;
            let log_path = folder.join("log.txt");
            let log = std::fs::File::create(&log_path).map_err(|e| LabError::io(&log_path, e))?;
            let child = Command::new(&exe)
                .arg("--quiet")
                .arg("--device")
                .arg(options.device.name())
                .arg("resume")
                .arg(folder)
                .env("RAYON_NUM_THREADS", threads.to_string())
                .stdout(Stdio::null())
                .stderr(log)
                .process_group(0)
                .spawn()
                .map_err(|e| LabError::io(&exe, e))?;
            running.push((child, folder, Instant::now()));
        }
        if running.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
        if stopped.is_none()
            && let Some(signal) = crate::interrupt::requested()
        {
            stopped = Some(signal);
            for (child, _, _) in &running {
                // SAFETY: kill(2) on the pid of a child we spawned and have not reaped.
                unsafe { libc::kill(child.id() as libc::pid_t, signal) };
            }
        }
        let mut still = Vec::new();
        for (mut child, folder, started) in running {
            let Some(status) = child.try_wait().map_err(|e| LabError::io(folder, e))? else {
                still.push((child, folder, started));
                continue;
            };
            finished += 1;
            let outcome = match status.code() {
                Some(0) => format!("done in {:.0} s", started.elapsed().as_secs_f64()),
                Some(130 | 143) if stopped.is_some() => "stopped after a checkpoint".into(),
                code => {
                    let why =
                        code.map_or("killed by a signal".into(), |c| format!("exit status {c}"));
                    let reason = format!("{why}; log: {}", folder.join("log.txt").display());
                    mark_failed(folder, &reason)?;
                    format!("FAILED ({reason})")
                }
            };
            if !options.quiet {
                eprintln!("[{finished}/{total}] {}: {outcome}", folder.display());
            }
        }
        running = still;
    }
    stopped_by(stopped, folders)
}
