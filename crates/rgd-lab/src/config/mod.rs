//! The run configuration: one TOML file, every default written out, every choice a tagged
//! table with its own keys, validated once ([`mod@file`] reads and overrides it).

pub mod file;
mod model;
mod optim;

use rgd::RuleConfig;
use serde::{Deserialize, Serialize};
use smart_default::SmartDefault;

pub use model::{BertConfig, CnnConfig, EncoderConfig, MlpConfig, ModelConfig, Norm, VitConfig};
pub use optim::{
    AdamConfig, CosineSchedule, OptimConfig, Optimizer, Schedule, SgdConfig, StepSchedule,
};

pub use file::ConfigFile;

use crate::LabError;

/// A fully resolved run configuration (what `config.toml` of a run folder holds); the
/// optimizer's defaults follow PyTorch ([`OptimConfig`]).
///
/// ```
/// use rgd_lab::config::{ConfigFile, Optimizer, RunConfig};
/// let config = RunConfig::default();
/// let Optimizer::Adamw(adamw) = config.optim.algorithm else { panic!() };
/// assert_eq!(adamw.eps, 1e-8);
/// config.validate().unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RunConfig {
    /// Seed of model initialisation, shuffling and dropout.
    pub seed: u64,
    /// The data set and its preprocessing.
    pub data: DataConfig,
    /// The model.
    pub model: ModelConfig,
    /// The optimizer and learning-rate schedule.
    pub optim: OptimConfig,
    /// The reweighting rule and the per-example loss.
    pub method: MethodConfig,
    /// Batch size, duration, evaluation and checkpoint cadence.
    pub train: TrainConfig,
}

/// Where the data comes from and how it is split.
#[derive(Debug, Clone, PartialEq, SmartDefault, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DataConfig {
    /// A name from `rgd data list` (e.g. `magic`, embedded; `keel/letter`; `fashion-mnist`) or a
    /// path to a KEEL `.dat` or CSV file.
    #[default = "magic"]
    pub source: String,
    /// For a CSV file: the name of the label column.
    pub label_column: String,
    /// Fraction of the data held out for validation (model selection).
    #[default = 0.15]
    pub valid_fraction: f64,
    /// Fraction of the data held out for testing (reported only).
    #[default = 0.15]
    pub test_fraction: f64,
    /// Seed of the stratified split; fixed across run seeds so every method sees the same split.
    pub split_seed: u64,
    /// Standardise features with statistics of the training split only.
    #[default = true]
    pub standardize: bool,
    /// Keep at most this many training examples (0: all), a random subsample drawn with
    /// `split_seed`.
    pub max_train: usize,
    /// A separate test set (e.g. `fashion-mnist-test`); empty: hold out `test_fraction` of
    /// `source` instead.
    pub test_source: String,
    /// Long-tail the training split to this largest/smallest class ratio with an exponential
    /// profile (1: keep it as it is). Validation and test stay as they are.
    #[default = 1.0]
    pub long_tail_ratio: f64,
    /// Leave-one-domain-out: the name of a domain of `source` (e.g. `"15°"` of `rotated-mnist`,
    /// `"-90%"` of `colored-mnist`) held out whole as the test set; the other domains are split
    /// into training and validation (DomainBed's training-domain validation). Empty: none.
    pub test_domain: String,
    /// Label noise on the training and validation splits (the test split stays clean), drawn
    /// from `split_seed`.
    pub label_noise: LabelNoise,
}

/// Label noise: `label_noise = { kind = "symmetric", rate = 0.4 }`, `"asymmetric"` or `"none"`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum LabelNoise {
    /// Clean labels.
    #[default]
    None,
    /// Each flipped label goes to a uniformly chosen other class.
    Symmetric(NoiseRate),
    /// Flips along the Fashion-MNIST class map (T-shirt <-> Shirt, ...).
    Asymmetric(NoiseRate),
}

/// How many labels a noise model flips.
#[derive(Debug, Clone, Copy, PartialEq, SmartDefault, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NoiseRate {
    /// Fraction of labels flipped (of every mapped class, for `asymmetric`).
    #[default = 0.2]
    pub rate: f64,
}

/// The reweighting rule and the loss it reweights.
#[derive(Debug, Clone, PartialEq, SmartDefault, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MethodConfig {
    /// The rule: `{ name = "erm" }`, `{ name = "rgd", tau = 1.0 }`, `{ name = "term", tilt = 1.0 }`,
    /// `{ name = "absgd", lambda = 1.0, gamma = 0.9 }`, `{ name = "cvar", alpha = 0.5 }`,
    /// `{ name = "chi2", rho = 1.0 }`, `{ name = "groupdro", n_groups = 2, eta = 0.01 }`; a rule
    /// named alone (`rule = "cvar"`) gets its defaults.
    #[default(RuleConfig::Rgd(rgd::RgdConfig::new()))]
    pub rule: RuleConfig,
    /// The per-example loss the rule reweights.
    pub loss: LossConfig,
}

/// The per-example loss: `{ name = "cross_entropy", label_smoothing = 0.0 }` or
/// `{ name = "focal", gamma = 2.0 }`.
#[derive(Debug, Clone, Copy, PartialEq, SmartDefault, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum LossConfig {
    /// Cross-entropy.
    #[default]
    CrossEntropy(CrossEntropyConfig),
    /// The focal loss `-(1 - p)^gamma log p`.
    Focal(FocalConfig),
}

/// The cross-entropy's keys.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CrossEntropyConfig {
    /// Label smoothing.
    pub label_smoothing: f64,
}

/// The focal loss's keys.
#[derive(Debug, Clone, Copy, PartialEq, SmartDefault, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FocalConfig {
    /// The exponent.
    #[default = 2.0]
    pub gamma: f64,
}

/// Training length and cadence.
#[derive(Debug, Clone, PartialEq, SmartDefault, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    /// Examples per step.
    #[default = 128]
    pub batch_size: usize,
    /// Drop the last incomplete batch of each epoch (a batch of a few examples makes batch norm
    /// and the reweighting statistics noisy).
    #[default = true]
    pub drop_last: bool,
    /// Passes over the training split (ignored when `steps > 0`).
    #[default = 10]
    pub epochs: u64,
    /// Total optimizer steps (0: `epochs` passes).
    pub steps: u64,
    /// Upper bound on the total steps (0: none): bounds the cost of large data sets in suites.
    pub max_steps: u64,
    /// Evaluate on validation and test every this many steps (0: once per epoch).
    pub eval_every: u64,
    /// Evaluate after exactly these epochs (and after the last step) instead of every
    /// `eval_every` steps, e.g. the log grid `[1, 3, 10, 30, 100]` of a learning curve.
    /// Written out only when not empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub eval_epochs: Vec<u64>,
    /// Evaluate on the training split too (its accuracy shows when a model has fit, or under
    /// label noise memorised, its training labels). Written out only when true.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub eval_train: bool,
    /// Write a metrics row every this many steps.
    #[default = 10]
    pub log_every: u64,
    /// Save a checkpoint every this many steps (0: at every evaluation).
    pub checkpoint_every: u64,
    /// Which evaluation the summary reports.
    pub selection: Selection,
    /// Data parallel: split each batch into this many shards, each on its own model replica
    /// (on the CPU, replicas of one device; on CUDA, devices 0..N), and sum their gradients
    /// (burn's `MultiGradientsParams`) before clipping and the optimizer step. The rule weighs
    /// the whole batch's losses, so the step equals the unsharded one up to float rounding.
    /// Written out only when it is not 1.
    #[serde(skip_serializing_if = "is_one")]
    #[default = 1]
    pub devices: usize,
}

fn is_one(n: &usize) -> bool {
    *n == 1
}

/// Which evaluation a run's summary reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Selection {
    /// The one with the best validation accuracy (the first of ties).
    #[default]
    BestValid,
    /// The last one.
    Last,
}

impl Selection {
    /// Its name in configs and summaries.
    pub fn name(self) -> &'static str {
        match self {
            Selection::BestValid => "best_valid",
            Selection::Last => "last",
        }
    }
}

pub(crate) fn check(ok: bool, message: impl FnOnce() -> String) -> Result<(), LabError> {
    if ok {
        Ok(())
    } else {
        Err(LabError::Config(message()))
    }
}

impl ConfigFile for RunConfig {
    const TAGGED: &'static [(&'static str, &'static str)] = &[
        ("data.label_noise", "kind"),
        ("model", "kind"),
        ("optim", "name"),
        ("optim.schedule", "name"),
        ("method.rule", "name"),
        ("method.loss", "name"),
    ];
    const MOVED: &'static [(&'static str, &'static str)] = &[
        ("data.noise_rate", "data.label_noise.rate"),
        ("method.focal_gamma", "method.loss.gamma"),
        ("method.label_smoothing", "method.loss.label_smoothing"),
        ("optim.min_lr_factor", "optim.schedule.min_lr_factor"),
        ("optim.step_every", "optim.schedule.every"),
        ("optim.step_gamma", "optim.schedule.gamma"),
    ];
    const SPARSE: &'static [(&'static str, &'static str)] = &[
        ("train.devices", "1"),
        ("train.eval_epochs", "[]"),
        ("train.eval_train", "false"),
    ];

    fn validate(&self) -> Result<(), LabError> {
        self.validate_data()?;
        self.model.validate()?;
        self.optim.validate()?;
        self.method.rule.init()?;
        match self.method.loss {
            LossConfig::CrossEntropy(c) => check((0.0..1.0).contains(&c.label_smoothing), || {
                format!(
                    "method.loss.label_smoothing = {} must lie in [0, 1)",
                    c.label_smoothing
                )
            }),
            LossConfig::Focal(f) => check(f.gamma >= 0.0 && f.gamma.is_finite(), || {
                format!("method.loss.gamma = {} must be >= 0", f.gamma)
            }),
        }?;
        self.validate_train()
    }
}

impl RunConfig {
    /// The `data` table, and whether the model can read its source.
    fn validate_data(&self) -> Result<(), LabError> {
        let d = &self.data;
        check(!d.source.is_empty(), || {
            "data.source is empty: name a data set (see `rgd data list`) or a file".into()
        })?;
        check(d.test_source.is_empty() || d.test_domain.is_empty(), || {
            format!(
                "data.test_source = \"{}\" and data.test_domain = \"{}\" both name a test set: keep one",
                d.test_source, d.test_domain
            )
        })?;
        check(
            d.valid_fraction > 0.0
                && (d.test_fraction > 0.0
                    || !d.test_source.is_empty()
                    || !d.test_domain.is_empty())
                && d.valid_fraction + d.test_fraction < 1.0,
            || {
                format!(
                    "data.valid_fraction = {} and data.test_fraction = {} must be > 0 with a sum below 1",
                    d.valid_fraction, d.test_fraction
                )
            },
        )?;
        check(
            d.long_tail_ratio.is_finite() && d.long_tail_ratio >= 1.0,
            || {
                format!(
                    "data.long_tail_ratio = {} must be a finite number >= 1 (1: no long tail)",
                    d.long_tail_ratio
                )
            },
        )?;
        if let LabelNoise::Symmetric(n) | LabelNoise::Asymmetric(n) = d.label_noise {
            check((0.0..=1.0).contains(&n.rate), || {
                format!("data.label_noise.rate = {} must lie in [0, 1]", n.rate)
            })?;
        }
        let token_sources: &[&str] = match self.model {
            ModelConfig::Transformer(_) => &[
                crate::text::SENTIMENT_WORDS,
                crate::text::SENTIMENT_WORDPIECE,
            ],
            ModelConfig::Bert(_) => &[crate::text::SENTIMENT_WORDPIECE],
            _ => &[],
        };
        check(
            token_sources.is_empty() || token_sources.contains(&d.source.as_str()),
            || {
                format!(
                    "model.kind = \"{}\" reads token ids, which data.source = \"{}\" does not \
                     hold: use {}",
                    self.model.kind(),
                    d.source,
                    token_sources.join(" or ")
                )
            },
        )?;
        check(!self.model.reads_token_ids() || !d.standardize, || {
            format!(
                "model.kind = \"{}\" reads token ids: set data.standardize = false",
                self.model.kind()
            )
        })
    }

    /// The `train` table, and whether the model can be sharded over `train.devices`.
    fn validate_train(&self) -> Result<(), LabError> {
        let t = &self.train;
        check(t.batch_size > 0, || "train.batch_size must be > 0".into())?;
        check(t.epochs > 0 || t.steps > 0, || {
            "train.epochs or train.steps must be > 0".into()
        })?;
        check(t.log_every > 0, || "train.log_every must be > 0".into())?;
        check(
            t.eval_epochs.first().is_none_or(|&e| e > 0)
                && t.eval_epochs.is_sorted_by(|a, b| a < b),
            || {
                format!(
                    "train.eval_epochs = {:?} must be increasing epoch counts > 0, e.g. [1, 3, 10]",
                    t.eval_epochs
                )
            },
        )?;
        check(t.eval_epochs.is_empty() || t.eval_every == 0, || {
            "train.eval_epochs and train.eval_every both set the evaluations: set one of them"
                .into()
        })?;
        check(t.devices >= 1 && t.devices <= t.batch_size, || {
            format!(
                "train.devices = {} must be between 1 and train.batch_size = {}",
                t.devices, t.batch_size
            )
        })?;
        let batch_norm = match &self.model {
            ModelConfig::Mlp(m) => m.norm == Norm::Batch,
            ModelConfig::Cnn(c) => c.head.norm == Norm::Batch,
            _ => false,
        };
        check(t.devices == 1 || !batch_norm, || {
            "train.devices > 1 with model.norm = \"batch\": batch norm couples the examples of \
             a batch (each shard would normalise with its own statistics and keep its own running \
             statistics); use model.norm = \"layer\" or \"none\", or train.devices = 1"
                .into()
        })
    }
}
