//! Meta-training: episodes in, one outer optimizer step per meta-batch, checkpointed and
//! resumable like supervised runs.
//!
//! One meta-step: episode `step * meta_batch + b` (b < meta_batch) of the meta-training classes,
//! drawn from `(seed, index)`; per episode the query losses `l_ij` (ProtoNet, or first-order MAML
//! after its inner steps) are reweighted by the example-level rule into the episode loss
//! `L_i = (1/Q) Σ_j w_ij l_ij`; the task-level rule reweights the episodes,
//! `L = (1/B) Σ_i v_i L_i`; the weights `w` and `v` are constants for autodiff. The rule of the
//! config acts at its `level`; the other level is ERM (all weights 1).

use std::path::Path;
use std::time::Instant;

use burn::module::Module;
use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::prelude::*;
use rgd::{RuleConfig, RuleState};
use rgd_burn::{PerExampleLoss, Reweighter, WeightedLoss, loss};
use rgd_data::{Dataset, EpisodeSampler, MetaSplit};
use serde::{Deserialize, Serialize};

use super::config::{LearnerConfig, MetaConfig};
use super::episodes::{EpisodeAccuracy, EpisodeTensors, episode_tensors, load_data};
use super::{maml, protonet};
use crate::LabError;
use crate::checkpoint::load_model;
use crate::config::ConfigFile;
use crate::engine::{Cadence, Engine, Fingerprint, Task};
use crate::metrics_log::MetaMetricsRow;
use crate::model::Model;
use crate::run_dir::{RunDir, RunOptions, write_json};
use crate::train::classes;

/// What one meta-step computed.
#[derive(Debug, Clone)]
pub struct MetaStep {
    /// The task level: the episode losses `L_i`, their weights `v_i` and `L`.
    pub task: WeightedLoss,
    /// The example-level weights of every query, episode after episode.
    pub example_weights: Vec<f32>,
}

/// The gradients of one meta-batch at `model` (autodiff device), with the example-level and
/// task-level reweighting described in the module documentation.
///
/// `forward` maps a module and rows `[n, features]` to outputs (embeddings or logits); the
/// lab passes `Model::forward`, the tests a bare linear layer.
#[allow(clippy::too_many_arguments)]
pub fn meta_gradients<M: Module + Clone>(
    learner: LearnerConfig,
    model: &M,
    forward: &dyn Fn(&M, Tensor<2>) -> Tensor<2>,
    ways: usize,
    shots: usize,
    episodes: &[EpisodeTensors],
    example_rule: &mut Reweighter,
    task_rule: &mut Reweighter,
) -> Result<(GradientsParams, MetaStep), LabError> {
    let mut episode_losses = Vec::with_capacity(episodes.len());
    let mut adapted = Vec::new();
    let mut example_weights = Vec::new();
    for (xs, ys, xq, yq) in episodes {
        let logits = match learner {
            LearnerConfig::Protonet(_) => {
                protonet::episode_logits(|x| forward(model, x), xs.clone(), xq.clone(), ways, shots)
            }
            LearnerConfig::Maml(c) => {
                let (steps, lr) = (c.inner_steps, c.inner_lr);
                let a = maml::adapt(model.clone(), forward, xs.clone(), ys.clone(), steps, lr)?;
                let logits = forward(&a, xq.clone());
                adapted.push(a);
                logits
            }
        };
        let out = example_rule.apply(loss::cross_entropy(logits, yq.clone(), 0.0)?)?;
        example_weights.extend_from_slice(&out.weights);
        episode_losses.push(out.loss);
    }
    let b = episode_losses.len();
    let task = task_rule.apply(PerExampleLoss::new(Tensor::cat(episode_losses, 0), b)?)?;
    let mut grads = task.loss.backward();
    let params = match learner {
        LearnerConfig::Protonet(_) => GradientsParams::from_grads(grads, model),
        LearnerConfig::Maml(_) => {
            // Summed per parameter of the meta-model, whose ids the adapted models share.
            let mut acc = GradientsAccumulator::new();
            for a in &adapted {
                acc.accumulate(model, GradientsParams::from_module(&mut grads, a));
            }
            acc.grads()
        }
    };
    Ok((
        params,
        MetaStep {
            task,
            example_weights,
        },
    ))
}

/// One meta-validation evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MetaEvaluation {
    /// Meta-steps done.
    pub step: u64,
    /// Mean query accuracy over the meta-validation episodes.
    pub valid_accuracy: f64,
}

/// The meta task's own checkpointed state: the states of its two rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetaState {
    /// The example-level rule's state.
    pub example_rule: RuleState,
    /// The task-level rule's state.
    pub task_rule: RuleState,
}

/// The final record of a meta run (`summary.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetaSummary {
    /// The numerics version it was computed with ([`crate::numerics`]).
    #[serde(default = "crate::numerics::unversioned")]
    pub numerics: u32,
    /// `protonet` or `maml`.
    pub learner: String,
    /// Rule name.
    pub rule: String,
    /// `example` or `task`.
    pub level: String,
    /// Run seed.
    pub seed: u64,
    /// Meta-steps trained.
    pub steps: u64,
    /// The evaluation whose model is reported (best meta-validation accuracy).
    pub selected: MetaEvaluation,
    /// The last evaluation.
    pub last: MetaEvaluation,
    /// Meta-test accuracy of the selected model.
    pub test: EpisodeAccuracy,
    /// Wall time of meta-training, summed over resumes (seconds).
    pub wall_secs: f64,
    /// Wall time of the meta-test evaluation (seconds).
    pub test_secs: f64,
    /// The CPU that finished the run ([`crate::suite::provenance::machine`]; recorded, not
    /// compared).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine: Option<String>,
    /// Every meta-validation evaluation, in step order. Records written before this field
    /// existed have none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evaluations: Vec<MetaEvaluation>,
}

/// Meta-learning as a task of the engine: the benchmark, the learner and its two rules.
struct MetaTask<'a> {
    config: &'a MetaConfig,
    dataset: Dataset,
    /// Meta-training, -validation and -test.
    samplers: Vec<EpisodeSampler>,
    example_rule: Reweighter,
    task_rule: Reweighter,
    device: Device,
    eval_device: Device,
}

impl crate::run_dir::Trainable for MetaConfig {
    type Summary = MetaSummary;

    /// Also evaluates the model of the best meta-validation accuracy on the meta-test episodes.
    fn train_in(&self, run: &Path, options: RunOptions) -> Result<MetaSummary, LabError> {
        let (config, run) = (self, RunDir::new(run));
        let (dataset, split) = load_data(config)?;
        let (ds, e) = (&dataset, &config.episode);
        let samplers = ([MetaSplit::Train, MetaSplit::Valid, MetaSplit::Test].into_iter())
            .map(|s| EpisodeSampler::new(ds, split.classes(s), e.ways, e.shots, e.queries))
            .collect::<Result<Vec<_>, _>>()?;
        let device = options.device.training()?;
        device.seed(config.seed);
        // The network embeds (ProtoNet) or gives one logit per way (MAML).
        let outputs = match config.learner {
            LearnerConfig::Protonet(p) => p.embedding,
            LearnerConfig::Maml(_) => e.ways,
        };
        let model = Model::new(&config.model, &ds.example_shape, outputs, &device)?;
        let (example_cfg, task_cfg) = config.method.level.rules(config.method.rule);
        let t = &config.train;
        let mut task = MetaTask {
            config,
            samplers,
            example_rule: Reweighter::new(&example_cfg)?,
            task_rule: Reweighter::new(&task_cfg)?,
            device: device.clone(),
            eval_device: options.device.inference()?,
            dataset,
        };
        let engine = Engine {
            run: &run,
            seed: config.seed,
            device: &device,
            optim: &config.optim,
            cadence: Cadence {
                total: t.meta_steps,
                log_every: t.log_every,
                eval_every: t.eval_every,
                eval_at: Vec::new(),
                checkpoint_every: t.checkpoint_every,
            },
            quiet: options.quiet,
            fingerprint: Fingerprint::new(config.to_toml()),
        };
        let (model, state, _) = engine.run(&mut task, (), model)?;
        let (last, best) = state.evaluated(&run)?;
        let best_model = load_model(model, &run.best().join("model.bpk"))?;
        let test_started = Instant::now();
        let acc = task.accuracies(&best_model, 2, t.test_episodes)?;
        let summary = MetaSummary {
            numerics: crate::numerics::NUMERICS,
            learner: config.learner.kind().to_string(),
            rule: rule_name(&config.method.rule).into(),
            level: config.method.level.name().to_string(),
            seed: config.seed,
            steps: state.step,
            selected: best,
            last,
            test: EpisodeAccuracy::from_episodes(&acc),
            wall_secs: state.elapsed_secs,
            test_secs: test_started.elapsed().as_secs_f64(),
            machine: Some(crate::suite::provenance::machine()),
            evaluations: state.evaluations,
        };
        write_json(&run.summary(), &summary)?;
        Ok(summary)
    }
}

impl MetaTask<'_> {
    /// Query accuracy of `model` on each of `count` episodes of sampler `split` (1:
    /// meta-validation, 2: meta-test), drawn from the fixed evaluation seed. ProtoNet runs on the
    /// inference device; MAML adapts on the support set first (inner SGD steps, which need the
    /// autodiff device).
    fn accuracies(&self, model: &Model, split: usize, count: u64) -> Result<Vec<f64>, LabError> {
        let (data, sampler) = (&self.dataset, &self.samplers[split]);
        let shape = &data.example_shape;
        let valid = model.valid();
        let mut accuracies = Vec::with_capacity(count as usize);
        for i in 0..count {
            let e = sampler.episode(self.config.train.eval_seed, i);
            let logits = match self.config.learner {
                LearnerConfig::Protonet(_) => {
                    let (xs, _, xq, _) = episode_tensors(data, &e, &self.eval_device);
                    let (ways, shots) = (sampler.ways(), sampler.shots());
                    protonet::episode_logits(|x| valid.forward(x, shape), xs, xq, ways, shots)
                }
                LearnerConfig::Maml(c) => {
                    let (xs, ys, xq, _) = episode_tensors(data, &e, &self.device);
                    let forward = |m: &Model, x| m.forward(x, shape);
                    let a = maml::adapt(model.clone(), forward, xs, ys, c.inner_steps, c.inner_lr)?;
                    a.valid().forward(xq.inner(), shape)
                }
            };
            let right = (classes(logits)?.into_iter())
                .zip(&e.query_labels)
                .filter(|&(p, &l)| p == i64::from(l))
                .count();
            accuracies.push(right as f64 / e.query_labels.len() as f64);
        }
        Ok(accuracies)
    }
}

impl Task for MetaTask<'_> {
    type Eval = MetaEvaluation;
    type State = MetaState;
    type Out = MetaStep;
    type Row = MetaMetricsRow;

    fn label(&self) -> String {
        format!(
            "{} {} ({}) seed {}",
            self.config.learner.kind(),
            self.config.method.level.name(),
            rule_name(&self.config.method.rule),
            self.config.seed
        )
    }

    fn gradients(
        &mut self,
        model: &Model,
        step: u64,
        _inject_nan: bool,
    ) -> Result<(GradientsParams, MetaStep), LabError> {
        let (config, ds) = (self.config, &self.dataset);
        let batch = config.train.meta_batch as u64;
        let episodes: Vec<_> = (0..batch)
            .map(|b| {
                let e = self.samplers[0].episode(config.seed, step * batch + b);
                episode_tensors(ds, &e, &self.device)
            })
            .collect();
        let shape = &ds.example_shape;
        meta_gradients(
            config.learner,
            model,
            &|m: &Model, x| m.forward(x, shape),
            config.episode.ways,
            config.episode.shots,
            &episodes,
            &mut self.example_rule,
            &mut self.task_rule,
        )
    }

    fn evaluate(&mut self, model: &Model, done: u64) -> Result<MetaEvaluation, LabError> {
        let acc = self.accuracies(model, 1, self.config.train.valid_episodes)?;
        Ok(MetaEvaluation {
            step: done,
            valid_accuracy: acc.iter().sum::<f64>() / acc.len() as f64,
        })
    }

    fn score(eval: &MetaEvaluation) -> f64 {
        eval.valid_accuracy
    }

    fn loss(out: &MetaStep) -> f64 {
        out.task.mean_loss()
    }

    fn train_row(&self, step: u64, lr: f64, out: &MetaStep) -> MetaMetricsRow {
        let s = out.task.stats;
        let ew = &out.example_weights;
        MetaMetricsRow {
            step: step + 1,
            kind: "train".into(),
            lr: Some(lr),
            task_loss: Some(out.task.mean_loss()),
            weighted_loss: Some(out.task.weighted_mean_loss()),
            task_weight_min: Some(s.min),
            task_weight_max: Some(s.max),
            task_weight_mean: Some(s.mean),
            example_weight_min: Some(ew.iter().copied().fold(f32::INFINITY, f32::min)),
            example_weight_max: Some(ew.iter().copied().fold(f32::NEG_INFINITY, f32::max)),
            example_weight_mean: Some(ew.iter().sum::<f32>() / ew.len().max(1) as f32),
            ..MetaMetricsRow::default()
        }
    }

    fn eval_row(&self, step: u64, eval: &MetaEvaluation) -> MetaMetricsRow {
        MetaMetricsRow {
            step: step + 1,
            kind: "eval".into(),
            valid_accuracy: Some(eval.valid_accuracy),
            ..MetaMetricsRow::default()
        }
    }

    fn state(&self) -> MetaState {
        MetaState {
            example_rule: self.example_rule.state(),
            task_rule: self.task_rule.state(),
        }
    }

    fn load_state(&mut self, state: &MetaState) -> Result<(), LabError> {
        self.example_rule.load_state(&state.example_rule)?;
        self.task_rule.load_state(&state.task_rule)?;
        Ok(())
    }
}

impl crate::numerics::Versioned for MetaSummary {
    fn numerics(&self) -> u32 {
        self.numerics
    }
}

fn rule_name(rule: &RuleConfig) -> &'static str {
    rule.init().map_or("?", |r| r.name())
}
