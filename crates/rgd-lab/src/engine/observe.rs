//! Observers of the engine's loop: whatever watches a run without changing it. The loop tells
//! each about every step and the evaluation after it, flushes them before each checkpoint (so
//! no log lags it) and saves their state with it.

use std::fs::File;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use indicatif::ProgressStyle;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::Task;
use crate::LabError;
use crate::metrics_log::{open_append, truncate_log};

/// Watches the steps and evaluations of a run of task `T`.
///
/// An observer's `State` is part of the checkpoint, flattened into `checkpoint/state.json`
/// beside the loop's and the task's fields, so its field names must not clash with theirs.
pub trait Observer<T: Task> {
    /// What the checkpoint keeps of it ([`NoState`] for an observer that keeps nothing).
    type State: Clone + Default + Serialize + DeserializeOwned;

    /// The run starts fresh (`None`: remove what an earlier attempt left) or resumes after
    /// `step` steps from its checkpointed state (cut append-only files back to that step).
    fn start(&mut self, _task: &T, _resumed: Option<(u64, &Self::State)>) -> Result<(), LabError> {
        Ok(())
    }
    /// After the optimizer step `step` (0-based) at learning rate `lr`, with the evaluation
    /// that followed it, if the cadence evaluated.
    fn stepped(
        &mut self,
        _task: &T,
        _step: u64,
        _lr: f64,
        _out: &T::Out,
        _eval: Option<&T::Eval>,
    ) -> Result<(), LabError> {
        Ok(())
    }
    /// Before a checkpoint: writes out what it buffers and returns its state (by default, the
    /// default state).
    fn save(&mut self) -> Result<Self::State, LabError> {
        Ok(Self::State::default())
    }
}

/// The state of an observer that keeps nothing (an empty JSON object, flattened away).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoState {}

/// No observer beyond the engine's own.
impl<T: Task> Observer<T> for () {
    type State = NoState;
}

/// Two states side by side in one flat JSON object: two observers', or the loop's and its
/// observers' in `checkpoint/state.json` (flat, so checkpoints of builds before observers load).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Both<A, B> {
    #[serde(flatten)]
    pub(super) first: A,
    #[serde(flatten)]
    pub(super) second: B,
}

/// Two observers, told in order.
impl<T: Task, A: Observer<T>, B: Observer<T>> Observer<T> for (A, B) {
    type State = Both<A::State, B::State>;

    fn start(&mut self, task: &T, resumed: Option<(u64, &Self::State)>) -> Result<(), LabError> {
        self.0.start(task, resumed.map(|(s, b)| (s, &b.first)))?;
        self.1.start(task, resumed.map(|(s, b)| (s, &b.second)))
    }

    fn stepped(
        &mut self,
        task: &T,
        step: u64,
        lr: f64,
        out: &T::Out,
        eval: Option<&T::Eval>,
    ) -> Result<(), LabError> {
        self.0.stepped(task, step, lr, out, eval)?;
        self.1.stepped(task, step, lr, out, eval)
    }

    fn save(&mut self) -> Result<Self::State, LabError> {
        Ok(Both {
            first: self.0.save()?,
            second: self.1.save()?,
        })
    }
}

/// The progress of a run's steps, with the task's label and message: a bar on a terminal, plain
/// lines otherwise (a quarter of the run apart), nothing with `--quiet`.
#[derive(Default)]
pub(super) struct ProgressBar {
    pub(super) total: u64,
    pub(super) quiet: bool,
    pub(super) bar: Option<indicatif::ProgressBar>,
    /// Plain lines: the label, the next one's step, and the step and time this process started at.
    pub(super) plain: Option<(String, u64, u64, Instant)>,
    /// The score of the last evaluation.
    pub(super) last: Option<f64>,
}

impl ProgressBar {
    /// The run stopped (finished, interrupted or failed).
    pub(super) fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

impl<T: Task> Observer<T> for ProgressBar {
    type State = NoState;

    fn start(&mut self, task: &T, resumed: Option<(u64, &NoState)>) -> Result<(), LabError> {
        let done = resumed.map_or(0, |(step, _)| step);
        let normal = !self.quiet;
        if normal && std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new(self.total).with_position(done);
            let template = "{prefix:>24} [{bar:30}] {pos}/{len} {per_sec} eta {eta} {msg}";
            let style = ProgressStyle::with_template(template).expect("the template is valid");
            bar.set_style(style.progress_chars("=> "));
            bar.set_prefix(task.label());
            self.bar = Some(bar);
        } else if normal {
            self.plain = Some((task.label(), done + self.total / 4, done, Instant::now()));
        }
        Ok(())
    }

    fn stepped(
        &mut self,
        _task: &T,
        step: u64,
        _lr: f64,
        out: &T::Out,
        eval: Option<&T::Eval>,
    ) -> Result<(), LabError> {
        self.last = eval.map(T::score).or(self.last);
        let (step, total) = (step + 1, self.total);
        let message = || {
            let acc = (self.last).map_or(String::new(), |a| format!(" valid acc {a:.4}"));
            format!("loss {:.4}{acc}", T::loss(out))
        };
        if let Some(bar) = &self.bar {
            bar.set_position(step);
            if step.is_multiple_of(10) || step == total {
                bar.set_message(message());
            }
        } else if let Some((label, next, start, started)) = &mut self.plain
            && (step >= *next || step == total)
        {
            *next = step + (total / 4).max(1);
            let rate = (step - *start) as f64 / started.elapsed().as_secs_f64().max(1e-9);
            eprintln!(
                "{label}: step {step}/{total} ({rate:.1} steps/s) {}",
                message()
            );
        }
        Ok(())
    }
}

/// `metrics.csv`: a training row every `log_every` steps and a row per evaluation, typed by the
/// task (a header when the file is new); cut back to the checkpoint on resume. Flushed at each
/// checkpoint (one follows the last step), so dropping it has nothing left to fail on.
pub(super) struct MetricsFile {
    pub(super) path: PathBuf,
    pub(super) log_every: u64,
    pub(super) log: Option<csv::Writer<crate::crash::Writer<File>>>,
}

impl MetricsFile {
    fn log(&mut self) -> &mut csv::Writer<crate::crash::Writer<File>> {
        self.log
            .as_mut()
            .expect("the engine starts its observers before the first step")
    }

    fn write(&mut self, row: &impl Serialize) -> Result<(), LabError> {
        let written = self.log().serialize(row);
        written.map_err(|e| LabError::io(&self.path, std::io::Error::other(e)))
    }
}

impl<T: Task> Observer<T> for MetricsFile {
    type State = NoState;

    fn start(&mut self, _task: &T, resumed: Option<(u64, &NoState)>) -> Result<(), LabError> {
        let path = &self.path;
        truncate_log(path, resumed.map(|(step, _)| step), true)?;
        let exists = std::fs::metadata(path).is_ok_and(|m| m.len() > 0);
        let file = open_append(path)?;
        let log = csv::WriterBuilder::new()
            .has_headers(!exists)
            .from_writer(crate::crash::Writer(file));
        self.log = Some(log);
        Ok(())
    }

    fn stepped(
        &mut self,
        task: &T,
        step: u64,
        lr: f64,
        out: &T::Out,
        eval: Option<&T::Eval>,
    ) -> Result<(), LabError> {
        if (step + 1).is_multiple_of(self.log_every) {
            self.write(&task.train_row(step, lr, out))?;
        }
        if let Some(eval) = eval {
            self.write(&task.eval_row(step, eval))?;
        }
        Ok(())
    }

    fn save(&mut self) -> Result<NoState, LabError> {
        let flushed = self.log().flush();
        flushed.map_err(|e| LabError::io(&self.path, e))?;
        Ok(NoState {})
    }
}
