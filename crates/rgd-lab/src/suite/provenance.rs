//! Provenance of a suite's results: [`Provenance`] and its wall-time rule (`Clock`).

use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::LabError;
use crate::run_dir::{read_json, write_json};
use crate::suite::catalog::SuiteConfig;
use crate::suite::records::{RecordsOf, load_records, summaries};

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
    /// The [`machine`] (older records: the CPU model name and core count only).
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
    /// The first line of a suite's results: `Command: ... Wall time: <s> s<wall>; <what> summed
    /// over all <runs> runs: <training> s.`
    pub(crate) fn line(&self, wall: &str, what: &str, runs: usize, training: f64) -> String {
        format!(
            "Command: `{}`. Machine: {}. Wall time: {:.0} s{wall}; {what} summed over all {runs} \
             runs: {training:.0} s.",
            self.command, self.machine, self.wall_secs
        )
    }
}

/// The clock of one `rgd reproduce` invocation into a suite folder.
pub(crate) struct Clock {
    started: Instant,
    /// The earlier invocations' wall time (their `meta.json`), if any.
    earlier_secs: Option<f64>,
    /// How many runs had finished before this invocation.
    finished_before: usize,
}

impl Clock {
    /// Starts the clock of an invocation into the suite folder `out`.
    pub(crate) fn start<C: SuiteConfig>(out: &Path) -> Clock {
        let earlier: Option<Provenance> = read_json(&out.join("meta.json")).ok();
        Clock {
            started: Instant::now(),
            earlier_secs: earlier.map(|m| m.wall_secs),
            finished_before: load_records::<C::Summary>(out).map_or(0, |r| summaries(&r).count()),
        }
    }

    /// Writes `out/meta.json`, the provenance of `rgd reproduce <suite> [--quick]` with the
    /// records in `out` on this machine, and returns the records: the wall time is the earlier
    /// invocations' plus this one's, unless this one finished no run (a re-render), which would
    /// only add noise; the training time is the runs' ([`SuiteConfig::secs`]).
    pub(crate) fn write_meta<C: SuiteConfig>(
        &self,
        out: &Path,
        suite: &str,
        quick: bool,
        notes: String,
    ) -> Result<RecordsOf<C::Summary>, LabError> {
        let records: RecordsOf<C::Summary> = load_records(out)?;
        let wall_secs = match self.earlier_secs {
            Some(earlier) if summaries(&records).count() == self.finished_before => earlier,
            earlier => earlier.unwrap_or(0.0) + self.started.elapsed().as_secs_f64(),
        };
        let quick_flag = if quick { " --quick" } else { "" };
        let meta = Provenance {
            suite: suite.into(),
            quick,
            command: format!("rgd reproduce {suite}{quick_flag}"),
            machine: machine(),
            wall_secs,
            training_secs: summaries(&records).map(C::secs).sum(),
            notes,
        };
        write_json(&out.join("meta.json"), &meta)?;
        Ok(records)
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
