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
        "training diverged at step {step}: the loss is {value}; the last good checkpoint is \
         kept in {checkpoint} (lower the learning rate or enable gradient clipping)"
    )]
    Diverged {
        /// The step whose loss was not finite.
        step: u64,
        /// The loss value.
        value: f64,
        /// Where the last good checkpoint is.
        checkpoint: String,
    },
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

    /// The process exit code for this error (sysexits.h conventions).
    pub fn exit_code(&self) -> i32 {
        match self {
            LabError::Config(_) | LabError::Rule(_) => 64, // EX_USAGE
            LabError::Data(_) | LabError::Corrupt { .. } => 65, // EX_DATAERR
            LabError::Io { .. } | LabError::Plot { .. } => 74, // EX_IOERR
            LabError::Loss(_) | LabError::Diverged { .. } => 70, // EX_SOFTWARE
        }
    }
}
