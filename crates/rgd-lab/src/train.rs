//! The training loop: one run of one config, checkpointed, resumable, and bit-reproducible.
//!
//! Per step: the batch order comes from `(seed, epoch)`, burn's global RNG (dropout) is reseeded
//! from `(seed, step)`, the rule reweights the per-example losses with detached weights, and an
//! unchanged optimizer takes the step. A resumed run therefore replays exactly the steps it
//! would have taken.

use std::path::Path;
use std::time::Instant;

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use rgd::RuleState;
use rgd_burn::{Reweighter, RgdBurnError, loss};
use rgd_data::Dataset;
use serde::{Deserialize, Serialize};

use crate::LabError;
use crate::checkpoint;
use crate::config::{LossConfig, RunConfig, Selection};
use crate::data::{PreparedData, epoch_order, prepare};
use crate::metrics::{Evaluation, Metrics};
use crate::metrics_log::{MetricsLog, MetricsRow, append_weights, truncate_log};
use crate::model::Model;
use crate::optim::{build_optimizer, clip_grad_norm, learning_rate};
use crate::progress::{Progress, Verbosity};
use crate::run_dir::{RunDir, write_json};
use crate::weight_trace::{WeightSnapshot, WeightWindow};

/// Test hook: make the loss of this step NaN (`RGD_INJECT_NAN_AT_STEP=<step>`), to exercise
/// the divergence path end to end.
const INJECT_NAN_ENV: &str = "RGD_INJECT_NAN_AT_STEP";

/// What a checkpoint holds besides the model and optimizer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct TrainState {
    step: u64,
    rule: RuleState,
    best: Option<Evaluation>,
    last: Option<Evaluation>,
    elapsed_secs: f64,
    #[serde(default)]
    window: WeightWindow,
    #[serde(default)]
    trace: Vec<WeightSnapshot>,
    #[serde(default)]
    evaluations: Vec<Evaluation>,
}

/// The final record of a run (`summary.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The numerics version it was computed with ([`crate::numerics`]).
    #[serde(default = "crate::numerics::unversioned")]
    pub numerics: u32,
    /// Rule name.
    pub rule: String,
    /// Run seed.
    pub seed: u64,
    /// Steps trained.
    pub steps: u64,
    /// Which evaluation the reported metrics come from (`best_valid` or `last`).
    pub selection: Selection,
    /// The reported evaluation.
    pub selected: Evaluation,
    /// The last evaluation.
    pub last: Evaluation,
    /// Training, validation and test sizes.
    pub sizes: [usize; 3],
    /// Wall time of training, summed over resumes (seconds).
    pub wall_secs: f64,
    /// Training examples per second.
    pub samples_per_sec: f64,
    /// Weight statistics per evaluation window (per class; on flipped labels under noise).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weight_trace: Vec<WeightSnapshot>,
    /// Every evaluation, in step order (the learning curves). Records written before this field
    /// existed have none; a run resumed from such a checkpoint has those after the resume.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evaluations: Vec<Evaluation>,
}

/// Options of one run that do not change its result.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// How much to print.
    pub verbosity: Verbosity,
    /// The backend to compute on.
    pub device: crate::device::DeviceChoice,
}

/// One prepared run: data, model, optimizer and rule.
struct Trainer<'a> {
    config: &'a RunConfig,
    run: RunDir,
    data: PreparedData,
    device: Device,
    model: Model,
    optimizer: ModuleOptimizer,
    reweighter: Reweighter,
    state: TrainState,
    eval_device: Device,
    total_steps: u64,
    steps_per_epoch: u64,
}

/// Trains `config` in the folder `run`, resuming from its checkpoint if there is one.
///
/// Writes the run folder described in [`crate::run_dir`]; returns the summary.
pub fn train(config: &RunConfig, run: &Path, options: RunOptions) -> Result<Summary, LabError> {
    let mut trainer = Trainer::new(config, RunDir::new(run), options)?;
    trainer.fit(options)?;
    trainer.finish()
}

impl<'a> Trainer<'a> {
    fn new(config: &'a RunConfig, run: RunDir, options: RunOptions) -> Result<Self, LabError> {
        let data = prepare(&config.data)?;
        if let Some(s) = &data.standardizer {
            write_json(&run.standardizer(), s)?;
        }
        let device = options.device.training()?;
        device.seed(config.seed);
        let train = &data.train;
        let model = Model::for_data(&config.model, train, &device)?;
        let batch = config.train.batch_size as u64;
        let rows = train.len() as u64;
        let steps_per_epoch = if config.train.drop_last {
            (rows / batch).max(1)
        } else {
            rows.div_ceil(batch)
        };
        let total_steps = match (config.train.steps, config.train.max_steps) {
            (0, 0) => config.train.epochs * steps_per_epoch,
            (0, cap) => (config.train.epochs * steps_per_epoch).min(cap),
            (steps, _) => steps,
        };
        let mut rule = config.method.rule;
        if let rgd::RuleConfig::GroupDro(c) = &mut rule {
            // The groups are the domains (ids up to the source's count), else the classes.
            c.n_groups = c.n_groups.max(match &train.domains {
                Some(_) => train.domain_names.len(),
                None => train.n_classes(),
            });
        }
        let mut trainer = Trainer {
            config,
            data,
            model,
            optimizer: build_optimizer(&config.optim),
            reweighter: Reweighter::new(&rule)?,
            state: TrainState {
                step: 0,
                rule: RuleState::default(),
                best: None,
                last: None,
                elapsed_secs: 0.0,
                window: WeightWindow::default(),
                trace: Vec::new(),
                evaluations: Vec::new(),
            },
            total_steps,
            steps_per_epoch,
            eval_device: options.device.inference()?,
            device,
            run,
        };
        trainer.restore()?;
        Ok(trainer)
    }

    /// Loads the checkpoint if the run has one, and drops log rows written after it.
    fn restore(&mut self) -> Result<(), LabError> {
        let loaded = checkpoint::load::<TrainState>(
            &self.run.checkpoint(),
            self.model.clone(),
            self.optimizer.clone(),
        )?;
        let Some((model, optimizer, state)) = loaded else {
            for path in [self.run.metrics(), self.run.weights()] {
                if path.exists() {
                    std::fs::remove_file(&path).map_err(|e| LabError::io(&path, e))?;
                }
            }
            return Ok(());
        };
        (self.model, self.optimizer) = (model, optimizer);
        self.reweighter.load_state(&state.rule)?;
        truncate_log(&self.run.metrics(), state.step, true)?;
        truncate_log(&self.run.weights(), state.step, false)?;
        self.state = state;
        Ok(())
    }

    fn save_checkpoint(&self) -> Result<(), LabError> {
        let mut state = self.state.clone();
        state.rule = self.reweighter.state();
        checkpoint::save(&self.run.checkpoint(), &self.model, &self.optimizer, &state)
    }

    fn fit(&mut self, options: RunOptions) -> Result<(), LabError> {
        let config = self.config;
        let label = format!("{} seed {}", self.reweighter.name(), config.seed);
        let mut progress =
            Progress::new(&label, self.state.step, self.total_steps, options.verbosity);
        let eval_every = match config.train.eval_every {
            0 => self.steps_per_epoch,
            n => n,
        };
        let checkpoint_every = match config.train.checkpoint_every {
            0 => eval_every,
            n => n,
        };
        let mut metrics = MetricsLog::<MetricsRow>::open(&self.run.metrics())?;
        let inject_nan = std::env::var(INJECT_NAN_ENV)
            .ok()
            .and_then(|s| s.parse::<u64>().ok());
        let started = Instant::now();
        let elapsed_before = self.state.elapsed_secs;
        let mut order = Vec::new();
        let mut order_epoch = u64::MAX;
        while self.state.step < self.total_steps {
            let step = self.state.step;
            let epoch = step / self.steps_per_epoch;
            if epoch != order_epoch {
                order = epoch_order(self.data.train.len(), config.seed, epoch);
                order_epoch = epoch;
            }
            let batch = config.train.batch_size;
            let start = (step % self.steps_per_epoch) as usize * batch;
            let rows = &order[start..(start + batch).min(order.len())];
            let lr = learning_rate(&config.optim, step, self.total_steps);
            let out = self.step(rows, lr, inject_nan == Some(step))?;
            let labels: Vec<u32> = rows.iter().map(|&r| self.data.train.labels[r]).collect();
            let flipped: Option<Vec<bool>> =
                (self.data.train_flipped.as_ref()).map(|f| rows.iter().map(|&r| f[r]).collect());
            (self.state.window).add(&out.weights, &labels, flipped.as_deref());
            self.state.step += 1;
            let done = self.state.step;
            if done.is_multiple_of(config.train.log_every) {
                metrics.write(&MetricsRow::train(done, epoch, lr, &out))?;
            }
            if done.is_multiple_of(eval_every) || done == self.total_steps {
                let evaluation = self.evaluate(done)?;
                metrics.write(&MetricsRow::eval(done, epoch, &evaluation))?;
                append_weights(&self.run.weights(), done, &out.weights)?;
                self.state.trace.extend(self.state.window.take(done));
                self.state.last = Some(evaluation);
                self.state.evaluations.push(evaluation);
                let better = self
                    .state
                    .best
                    .is_none_or(|b| evaluation.valid.accuracy > b.valid.accuracy);
                if better {
                    self.state.best = Some(evaluation);
                    checkpoint::save_model(&self.model, &self.run.best().join("model.bpk"))?;
                }
            }
            if done.is_multiple_of(checkpoint_every) || done == self.total_steps {
                metrics.flush()?;
                self.state.elapsed_secs = elapsed_before + started.elapsed().as_secs_f64();
                self.save_checkpoint()?;
            }
            progress.update(done, || {
                let acc = self.state.last.map_or(String::new(), |e| {
                    format!(" valid acc {:.4}", e.valid.accuracy)
                });
                format!("loss {:.4}{acc}", out.mean_loss())
            });
        }
        metrics.flush()?;
        progress.finish();
        Ok(())
    }

    /// One optimizer step on the training rows `rows`.
    fn step(
        &mut self,
        rows: &[usize],
        lr: f64,
        inject_nan: bool,
    ) -> Result<rgd_burn::WeightedLoss, LabError> {
        let config = self.config;
        let step = self.state.step;
        // burn's RNG cannot be saved: derive it from (seed, step) so a resume replays dropout.
        self.device
            .seed(config.seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ step);
        let train = &self.data.train;
        let (x, y) = batch_tensors(train, rows, &self.device);
        let logits = self.model.forward(x, &train.example_shape);
        let mut per_example = match config.method.loss {
            LossConfig::Focal(f) => loss::focal(logits, y, f.gamma)?,
            LossConfig::CrossEntropy(c) => loss::cross_entropy(logits, y, c.label_smoothing)?,
        };
        if inject_nan {
            let t = per_example.into_tensor();
            per_example = rgd_burn::PerExampleLoss::new(t.mul_scalar(f32::NAN), rows.len())?;
        }
        let applied = if config.method.rule.needs_groups() {
            let groups: Vec<usize> = match &train.domains {
                Some(d) => rows.iter().map(|&r| d[r] as usize).collect(),
                None => rows.iter().map(|&r| train.labels[r] as usize).collect(),
            };
            self.reweighter.apply_grouped(per_example, &groups)
        } else {
            self.reweighter.apply(per_example)
        };
        let out = match applied {
            Err(RgdBurnError::Rule(rgd::RgdError::NonFiniteLoss { value, .. })) => {
                return Err(LabError::Diverged {
                    step: step + 1,
                    value,
                    checkpoint: self.run.checkpoint().display().to_string(),
                });
            }
            other => other?,
        };
        let mut grads = GradientsParams::from_grads(out.loss.backward(), &self.model);
        if config.optim.clip_grad_norm > 0.0 {
            clip_grad_norm(&self.model, &mut grads, config.optim.clip_grad_norm);
        }
        self.model = self.optimizer.step(lr, self.model.clone(), grads);
        Ok(out)
    }

    fn evaluate(&self, step: u64) -> Result<Evaluation, LabError> {
        let model = self.model.valid();
        Ok(Evaluation {
            step,
            valid: evaluate(&model, &self.data.valid, &self.eval_device)?,
            test: evaluate(&model, &self.data.test, &self.eval_device)?,
        })
    }

    fn finish(self) -> Result<Summary, LabError> {
        let last = self
            .state
            .last
            .ok_or_else(|| LabError::Config("the run trained no step".into()))?;
        let selected = match self.config.train.selection {
            Selection::Last => last,
            Selection::BestValid => self.state.best.unwrap_or(last),
        };
        let wall_secs = self.state.elapsed_secs;
        let summary = Summary {
            numerics: crate::numerics::NUMERICS,
            rule: self.reweighter.name().to_string(),
            seed: self.config.seed,
            steps: self.state.step,
            selection: self.config.train.selection,
            selected,
            last,
            sizes: [
                self.data.train.len(),
                self.data.valid.len(),
                self.data.test.len(),
            ],
            wall_secs,
            samples_per_sec: (self.state.step as f64 * self.config.train.batch_size as f64)
                / wall_secs.max(1e-9),
            weight_trace: self.state.trace,
            evaluations: self.state.evaluations,
        };
        write_json(&self.run.summary(), &summary)?;
        crate::run_plots::draw(&self.run)?;
        Ok(summary)
    }
}

impl crate::numerics::Versioned for Summary {
    fn numerics(&self) -> u32 {
        self.numerics
    }
}

/// Features `[B, prod(shape)]` and labels `[B]` of `rows`.
pub fn batch_tensors(
    data: &Dataset,
    rows: &[usize],
    device: &Device,
) -> (Tensor<2>, Tensor<1, Int>) {
    let width = data.n_features;
    let mut features = Vec::with_capacity(rows.len() * width);
    for &r in rows {
        features.extend_from_slice(data.row(r));
    }
    let labels: Vec<i64> = rows.iter().map(|&r| i64::from(data.labels[r])).collect();
    (
        Tensor::from_data(TensorData::new(features, [rows.len(), width]), device),
        Tensor::from_data(TensorData::new(labels, [rows.len()]), device),
    )
}

/// Predicted classes and mean cross-entropy of `model` (in validation mode) on `data`.
pub fn predict(
    model: &Model,
    data: &Dataset,
    device: &Device,
) -> Result<(Vec<u32>, f64), LabError> {
    let mut predicted = Vec::with_capacity(data.len());
    let mut total_loss = 0.0;
    let all: Vec<usize> = (0..data.len()).collect();
    for rows in all.chunks(1024) {
        let (x, y) = batch_tensors(data, rows, device);
        let logits = model.forward(x, &data.example_shape);
        let losses = loss::cross_entropy(logits.clone(), y, 0.0)?.into_tensor();
        total_loss += f64::from(losses.sum().into_scalar::<f32>());
        let classes = logits.argmax(1).into_data().try_into_vec_as::<i64>();
        let classes = classes.map_err(|e| LabError::ReadBack {
            what: "predictions",
            reason: format!("{e:?}"),
        })?;
        predicted.extend(classes.into_iter().map(|c| c as u32));
    }
    Ok((predicted, total_loss / data.len().max(1) as f64))
}

/// Metrics of `model` (in validation mode) on `data`.
pub fn evaluate(model: &Model, data: &Dataset, device: &Device) -> Result<Metrics, LabError> {
    let (predicted, mean_loss) = predict(model, data, device)?;
    Ok(Metrics::compute(
        &predicted,
        &data.labels,
        data.n_classes(),
        data.domains.as_deref(),
    )
    .with_loss(mean_loss))
}
