//! Observers of the engine's loop: whatever watches a run without changing it (the progress
//! bar, the metrics log, and for supervised runs the weight log and the weight trace). The loop
//! tells each observer about every step and the evaluation after it, flushes them before each
//! checkpoint (so no log lags the checkpoint) and saves their state with it.

use std::path::PathBuf;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::Task;
use crate::LabError;
use crate::metrics_log::{MetricsLog, truncate_log};
use crate::progress::{Progress, Verbosity};

/// Watches the steps and evaluations of a run of task `T`.
///
/// An observer's `State` is part of the checkpoint, flattened into `checkpoint/state.json`
/// beside the loop's and the task's fields, so its field names must not clash with theirs.
pub trait Observer<T: Task> {
    /// What the checkpoint keeps of it ([`NoState`] for an observer that keeps nothing).
    type State: Clone + Default + Serialize + DeserializeOwned;

    /// The run starts fresh (`None`: remove what an earlier attempt left) or resumes after
    /// `step` steps from its checkpointed state (cut append-only files back to that step).
    fn start(&mut self, task: &T, resumed: Option<(u64, &Self::State)>) -> Result<(), LabError>;
    /// After the optimizer step `step` (0-based) at learning rate `lr`, with the evaluation
    /// that followed it, if the cadence evaluated.
    fn stepped(
        &mut self,
        task: &T,
        step: u64,
        lr: f64,
        out: &T::Out,
        eval: Option<&T::Eval>,
    ) -> Result<(), LabError>;
    /// Before a checkpoint: writes out what it buffers and returns its state.
    fn save(&mut self) -> Result<Self::State, LabError>;
    /// The run stopped (finished, interrupted or failed).
    fn finish(&mut self) {}
}

/// The state of an observer that keeps nothing (an empty JSON object, flattened away).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoState {}

/// No observer beyond the engine's own.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoObserver;

impl<T: Task> Observer<T> for NoObserver {
    type State = NoState;

    fn stepped(
        &mut self,
        _: &T,
        _: u64,
        _: f64,
        _: &T::Out,
        _: Option<&T::Eval>,
    ) -> Result<(), LabError> {
        Ok(())
    }

    fn start(&mut self, _task: &T, _resumed: Option<(u64, &NoState)>) -> Result<(), LabError> {
        Ok(())
    }

    fn save(&mut self) -> Result<NoState, LabError> {
        Ok(NoState {})
    }
}

/// The states of two observers, side by side in one checkpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Both<A, B> {
    #[serde(flatten)]
    first: A,
    #[serde(flatten)]
    second: B,
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

    fn finish(&mut self) {
        self.0.finish();
        self.1.finish();
    }
}

/// An observer lent to the loop (the caller keeps it, to read it afterwards).
impl<T: Task, O: Observer<T>> Observer<T> for &mut O {
    type State = O::State;

    fn start(&mut self, task: &T, resumed: Option<(u64, &O::State)>) -> Result<(), LabError> {
        (**self).start(task, resumed)
    }

    fn stepped(
        &mut self,
        task: &T,
        step: u64,
        lr: f64,
        out: &T::Out,
        eval: Option<&T::Eval>,
    ) -> Result<(), LabError> {
        (**self).stepped(task, step, lr, out, eval)
    }

    fn save(&mut self) -> Result<O::State, LabError> {
        (**self).save()
    }

    fn finish(&mut self) {
        (**self).finish()
    }
}

/// The progress bar (or plain lines) of a run's steps, with the task's label and message.
pub(crate) struct ProgressBar<E> {
    total: u64,
    verbosity: Verbosity,
    bar: Option<Progress>,
    last: Option<E>,
}

impl<E> ProgressBar<E> {
    pub(crate) fn new(total: u64, verbosity: Verbosity) -> Self {
        ProgressBar {
            total,
            verbosity,
            bar: None,
            last: None,
        }
    }
}

impl<T: Task> Observer<T> for ProgressBar<T::Eval> {
    type State = NoState;

    fn start(&mut self, task: &T, resumed: Option<(u64, &NoState)>) -> Result<(), LabError> {
        let done = resumed.map_or(0, |(step, _)| step);
        self.bar = Some(Progress::new(
            &task.label(),
            done,
            self.total,
            self.verbosity,
        ));
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
        if eval.is_some() {
            self.last = eval.copied();
        }
        if let Some(bar) = &mut self.bar {
            bar.update(step + 1, || T::progress(out, self.last.as_ref()));
        }
        Ok(())
    }

    fn save(&mut self) -> Result<NoState, LabError> {
        Ok(NoState {})
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish();
        }
    }
}

/// `metrics.csv`: a training row every `log_every` steps and a row per evaluation, typed by the
/// task; cut back to the checkpoint on resume.
pub(crate) struct MetricsFile<R> {
    path: PathBuf,
    log_every: u64,
    log: Option<MetricsLog<R>>,
}

impl<R> MetricsFile<R> {
    pub(crate) fn new(path: PathBuf, log_every: u64) -> Self {
        MetricsFile {
            path,
            log_every,
            log: None,
        }
    }

    fn log(&mut self) -> Result<&mut MetricsLog<R>, LabError>
    where
        R: Serialize,
    {
        match &mut self.log {
            Some(log) => Ok(log),
            None => Err(LabError::Internal(format!(
                "{}: a metrics row came before the run started",
                self.path.display()
            ))),
        }
    }
}

impl<T: Task> Observer<T> for MetricsFile<T::Row> {
    type State = NoState;

    fn start(&mut self, _task: &T, resumed: Option<(u64, &NoState)>) -> Result<(), LabError> {
        match resumed {
            Some((step, _)) => truncate_log(&self.path, step, true)?,
            None => remove_if_present(&self.path)?,
        }
        self.log = Some(MetricsLog::open(&self.path)?);
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
            let row = task.train_row(step, lr, out);
            self.log()?.write(&row)?;
        }
        match eval {
            Some(eval) => {
                let row = task.eval_row(step, eval);
                self.log()?.write(&row)
            }
            None => Ok(()),
        }
    }

    fn save(&mut self) -> Result<NoState, LabError> {
        self.log()?.flush()?;
        Ok(NoState {})
    }

    fn finish(&mut self) {
        // Dropping the writer flushes what it buffers; a failure there is reported by the
        // last `save`, which runs after the last step.
        self.log = None;
    }
}

/// Removes `path` if it exists (a fresh start's clean slate).
pub(crate) fn remove_if_present(path: &std::path::Path) -> Result<(), LabError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(LabError::io(path, e)),
        _ => Ok(()),
    }
}
