//! Supervised training: the engine's task for one run of one config.
//!
//! Per step: the batch comes from the permutation of `(seed, epoch)`, the rule reweights the
//! per-example losses with detached weights, and the engine ([`crate::engine`]) takes the
//! optimizer step; at each evaluation the validation and test metrics. Two observers of the
//! engine (`observers`) record the batch weights (`weights.jsonl`) and the weight statistics
//! of the window since the last evaluation.

mod observers;

use std::path::Path;

use burn::module::Module;
use burn::optim::{GradientsParams, MultiGradientsParams};
use burn::prelude::*;
use rgd::RuleState;
use rgd_burn::{Reweighter, WeightedLoss, loss};
use rgd_data::Dataset;
use serde::{Deserialize, Serialize};

use crate::LabError;
use crate::config::{ConfigFile, LossConfig, RunConfig, Selection};
use crate::data::{PreparedData, epoch_order, prepare};
use crate::engine::{Cadence, Engine, Fingerprint, LoopState, Task};
use crate::metrics::{Evaluation, Metrics};
use crate::metrics_log::MetricsRow;
use crate::model::Model;
use crate::run_dir::{RunDir, RunOptions, write_json};
use crate::weight_trace::WeightSnapshot;
pub use observers::{WeightLog, WeightTrace};

/// The supervised task's own checkpointed state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainState {
    /// The rule's state.
    pub rule: RuleState,
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
    /// CPU threads of the process that finished the run (recorded, not compared: records of
    /// equal configs agree at equal threads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<usize>,
    /// The instruction set of the process that finished the run ([`rgd_kernels::instruction_set`];
    /// recorded, not compared: AVX-512 and AVX2 matrix products can differ in the last bits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instruction_set: Option<String>,
    /// The CPU that finished the run, its cores and instruction set
    /// ([`crate::suite::provenance::machine`]; recorded, not compared): a suite's runs may come
    /// from several machines, and its `meta.json` names only the last invocation's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine: Option<String>,
    /// Weight statistics per evaluation window (per class; on flipped labels under noise).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weight_trace: Vec<WeightSnapshot>,
    /// Every evaluation, in step order (the learning curves). Records written before this field
    /// existed have none; a run resumed from such a checkpoint has those after the resume.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evaluations: Vec<Evaluation>,
}

/// Supervised training as a task of the engine: data, rule and the weight statistics.
pub struct Supervised<'a> {
    config: &'a RunConfig,
    data: PreparedData,
    reweighter: Reweighter,
    device: Device,
    /// The devices of the model replicas under data parallel (`train.devices`; empty for one).
    replicas: Vec<Device>,
    eval_device: Device,
    steps_per_epoch: u64,
    order: (u64, Vec<usize>),
    /// The training rows of the last step's batch.
    rows: Vec<usize>,
}

impl<'a> Supervised<'a> {
    /// The supervised task of `config` on `data`: training on `device` (and on `replicas` under
    /// data parallel), evaluating on `eval_device`.
    pub fn new(
        config: &'a RunConfig,
        data: PreparedData,
        device: Device,
        replicas: Vec<Device>,
        eval_device: Device,
    ) -> Result<Self, LabError> {
        let batch = config.train.batch_size as u64;
        let rows = data.train.len() as u64;
        let steps_per_epoch = if config.train.drop_last {
            (rows / batch).max(1)
        } else {
            rows.div_ceil(batch)
        };
        let mut rule = config.method.rule;
        if let rgd::RuleConfig::GroupDro(c) = &mut rule {
            // The groups are the domains (ids up to the source's count), else the classes.
            let train = &data.train;
            c.n_groups = c.n_groups.max(match &train.domains {
                Some(_) => train.domain_names.len(),
                None => train.n_classes(),
            });
        }
        Ok(Supervised {
            config,
            data,
            reweighter: Reweighter::new(&rule)?,
            device,
            replicas,
            eval_device,
            steps_per_epoch,
            order: (u64::MAX, Vec::new()),
            rows: Vec::new(),
        })
    }
}

impl crate::run_dir::Trainable for RunConfig {
    type Summary = Summary;

    /// Writes the run folder described in [`crate::run_dir`].
    fn train_in(&self, folder: &Path, options: RunOptions) -> Result<Summary, LabError> {
        let (config, run) = (self, RunDir::new(folder));
        let data = prepare(&config.data)?;
        if let Some(s) = &data.schema {
            write_json(&run.schema(), s)?;
        }
        if let Some(s) = &data.standardizer {
            write_json(&run.standardizer(), s)?;
        }
        let device = options.device.training()?;
        device.seed(config.seed);
        let model =
            Model::for_data(&config.model, &data.train, &device)?.with_pretrained(&config.model)?;
        let replicas = match config.train.devices {
            1 => Vec::new(),
            n => options.device.training_devices(n)?,
        };
        let eval_device = options.device.inference()?;
        let mut task = Supervised::new(config, data, device.clone(), replicas, eval_device)?;
        let steps_per_epoch = task.steps_per_epoch;
        let t = &config.train;
        let total = match (t.steps, t.max_steps) {
            (0, 0) => t.epochs * steps_per_epoch,
            (0, cap) => (t.epochs * steps_per_epoch).min(cap),
            (steps, _) => steps,
        };
        let eval_every = match t.eval_every {
            0 => steps_per_epoch,
            n => n,
        };
        let cadence = Cadence {
            total,
            log_every: t.log_every,
            eval_every,
            eval_at: (t.eval_epochs.iter().map(|e| e * steps_per_epoch))
                .filter(|&s| s < total)
                .collect(),
            checkpoint_every: t.checkpoint_every,
        };
        let engine = Engine {
            run: &run,
            seed: config.seed,
            device: &device,
            optim: &config.optim,
            cadence,
            quiet: options.quiet,
            fingerprint: Fingerprint::new(config.to_toml()),
        };
        let observers = (WeightLog(run.weights()), WeightTrace::default());
        let (_, state, (_, trace)) = engine.run(&mut task, observers, model)?;
        task.finish(&run, state, trace.trace)
    }
}

impl Task for Supervised<'_> {
    type Eval = Evaluation;
    type State = TrainState;
    type Out = WeightedLoss;
    type Row = MetricsRow;

    fn label(&self) -> String {
        format!("{} seed {}", self.reweighter.name(), self.config.seed)
    }

    fn gradients(
        &mut self,
        model: &Model,
        step: u64,
        inject_nan: bool,
    ) -> Result<(GradientsParams, WeightedLoss), LabError> {
        let config = self.config;
        let epoch = step / self.steps_per_epoch;
        if self.order.0 != epoch {
            self.order = (
                epoch,
                epoch_order(self.data.train.len(), config.seed, epoch),
            );
        }
        let batch = config.train.batch_size;
        let start = (step % self.steps_per_epoch) as usize * batch;
        let order = &self.order.1;
        self.rows = order[start..(start + batch).min(order.len())].to_vec();
        let (train, rows) = (&self.data.train, &self.rows);
        let group = |r: usize| train.domains.as_ref().map_or(train.labels[r], |d| d[r]) as usize;
        let groups: Option<Vec<usize>> =
            (config.method.rule.needs_groups()).then(|| rows.iter().map(|&r| group(r)).collect());
        if !self.replicas.is_empty() {
            return self.sharded(model, groups.as_deref(), inject_nan);
        }
        let (x, y) = batch_tensors(train, rows, &self.device);
        let per_example =
            self.per_example(model.forward(x, &train.example_shape), y, inject_nan)?;
        let out = match &groups {
            Some(g) => self.reweighter.apply_grouped(per_example, g)?,
            None => self.reweighter.apply(per_example)?,
        };
        Ok((GradientsParams::from_grads(out.loss.backward(), model), out))
    }

    fn evaluate(&mut self, model: &Model, done: u64) -> Result<Evaluation, LabError> {
        let model = model.valid();
        Ok(Evaluation {
            step: done,
            valid: evaluate(&model, &self.data.valid, &self.eval_device)?,
            test: evaluate(&model, &self.data.test, &self.eval_device)?,
            train: (self.config.train.eval_train)
                .then(|| evaluate(&model, &self.data.train, &self.eval_device))
                .transpose()?,
        })
    }

    fn score(eval: &Evaluation) -> f64 {
        eval.valid.accuracy
    }

    fn loss(out: &WeightedLoss) -> f64 {
        out.mean_loss()
    }

    fn train_row(&self, step: u64, lr: f64, out: &WeightedLoss) -> MetricsRow {
        let s = out.stats;
        MetricsRow {
            step: step + 1,
            epoch: step / self.steps_per_epoch,
            kind: "train".into(),
            lr: Some(lr),
            train_loss: Some(out.mean_loss()),
            weighted_loss: Some(out.weighted_mean_loss()),
            weight_min: Some(s.min),
            weight_max: Some(s.max),
            weight_mean: Some(s.mean),
            ess_fraction: Some(s.ess_fraction),
            clipped_fraction: Some(s.clipped_fraction),
            ..MetricsRow::default()
        }
    }

    fn eval_row(&self, step: u64, e: &Evaluation) -> MetricsRow {
        MetricsRow {
            step: step + 1,
            epoch: step / self.steps_per_epoch,
            kind: "eval".into(),
            valid_accuracy: Some(e.valid.accuracy),
            valid_loss: Some(e.valid.loss),
            valid_macro_f1: Some(e.valid.macro_f1),
            valid_worst_class: Some(e.valid.worst_class_accuracy),
            valid_worst_domain: e.valid.worst_domain_accuracy,
            test_accuracy: Some(e.test.accuracy),
            test_loss: Some(e.test.loss),
            test_macro_f1: Some(e.test.macro_f1),
            test_worst_class: Some(e.test.worst_class_accuracy),
            test_worst_domain: e.test.worst_domain_accuracy,
            ..MetricsRow::default()
        }
    }

    fn state(&self) -> TrainState {
        TrainState {
            rule: self.reweighter.state(),
        }
    }

    fn load_state(&mut self, state: &TrainState) -> Result<(), LabError> {
        Ok(self.reweighter.load_state(&state.rule)?)
    }
}

impl Supervised<'_> {
    /// The per-example losses of a batch's logits under the config's loss (NaN from the test
    /// hook when `inject_nan`).
    fn per_example(
        &self,
        logits: Tensor<2>,
        y: Tensor<1, Int>,
        inject_nan: bool,
    ) -> Result<rgd_burn::PerExampleLoss, LabError> {
        let batch = logits.dims()[0];
        let per_example = match self.config.method.loss {
            LossConfig::Focal(f) => loss::focal(logits, y, f.gamma)?,
            LossConfig::CrossEntropy(c) => loss::cross_entropy(logits, y, c.label_smoothing)?,
        };
        if inject_nan {
            let nan = per_example.into_tensor().mul_scalar(f32::NAN);
            return Ok(rgd_burn::PerExampleLoss::new(nan, batch)?);
        }
        Ok(per_example)
    }

    /// One data-parallel step: the batch in contiguous shards, one per replica (the model forked
    /// to the replica's device, so every replica starts the step from the updated parameters),
    /// the rule on all shards' losses at once, each shard's `(1/B) Σ w_i l_i` back-propagated on
    /// its replica, and the replicas' gradients summed on the model's device.
    fn sharded(
        &mut self,
        model: &Model,
        groups: Option<&[usize]>,
        inject_nan: bool,
    ) -> Result<(GradientsParams, WeightedLoss), LabError> {
        let (train, rows) = (&self.data.train, &self.rows);
        let size = rows.len().div_ceil(self.replicas.len());
        let mut replicas = Vec::new();
        let mut shards = Vec::new();
        for (chunk, device) in rows.chunks(size).zip(&self.replicas) {
            let replica = model.clone().fork(device);
            let (x, y) = batch_tensors(train, chunk, device);
            let logits = replica.forward(x, &train.example_shape);
            shards.push(self.per_example(logits, y, inject_nan)?);
            replicas.push((replica, device.clone()));
        }
        let (losses, out) = self.reweighter.apply_sharded(shards, groups)?;
        let mut multi = MultiGradientsParams::default();
        for (loss, (replica, device)) in losses.into_iter().zip(replicas) {
            let grads = GradientsParams::from_grads(loss.backward(), &replica);
            multi.grads.push((grads, device));
        }
        Ok((crate::optim::sum_gradients(model, multi, &self.device), out))
    }

    /// Writes `summary.json` (and the plots) of the finished run, with its weight trace.
    fn finish(
        self,
        run: &RunDir,
        state: LoopState<Evaluation, TrainState>,
        weight_trace: Vec<WeightSnapshot>,
    ) -> Result<Summary, LabError> {
        let (last, best) = state.evaluated(run)?;
        let selected = match self.config.train.selection {
            Selection::Last => last,
            Selection::BestValid => best,
        };
        let summary = Summary {
            numerics: crate::numerics::NUMERICS,
            rule: self.reweighter.name().to_string(),
            seed: self.config.seed,
            steps: state.step,
            selection: self.config.train.selection,
            selected,
            last,
            sizes: [
                self.data.train.len(),
                self.data.valid.len(),
                self.data.test.len(),
            ],
            wall_secs: state.elapsed_secs,
            samples_per_sec: (state.step as f64 * self.config.train.batch_size as f64)
                / state.elapsed_secs.max(1e-9),
            threads: Some(crate::device::cpu_threads()),
            instruction_set: Some(rgd_kernels::instruction_set().into()),
            machine: Some(crate::suite::provenance::machine()),
            weight_trace,
            evaluations: state.evaluations,
        };
        write_json(&run.summary(), &summary)?;
        crate::run_plots::draw_into(run.root(), &summary, &run.plots())?;
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
    let labels: Vec<u32> = rows.iter().map(|&r| data.labels[r]).collect();
    rows_and_labels(data, rows, &labels, device)
}

/// Features `[n, prod(shape)]` of `rows` and the given `labels` `[n]` (an episode's own labels,
/// or the rows' labels).
pub fn rows_and_labels(
    data: &Dataset,
    rows: &[usize],
    labels: &[u32],
    device: &Device,
) -> (Tensor<2>, Tensor<1, Int>) {
    let width = data.n_features;
    let mut features = Vec::with_capacity(rows.len() * width);
    for &r in rows {
        features.extend_from_slice(data.row(r));
    }
    let labels: Vec<i64> = labels.iter().map(|&l| i64::from(l)).collect();
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
        predicted.extend(classes(logits)?.into_iter().map(|c| c as u32));
    }
    Ok((predicted, total_loss / data.len().max(1) as f64))
}

/// The class of the largest logit of each row of `logits`.
pub(crate) fn classes(logits: Tensor<2>) -> Result<Vec<i64>, LabError> {
    let classes = logits.argmax(1).into_data().try_into_vec_as::<i64>();
    classes.map_err(|e| LabError::ReadBack {
        what: "predictions",
        reason: format!("{e:?}"),
    })
}

/// Metrics of `model` (in validation mode) on `data`.
pub fn evaluate(model: &Model, data: &Dataset, device: &Device) -> Result<Metrics, LabError> {
    let (predicted, loss) = predict(model, data, device)?;
    let (n_classes, domains) = (data.n_classes(), data.domains.as_deref());
    let m = Metrics::compute(&predicted, &data.labels, n_classes, domains);
    Ok(Metrics { loss, ..m })
}
