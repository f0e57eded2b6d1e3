//! Provenance of a suite's results (`results/<suite>/meta.json`): the command, the machine and
//! the wall time.

use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::run_dir::read_json;

/// Provenance of a suite's results (`results/<suite>/meta.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// The suite.
    #[serde(default)]
    pub suite: String,
    /// Whether it ran in `--quick` mode.
    #[serde(default)]
    pub quick: bool,
    /// The command that produced the records.
    pub command: String,
    /// CPU model with its family and model numbers, core count and instruction set (older
    /// records: the model name and core count only).
    pub machine: String,
    /// Wall time summed over the invocations that wrote these records (seconds; an
    /// invocation that reuses finished runs adds only its own short time).
    pub wall_secs: f64,
    /// Sum of the training wall time recorded in every run's summary (seconds).
    pub training_secs: f64,
    /// What was reduced to fit the compute budget.
    pub notes: String,
}

impl Provenance {
    /// The provenance of `rgd reproduce <suite> [--quick]` on this machine (times in seconds).
    pub(crate) fn new(suite: &str, quick: bool, wall: f64, training: f64, notes: String) -> Self {
        let quick_flag = if quick { " --quick" } else { "" };
        Provenance {
            suite: suite.into(),
            quick,
            command: format!("rgd reproduce {suite}{quick_flag}"),
            machine: machine(),
            wall_secs: wall,
            training_secs: training,
            notes,
        }
    }
}

/// CPU model (with its family and model numbers, which tell CPU generations apart where the
/// name does not, e.g. "AMD EPYC"), core count and the instruction set the kernels ran on
/// ([`rgd_kernels::instruction_set`]), for the provenance of results.
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |key: &str| {
        (cpuinfo.lines())
            .find(|l| l.split(':').next().is_some_and(|k| k.trim() == key))
            .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
    };
    let mut cpu = field("model name").unwrap_or_else(|| "unknown CPU".into());
    if let (Some(family), Some(model)) = (field("cpu family"), field("model")) {
        cpu = format!("{cpu} (family {family}, model {model})");
    }
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cpu}, {cores} cores, {}", rgd_kernels::instruction_set())
}

/// The suite's wall time: the earlier invocations' (from `meta.json`) plus this one's, unless
/// this one finished no run (a re-render), which would only add noise to the records.
pub fn suite_wall_secs(out: &Path, started: Instant, finished_a_run: bool) -> f64 {
    match read_json::<Provenance>(&out.join("meta.json")) {
        Ok(earlier) if !finished_a_run => earlier.wall_secs,
        Ok(earlier) => earlier.wall_secs + started.elapsed().as_secs_f64(),
        Err(_) => started.elapsed().as_secs_f64(),
    }
}
