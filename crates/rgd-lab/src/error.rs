//! The one error type of the lab.

use std::path::PathBuf;

use thiserror::Error;

/// Everything the `rgd` command can fail with. Each message says what went wrong and the fix.
#[derive(Debug, Error)]
pub enum LabError {
    /// A reweighting rule or its configuration was rejected.
    #[error(transparent)]
    Rule(#[from] rgd::RgdError),
    /// The burn glue rejected a loss.
    #[error(transparent)]
    Loss(#[from] rgd_burn::RgdBurnError),
    /// Loading or transforming data failed.
    #[error(transparent)]
    Data(#[from] rgd_data::DataError),
    /// The configuration is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A stored file (checkpoint, summary, metrics) is malformed.
    #[error("{}: {reason}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The training loss became NaN or infinite.
    #[error(
        "training diverged at step {step}: the loss is {value}; {resume} (lower the learning rate or enable gradient clipping with optim.clip_grad_norm)"
    )]
    Diverged {
        /// The step whose loss was not finite.
        step: u64,
        /// The loss value.
        value: f64,
        /// Where the last good checkpoint is, or that there is none yet.
        resume: String,
    },
    /// Tensor data could not be read back from the device.
    #[error("reading {what} back from the device failed: {reason}")]
    ReadBack {
        /// What was being read (predictions, embeddings).
        what: &'static str,
        /// The backend's message.
        reason: String,
    },
    /// The compute device is not available (a backend this build lacks, a failed sync).
    #[error("{0}")]
    Device(String),
    /// Fetching a data set failed.
    #[error(
        "fetching `{name}` failed ({status}); see the messages above, or fetch it later with `rgd data fetch {name}`"
    )]
    Fetch {
        /// The data set.
        name: String,
        /// How the fetch script ended.
        status: String,
    },
    /// A run stopped after a checkpoint, on a signal or a test hook; it resumes from there.
    #[error("stopped after the checkpoint of step {step} ({why}); resume with `rgd resume {}` or by running the same command again", run.display())]
    Interrupted {
        /// The last checkpointed step.
        step: u64,
        /// Why it stopped.
        why: String,
        /// The run folder.
        run: PathBuf,
        /// The signal that stopped it (SIGINT 2, SIGTERM 15), if one did.
        signal: Option<i32>,
    },
    /// Another process is writing the folder.
    #[error("{} is in use by {holder}; wait for it to finish or stop it, then run this again", folder.display())]
    Busy {
        /// The locked folder.
        folder: PathBuf,
        /// Who holds its lock (process, host, command).
        holder: String,
    },
    /// Some runs of a grid failed (each with its reason and log); the others are done.
    #[error(
        "{count} of {total} runs failed:\n  {failed}\nfix the cause and run the same command again: finished runs are reused"
    )]
    GridFailed {
        /// Failed runs.
        count: usize,
        /// Runs launched.
        total: usize,
        /// One line per failed run: its folder, state and log.
        failed: String,
    },
    /// A grid stopped on a signal; its running runs checkpointed.
    #[error("stopped by {} with {done} of {total} runs finished; run the same command again to resume the rest", crate::interrupt::name(*signal))]
    GridInterrupted {
        /// The signal.
        signal: i32,
        /// Runs finished.
        done: usize,
        /// Runs launched.
        total: usize,
    },
    /// A launcher could not run (a Slurm command missing or failing).
    #[error("launcher: {0}")]
    Launcher(String),
    /// A bug: code that should not fail did (a caught panic).
    #[error(
        "internal error: {0}; this is a bug in rgd, please report it with the command that caused it"
    )]
    Internal(String),
    /// Drawing a plot failed.
    #[error("plot {}: {reason}", path.display())]
    Plot {
        /// The output file.
        path: PathBuf,
        /// The cause.
        reason: String,
    },
}

impl LabError {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        LabError::Io {
            path: path.into(),
            source,
        }
    }

    /// A damaged or foreign file at `path`: what is wrong and what to do.
    pub fn corrupt(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        LabError::Corrupt {
            path: path.into(),
            reason: reason.into(),
        }
    }

    /// The process exit code for this error (sysexits.h conventions; [`EXIT_CODES`] lists them).
    pub fn exit_code(&self) -> i32 {
        match self {
            LabError::Config(_) | LabError::Rule(_) => 64, // EX_USAGE
            LabError::Data(_) | LabError::Corrupt { .. } => 65, // EX_DATAERR
            LabError::Device(_) | LabError::Fetch { .. } | LabError::Launcher(_) => 69, // EX_UNAVAILABLE
            LabError::Loss(_)
            | LabError::Diverged { .. }
            | LabError::ReadBack { .. }
            | LabError::Internal(_)
            | LabError::GridFailed { .. } => 70, // EX_SOFTWARE
            LabError::Io { .. } | LabError::Plot { .. } => 74,                          // EX_IOERR
            LabError::Interrupted {
                signal: Some(signal),
                ..
            }
            | LabError::GridInterrupted { signal, .. } => 128 + signal, // the shell's convention
            LabError::Interrupted { signal: None, .. } | LabError::Busy { .. } => 75, // EX_TEMPFAIL
        }
    }
}

/// What each exit status of `rgd` means (printed by `rgd --help`).
pub const EXIT_CODES: &str = "Exit status:
  0   success
  2   the command line does not parse (clap)
  64  usage or configuration error: a key, a value, a flag (EX_USAGE)
  65  bad input data or a damaged record: a data file, a checkpoint, a summary (EX_DATAERR)
  69  unavailable: a backend this build lacks, a device that failed, a fetch that failed,
      a launcher's commands (sbatch, squeue) missing or failing (EX_UNAVAILABLE)
  70  training diverged, a backend failed to hand back results, runs of a grid failed, or a
      bug (EX_SOFTWARE)
  74  a file could not be read or written, or a plot drawn (EX_IOERR)
  75  try again later: the folder is in use by another process, or a test hook stopped
      the run after a checkpoint (EX_TEMPFAIL)
  130 stopped by SIGINT (Ctrl-C) after writing a checkpoint: resume later
  141 (the shell's number for death by SIGPIPE) the reader of standard output went away,
      as in `rgd ... | head -1`; the same as for cat or grep
  143 stopped by SIGTERM after writing a checkpoint: resume later";
