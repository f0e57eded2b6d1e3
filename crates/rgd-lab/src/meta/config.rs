//! The configuration of a meta-learning run, a TOML file like a run's ([`crate::config`]).
//!
//! ```toml
//! seed = 0
//! [data]
//! benchmark = "letter"          # or "images" (Fashion-MNIST classes + MNIST digits)
//! [episode]
//! ways = 5
//! shots = 1
//! queries = 15
//! [learner]
//! kind = "protonet"             # or "maml" (first-order)
//! [model]                       # the lab's models: the embedding (protonet) or classifier (maml)
//! kind = "mlp"
//! hidden = [64, 64]
//! [optim]                       # the outer (meta) optimizer, as for supervised runs
//! lr = 0.001
//! [method]
//! rule = { name = "rgd", tau = 1.0 }
//! level = "task"                # reweight episodes of a meta-batch, or "example": queries
//! [train]
//! meta_steps = 500
//! meta_batch = 4
//! ```

use rgd::RuleConfig;
use serde::{Deserialize, Serialize};
use smart_default::SmartDefault;

use crate::LabError;
use crate::config::{ConfigFile, ModelConfig, OptimConfig, check};

/// A fully resolved meta-learning configuration (what `config.toml` of a meta run holds).
///
/// ```
/// use rgd_lab::config::ConfigFile;
/// let c = rgd_lab::meta::config::MetaConfig::default();
/// c.validate().unwrap();
/// assert_eq!((c.episode.ways, c.episode.shots), (5, 1));
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MetaConfig {
    /// Seed of initialisation, of the meta-training episodes and of dropout.
    pub seed: u64,
    /// Which benchmark.
    pub data: MetaDataConfig,
    /// Episode shape.
    pub episode: EpisodeConfig,
    /// ProtoNet or first-order MAML.
    pub learner: LearnerConfig,
    /// The network (the lab's MLP or CNN).
    pub model: ModelConfig,
    /// The outer optimizer and its schedule (over meta-steps).
    pub optim: OptimConfig,
    /// The rule and the level it reweights.
    pub method: MetaMethodConfig,
    /// Length, meta-batch, evaluation.
    pub train: MetaTrainConfig,
}

/// The benchmark: `benchmark = "letter"` (keel/letter, classes split 16/5/5) or `"images"` (10
/// Fashion-MNIST classes and 10 MNIST digits, split 10/5/5); the splits are
/// `rgd_data::{LETTER_SPLIT, IMAGE_SPLIT}`.
#[derive(Debug, Clone, Copy, PartialEq, SmartDefault, Serialize, Deserialize)]
#[serde(tag = "benchmark", rename_all = "lowercase")]
pub enum MetaDataConfig {
    /// The letters of keel/letter.
    #[default]
    Letter(LetterConfig),
    /// Fashion-MNIST classes and MNIST digits.
    Images(ImagesConfig),
}

/// The letter benchmark's keys.
#[derive(Debug, Clone, Copy, PartialEq, SmartDefault, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LetterConfig {
    /// Standardise features with statistics of the meta-training classes only.
    #[default = true]
    pub standardize: bool,
}

/// The image benchmark's keys.
#[derive(Debug, Clone, Copy, PartialEq, SmartDefault, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImagesConfig {
    /// Keep this many images per class (seeded by `split_seed`).
    #[default = 600]
    pub per_class: usize,
    /// Seed of the image subsample (fixed across run seeds).
    pub split_seed: u64,
}

/// The shape of every episode.
#[derive(Debug, Clone, PartialEq, SmartDefault, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EpisodeConfig {
    /// Classes per episode (N).
    #[default = 5]
    pub ways: usize,
    /// Support examples per class (K).
    #[default = 1]
    pub shots: usize,
    /// Query examples per class (Q), in training and evaluation.
    #[default = 15]
    pub queries: usize,
}

/// The meta-learner: `kind = "protonet"` (Snell et al. 2017) or `"maml"` (first-order, Finn et
/// al. 2017).
#[derive(Debug, Clone, Copy, PartialEq, SmartDefault, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum LearnerConfig {
    /// Prototypical Networks ([`crate::meta::protonet`]): the network embeds.
    #[default]
    Protonet(ProtonetConfig),
    /// First-order MAML ([`crate::meta::maml`]): the network classifies.
    Maml(MamlConfig),
}

/// ProtoNet's keys.
#[derive(Debug, Clone, Copy, PartialEq, SmartDefault, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProtonetConfig {
    /// Width of the embedding (the network's output).
    #[default = 64]
    pub embedding: usize,
}

/// First-order MAML's keys.
#[derive(Debug, Clone, Copy, PartialEq, SmartDefault, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MamlConfig {
    /// SGD steps on the support set per episode (training and evaluation).
    #[default = 5]
    pub inner_steps: usize,
    /// Learning rate of the inner SGD steps.
    #[default = 0.1]
    pub inner_lr: f64,
}

/// The rule and the level it applies to.
#[derive(Debug, Clone, PartialEq, SmartDefault, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetaMethodConfig {
    /// The rule, as in supervised runs ([`crate::config::MethodConfig::rule`]).
    #[default(RuleConfig::Erm)]
    pub rule: RuleConfig,
    /// The level the rule reweights; the other level is ERM. The weights are detached at both.
    pub level: Level,
}

/// Where a meta-learning rule acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// The query losses within each episode (an episode's loss is the weighted mean of its
    /// query losses).
    Example,
    /// The episodes of a meta-batch (an episode's loss is its mean query loss).
    #[default]
    Task,
}

impl Level {
    /// Its name in configs and summaries.
    pub fn name(self) -> &'static str {
        match self {
            Level::Example => "example",
            Level::Task => "task",
        }
    }

    /// The rules of the two levels, `(example, task)`: `rule` at this level, ERM at the other.
    pub fn rules(self, rule: RuleConfig) -> (RuleConfig, RuleConfig) {
        match self {
            Level::Example => (rule, RuleConfig::Erm),
            Level::Task => (RuleConfig::Erm, rule),
        }
    }
}

impl LearnerConfig {
    /// Its name in configs and summaries.
    pub fn kind(&self) -> &'static str {
        match self {
            LearnerConfig::Protonet(_) => "protonet",
            LearnerConfig::Maml(_) => "maml",
        }
    }
}

impl MetaDataConfig {
    /// Its name in configs.
    pub fn benchmark(&self) -> &'static str {
        match self {
            MetaDataConfig::Letter(_) => "letter",
            MetaDataConfig::Images(_) => "images",
        }
    }
}

/// Meta-training length and evaluation.
#[derive(Debug, Clone, PartialEq, SmartDefault, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetaTrainConfig {
    /// Outer optimizer steps.
    #[default = 500]
    pub meta_steps: u64,
    /// Episodes per outer step.
    #[default = 4]
    pub meta_batch: usize,
    /// Evaluate on meta-validation episodes every this many steps (and at the last).
    #[default = 100]
    pub eval_every: u64,
    /// Meta-validation episodes per evaluation (the same ones each time).
    #[default = 200]
    pub valid_episodes: u64,
    /// Meta-test episodes, evaluated once with the model of the best meta-validation accuracy.
    #[default = 600]
    pub test_episodes: u64,
    /// Seed of the meta-validation and meta-test episodes: fixed, so that every run and every
    /// method is evaluated on the same episodes.
    #[default = 1_000_003]
    pub eval_seed: u64,
    /// Write a metrics row every this many steps.
    #[default = 10]
    pub log_every: u64,
    /// Save a checkpoint every this many steps (0: at every evaluation).
    pub checkpoint_every: u64,
}

impl ConfigFile for MetaConfig {
    const TAGGED: &'static [(&'static str, &'static str)] = &[
        ("data", "benchmark"),
        ("learner", "kind"),
        ("model", "kind"),
        ("optim", "name"),
        ("optim.schedule", "name"),
        ("method.rule", "name"),
    ];
    const MOVED: &'static [(&'static str, &'static str)] = &[
        ("optim.min_lr_factor", "optim.schedule.min_lr_factor"),
        ("optim.step_every", "optim.schedule.every"),
        ("optim.step_gamma", "optim.schedule.gamma"),
    ];

    fn validate(&self) -> Result<(), LabError> {
        if let MetaDataConfig::Images(images) = self.data {
            check(images.per_class > 0, || {
                "data.per_class must be > 0 (images kept per class)".into()
            })?;
        }
        let e = &self.episode;
        check(e.ways >= 2, || {
            format!("episode.ways = {} must be at least 2", e.ways)
        })?;
        check(e.shots >= 1, || {
            format!("episode.shots = {} must be at least 1", e.shots)
        })?;
        check(e.queries >= 1, || {
            format!("episode.queries = {} must be at least 1", e.queries)
        })?;
        match self.learner {
            LearnerConfig::Protonet(p) => {
                check(p.embedding > 0, || "learner.embedding must be > 0".into())?;
            }
            LearnerConfig::Maml(m) => {
                check(m.inner_steps >= 1, || {
                    format!(
                        "learner.inner_steps = {} must be at least 1 for maml",
                        m.inner_steps
                    )
                })?;
                check(m.inner_lr.is_finite() && m.inner_lr > 0.0, || {
                    format!(
                        "learner.inner_lr = {} must be a finite number > 0",
                        m.inner_lr
                    )
                })?;
            }
        }
        // The model, the optimizer and the rule are those of supervised runs: reuse their
        // checks (the messages name the same fields).
        self.model.validate()?;
        self.optim.validate()?;
        self.method.rule.init()?;
        check(!self.method.rule.needs_groups(), || {
            "method.rule: groupdro needs group labels, which episodes do not have; use erm, rgd, \
             term, absgd, cvar or chi2"
                .into()
        })?;
        let t = &self.train;
        check(t.meta_steps > 0, || "train.meta_steps must be > 0".into())?;
        check(t.meta_batch > 0, || "train.meta_batch must be > 0".into())?;
        check(t.eval_every > 0, || "train.eval_every must be > 0".into())?;
        check(t.valid_episodes > 0, || {
            "train.valid_episodes must be > 0".into()
        })?;
        check(t.test_episodes > 0, || {
            "train.test_episodes must be > 0".into()
        })?;
        check(t.log_every > 0, || "train.log_every must be > 0".into())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_shape_the_episodes_switch_the_rule_and_name_unknown_keys() {
        let c = MetaConfig::default()
            .with_overrides(&[
                "episode.shots=5".into(),
                "method.rule.name=cvar".into(),
                "method.rule.alpha=0.3".into(),
            ])
            .unwrap();
        assert_eq!(c.episode.shots, 5);
        assert!(matches!(c.method.rule, RuleConfig::Cvar(r) if r.alpha == 0.3));
        let err = MetaConfig::default().with_overrides(&["episode.shot=5".into()]);
        assert!(
            err.unwrap_err()
                .to_string()
                .contains("unknown key `episode.shot`")
        );
    }

    #[test]
    fn invalid_fields_are_named_with_their_value() {
        let bad = |o: &str| {
            MetaConfig::default()
                .with_overrides(&[o.to_string()])
                .unwrap_err()
                .to_string()
        };
        assert!(bad("episode.ways=1").contains("episode.ways = 1"));
        assert!(
            bad("learner.kind=\"reptile\"").contains("learner.kind: unknown variant `reptile`")
        );
        assert!(bad("method.level=\"batch\"").contains("method.level: unknown variant `batch`"));
        assert!(bad("learner.inner_lr=0.5").contains("unknown key `learner.inner_lr`"));
        assert!(bad("optim.lr=0").contains("optim.lr = 0"));
        assert!(bad("data.benchmark=\"cifar\"").contains("data.benchmark"));
        assert!(bad("train.meta_batch=0").contains("train.meta_batch"));
        assert!(bad("method.rule.name=\"groupdro\"").contains("group"));
        let toml = MetaConfig::default().to_toml();
        assert_eq!(MetaConfig::from_toml(&toml).unwrap(), MetaConfig::default());
        let maml = MetaConfig::default()
            .with_overrides(&["learner.kind=maml".into(), "learner.inner_lr=0.5".into()])
            .unwrap();
        assert_eq!(
            maml.learner,
            LearnerConfig::Maml(MamlConfig {
                inner_steps: 5,
                inner_lr: 0.5
            })
        );
    }
}
