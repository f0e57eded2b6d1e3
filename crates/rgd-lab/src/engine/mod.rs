//! The one training loop. It owns the cadence (steps, evaluations, logging, checkpoints), the
//! per-step reseeding, the optimizer step with global-norm clipping, the best model, divergence
//! and the run folder's checkpoint; a [`Task`] supplies the gradients of one step, its
//! evaluations and its rows. Supervised training ([`crate::train`]) and meta-learning
//! ([`crate::meta::train`]) are its two tasks. What watches a run (the progress bar, the metrics
//! log, the supervised weight log and trace) is an [`Observer`] of the loop.
//!
//! One step `t` (0-based): burn's global RNG (dropout) is reseeded from `(seed, t)`, the
//! learning rate is the schedule's at `t`, the task computes the gradients at the current model
//! (its rule's weights detached), they are clipped to the global norm and the optimizer steps.
//! burn's RNG cannot be saved, so a resumed run replays exactly the steps it would have taken.

mod observe;

use std::time::Instant;

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use rgd_burn::RgdBurnError;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::LabError;
use crate::checkpoint;
use crate::config::OptimConfig;
use crate::model::Model;
use crate::optim::{build_optimizer, clip_grad_norm, learning_rate};
use crate::run_dir::RunDir;
pub use observe::{Both, NoState, Observer};
use observe::{MetricsFile, ProgressBar};

/// Test hook: make the loss of this step NaN (`RGD_INJECT_NAN_AT_STEP=<step>`), to exercise the
/// divergence path end to end (tasks that support it).
const INJECT_NAN_ENV: &str = "RGD_INJECT_NAN_AT_STEP";

/// Test hook: stop right after the first checkpoint at or past this step
/// (`RGD_STOP_AFTER_STEP=<step>`), to exercise resume end to end.
const STOP_ENV: &str = "RGD_STOP_AFTER_STEP";

/// How often the loop logs, evaluates and checkpoints (counts > 0 but `checkpoint_every`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cadence {
    /// Optimizer steps in all.
    pub total: u64,
    /// Write a training row every this many steps.
    pub log_every: u64,
    /// Evaluate every this many steps (and after the last), unless `eval_at` lists the steps.
    pub eval_every: u64,
    /// Evaluate after exactly these step counts, increasing (and after the last), if not empty.
    pub eval_at: Vec<u64>,
    /// Checkpoint every this many steps (and after the last; 0: at every evaluation).
    pub checkpoint_every: u64,
}

impl Cadence {
    /// Whether the loop evaluates once `done` steps are done.
    ///
    /// ```
    /// use rgd_lab::engine::Cadence;
    /// let c = Cadence { total: 10, log_every: 1, eval_every: 4, eval_at: vec![], checkpoint_every: 0 };
    /// assert_eq!((1..=10).filter(|&d| c.evaluates(d)).collect::<Vec<_>>(), [4, 8, 10]);
    /// let c = Cadence { eval_at: vec![1, 3], ..c };
    /// assert_eq!((1..=10).filter(|&d| c.evaluates(d)).collect::<Vec<_>>(), [1, 3, 10]);
    /// ```
    pub fn evaluates(&self, done: u64) -> bool {
        done == self.total
            || match self.eval_at.is_empty() {
                true => done.is_multiple_of(self.eval_every),
                false => self.eval_at.binary_search(&done).is_ok(),
            }
    }

    /// Whether the loop checkpoints once `done` steps are done.
    pub fn checkpoints(&self, done: u64) -> bool {
        match self.checkpoint_every {
            0 => self.evaluates(done),
            n => done.is_multiple_of(n) || done == self.total,
        }
    }
}

/// One training step of the loop (and of `rgd bench speed`) of `task` at `step` (0-based): its
/// gradients at `model`, clipped to the global norm `clip` (0: no clipping), then the optimizer
/// step at learning rate `lr`.
pub fn train_step<T: Task>(
    task: &mut T,
    model: Model,
    optimizer: &mut ModuleOptimizer,
    step: u64,
    lr: f64,
    clip: f64,
    inject_nan: bool,
) -> Result<(Model, T::Out), LabError> {
    let (mut grads, out) = task.gradients(&model, step, inject_nan)?;
    if clip > 0.0 {
        clip_grad_norm(&model, &mut grads, clip);
    }
    Ok((optimizer.step(lr, model, grads), out))
}

/// What the loop trains: one step's gradients, evaluations, and what is logged and saved.
pub trait Task {
    /// One evaluation.
    type Eval: Copy + Serialize + DeserializeOwned;
    /// The task's own checkpointed state (its rules' states, weight statistics).
    type State: Clone + Serialize + DeserializeOwned;
    /// What one step produced (its weighted loss and weights).
    type Out;
    /// A row of the metrics log.
    type Row: Serialize;

    /// The progress bar's label.
    fn label(&self) -> String;
    /// The gradients of step `step` at `model`; `inject_nan` (a test hook) makes the loss NaN.
    fn gradients(
        &mut self,
        model: &Model,
        step: u64,
        inject_nan: bool,
    ) -> Result<(GradientsParams, Self::Out), LabError>;
    /// Evaluates `model` after `done` steps.
    fn evaluate(&mut self, model: &Model, done: u64) -> Result<Self::Eval, LabError>;
    /// The score the best model is kept by (the higher the better; the first of ties): the
    /// validation accuracy, which the progress shows.
    fn score(eval: &Self::Eval) -> f64;
    /// The mean loss of a step, which the progress shows.
    fn loss(out: &Self::Out) -> f64;
    /// The metrics row of training step `step` (0-based) at learning rate `lr`.
    fn train_row(&self, step: u64, lr: f64, out: &Self::Out) -> Self::Row;
    /// The metrics row of the evaluation after step `step` (0-based).
    fn eval_row(&self, step: u64, eval: &Self::Eval) -> Self::Row;
    /// The task's state, for a checkpoint.
    fn state(&self) -> Self::State;
    /// Restores the task's state from a checkpoint.
    fn load_state(&mut self, state: &Self::State) -> Result<(), LabError>;
}

/// `checkpoint/state.json`: the loop's state and the task's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(
    serialize = "E: Serialize, S: Serialize",
    deserialize = "E: DeserializeOwned, S: DeserializeOwned"
))]
pub struct LoopState<E, S> {
    /// Steps done.
    pub step: u64,
    /// The evaluation of the best score so far.
    pub best: Option<E>,
    /// The last evaluation.
    pub last: Option<E>,
    /// Training wall time summed over resumes (seconds).
    pub elapsed_secs: f64,
    /// Every evaluation, in step order.
    #[serde(default)]
    pub evaluations: Vec<E>,
    /// What the checkpoint was computed with (absent in checkpoints of older builds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<Fingerprint>,
    /// The task's own state.
    #[serde(flatten)]
    pub task: S,
}

impl<E: Copy, S> LoopState<E, S> {
    /// The last evaluation and the best, or the error of a run folder `run` whose checkpoint
    /// has steps but no evaluation.
    pub fn evaluated(&self, run: &RunDir) -> Result<(E, E), LabError> {
        let (Some(last), Some(best)) = (self.last, self.best) else {
            return Err(LabError::corrupt(
                run.checkpoint().join("state.json"),
                "the run has steps but no evaluation; delete the checkpoint folder to start \
                 the run over",
            ));
        };
        Ok((last, best))
    }
}

/// What a checkpoint's numbers depend on besides the data: the resolved config and the numerics
/// version. A resume with another fingerprint is refused, so a run folder never mixes two
/// configs (an edited `config.toml`) or two numerics versions in one curve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// The numerics version ([`crate::numerics`]).
    pub numerics: u32,
    /// The resolved config as TOML (every default written out).
    pub config: String,
}

impl Fingerprint {
    /// The fingerprint of a resolved config serialised as `config`, at this build's numerics.
    pub fn new(config: impl Into<String>) -> Self {
        Fingerprint {
            numerics: crate::numerics::NUMERICS,
            config: config.into(),
        }
    }

    /// Refuses to resume the checkpoint of `saved` with this fingerprint, naming what differs.
    fn check(&self, saved: &Fingerprint, run: &RunDir) -> Result<(), LabError> {
        if saved.numerics != self.numerics {
            return Err(LabError::Config(format!(
                "{} was checkpointed with numerics version {}, this build computes version {}; \
                 resuming would mix the two in one run: delete the folder to train it again",
                run.root().display(),
                saved.numerics,
                self.numerics
            )));
        }
        if saved.config != self.config {
            let keys = crate::config::file::differing_keys(&saved.config, &self.config);
            return Err(LabError::Config(format!(
                "{}: the config differs from the one this run was checkpointed with ({}); \
                 resuming would change the run mid-way: restore config.toml (the checkpoint's \
                 config is in checkpoint/state.json) or train a new run under another name",
                run.root().display(),
                keys.join("; ")
            )));
        }
        Ok(())
    }
}

/// The loop state of task `T`.
pub type StateOf<T> = LoopState<<T as Task>::Eval, <T as Task>::State>;

/// What a loop runs with besides the task.
#[derive(Debug, Clone)]
pub struct Engine<'a> {
    /// The run folder.
    pub run: &'a RunDir,
    /// The run seed (reseeding burn's RNG every step).
    pub seed: u64,
    /// The training (autodiff) device.
    pub device: &'a Device,
    /// The optimizer, its schedule and clipping.
    pub optim: &'a OptimConfig,
    /// The cadence.
    pub cadence: Cadence,
    /// Print no progress (`--quiet`).
    pub quiet: bool,
    /// The run's config and numerics, checked on resume.
    pub fingerprint: Fingerprint,
}

impl<'a> Engine<'a> {
    /// Trains `task` from the run's checkpoint (or from `model` and a fresh optimizer if it has
    /// none) to the last step, told to `observers` besides the engine's own progress bar and
    /// metrics log; returns the final model and state, and the observers.
    pub fn run<T: Task, O: Observer<T>>(
        &self,
        task: &mut T,
        observers: O,
        model: Model,
    ) -> Result<(Model, StateOf<T>, O), LabError> {
        let optimizer = build_optimizer(self.optim);
        let bar = ProgressBar {
            total: self.cadence.total,
            quiet: self.quiet,
            ..ProgressBar::default()
        };
        let metrics = MetricsFile {
            path: self.run.metrics(),
            log_every: self.cadence.log_every,
            log: None,
        };
        let mut observers = ((bar, metrics), observers);
        let (model, mut optimizer, saved) =
            checkpoint::load::<Both<StateOf<T>, _>>(&self.run.checkpoint(), model, optimizer)?;
        let mut state = match saved {
            Some(saved) => {
                let state = saved.first;
                if let Some(fingerprint) = &state.fingerprint {
                    self.fingerprint.check(fingerprint, self.run)?;
                }
                task.load_state(&state.task)?;
                observers.start(task, Some((state.step, &saved.second)))?;
                state
            }
            None => {
                observers.start(task, None)?;
                LoopState {
                    step: 0,
                    best: None,
                    last: None,
                    elapsed_secs: 0.0,
                    evaluations: Vec::new(),
                    fingerprint: None,
                    task: task.state(),
                }
            }
        };
        let result = self.steps(task, &mut observers, model, &mut optimizer, &mut state);
        observers.0.0.finish();
        result.map(|model| (model, state, observers.1))
    }

    /// The loop of [`Engine::run`] from `state` to the last step.
    fn steps<T: Task, O: Observer<T>>(
        &self,
        task: &mut T,
        observers: &mut O,
        mut model: Model,
        optimizer: &mut ModuleOptimizer,
        state: &mut StateOf<T>,
    ) -> Result<Model, LabError> {
        let (run, cadence) = (self.run, &self.cadence);
        let hook = |name| std::env::var(name).ok().and_then(|s| s.parse::<u64>().ok());
        let (inject_nan, stop_after) = (hook(INJECT_NAN_ENV), hook(STOP_ENV));
        // Wall time before this process, and when it started.
        let clock = (state.elapsed_secs, Instant::now());
        state.fingerprint = Some(self.fingerprint.clone());
        let mut saved_at = state.step;
        let stopped = |step, why, signal| LabError::Interrupted {
            step,
            why,
            run: run.root().to_path_buf(),
            signal,
        };
        while state.step < cadence.total {
            let step = state.step;
            if let Some(signal) = crate::interrupt::requested() {
                if saved_at != step {
                    self.save(task, observers, &model, optimizer, state, clock)?;
                }
                let why = crate::interrupt::name(signal).into();
                return Err(stopped(step, why, Some(signal)));
            }
            self.device
                .seed(self.seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ step);
            let lr = learning_rate(self.optim, step, cadence.total);
            let stepped = train_step(
                task,
                model,
                optimizer,
                step,
                lr,
                self.optim.clip_grad_norm,
                inject_nan == Some(step),
            );
            let (stepped, out) = match stepped {
                Err(LabError::Loss(RgdBurnError::Rule(rgd::RgdError::NonFiniteLoss {
                    value,
                    ..
                }))) => return Err(self.diverged(step, value, saved_at)),
                other => other?,
            };
            model = stepped;
            state.step += 1;
            let done = state.step;
            let evaluation = (cadence.evaluates(done))
                .then(|| task.evaluate(&model, done))
                .transpose()?;
            observers.stepped(task, step, lr, &out, evaluation.as_ref())?;
            if let Some(evaluation) = evaluation {
                state.last = Some(evaluation);
                state.evaluations.push(evaluation);
                // The best model: of the highest score, the first of ties.
                if (state.best.as_ref()).is_none_or(|b| T::score(&evaluation) > T::score(b)) {
                    state.best = Some(evaluation);
                    checkpoint::save_model(&model, &run.best().join("model.bpk"))?;
                }
            }
            if cadence.checkpoints(done) {
                self.save(task, observers, &model, optimizer, state, clock)?;
                saved_at = done;
                if stop_after.is_some_and(|s| done >= s) && done < cadence.total {
                    return Err(stopped(done, format!("{STOP_ENV}, a test hook"), None));
                }
            }
        }
        Ok(model)
    }

    /// The error of a non-finite loss at `step`, naming the checkpoint left to resume from.
    fn diverged(&self, step: u64, value: f64, saved_at: u64) -> LabError {
        let resume = if saved_at > 0 {
            format!(
                "the last good checkpoint (step {saved_at}) is kept in {}",
                self.run.checkpoint().display()
            )
        } else {
            "no checkpoint was written before it, so there is nothing to resume".into()
        };
        LabError::Diverged {
            step: step + 1,
            value,
            resume,
        }
    }

    /// Writes the checkpoint of `state` (the observers flushed first, so no log lags it).
    fn save<T: Task, O: Observer<T>>(
        &self,
        task: &T,
        observers: &mut O,
        model: &Model,
        optimizer: &ModuleOptimizer,
        state: &mut StateOf<T>,
        clock: (f64, Instant),
    ) -> Result<(), LabError> {
        let second = observers.save()?;
        state.elapsed_secs = clock.0 + clock.1.elapsed().as_secs_f64();
        state.task = task.state();
        let saved = Both {
            first: &*state,
            second,
        };
        checkpoint::save(&self.run.checkpoint(), model, optimizer, &saved)
    }
}
