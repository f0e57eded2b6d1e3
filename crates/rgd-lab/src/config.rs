//! The run configuration: one TOML file, every default written out, validated once.

use std::path::Path;

use rgd::RuleConfig;
use serde::{Deserialize, Serialize};

use crate::LabError;

/// A fully resolved run configuration (what `config.toml` of a run folder holds).
///
/// Defaults follow PyTorch, not burn: Adam/AdamW epsilon 1e-8, AdamW weight decay 0.01, SGD
/// momentum without dampening, gradient clipping by the global norm. Reported test metrics are
/// those at the step with the best validation accuracy (`selection = "best_valid"`).
///
/// ```
/// let config = rgd_lab::config::RunConfig::default();
/// assert_eq!(config.optim.eps, 1e-8);
/// config.validate().unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DataConfig {
    /// A name from `rgd data list` (e.g. `magic`, embedded; `keel/letter`; `fashion-mnist`) or a
    /// path to a KEEL `.dat` or CSV file.
    pub source: String,
    /// For a CSV file: the name of the label column.
    pub label_column: String,
    /// Fraction of the data held out for validation (model selection).
    pub valid_fraction: f64,
    /// Fraction of the data held out for testing (reported only).
    pub test_fraction: f64,
    /// Seed of the stratified split; fixed across run seeds so every method sees the same split.
    pub split_seed: u64,
    /// Standardise features with statistics of the training split only.
    pub standardize: bool,
    /// Keep at most this many training examples (0: all), a random subsample drawn with
    /// `split_seed`.
    pub max_train: usize,
    /// A separate test set (e.g. `fashion-mnist-test`); empty: hold out `test_fraction` of
    /// `source` instead.
    pub test_source: String,
    /// Long-tail the training split to this largest/smallest class ratio with an exponential
    /// profile (1: keep it as it is). Validation and test stay as they are.
    pub long_tail_ratio: f64,
    /// Leave-one-domain-out: the name of a domain of `source` (e.g. `"15°"` of `rotated-mnist`,
    /// `"-90%"` of `colored-mnist`) held out whole as the test set; the other domains are split
    /// into training and validation (DomainBed's training-domain validation). Empty: none.
    pub test_domain: String,
    /// Label noise on the training and validation splits (the test split stays clean):
    /// `none`, `symmetric` (to a uniformly chosen other class) or `asymmetric` (along the
    /// Fashion-MNIST class map), drawn from `split_seed`.
    pub label_noise: String,
    /// Fraction of labels flipped (of every mapped class, for `asymmetric`).
    pub noise_rate: f64,
}

/// Model architecture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelConfig {
    /// `mlp`, `cnn`, `vit` (images), `transformer` (word ids, e.g. `sentiment-words`) or `bert`
    /// (the pretrained MiniLM encoder of the data cache on WordPiece ids, `sentiment-wordpiece`).
    pub kind: String,
    /// Hidden widths of the MLP (or of the CNN's dense head).
    pub hidden: Vec<usize>,
    /// Dropout probability after each hidden layer.
    pub dropout: f64,
    /// Normalisation after each hidden linear layer: `none`, `batch` or `layer`.
    pub norm: String,
    /// Output channels of the CNN's 3x3 convolution blocks (each followed by 2x2 max pooling).
    pub channels: Vec<usize>,
    /// ViT: patch size (must divide the image height and width).
    pub patch: usize,
    /// ViT and transformer: token width.
    pub width: usize,
    /// ViT and transformer: layers.
    pub depth: usize,
    /// ViT and transformer: attention heads (must divide `width`).
    pub heads: usize,
    /// bert: freeze the embeddings and this many bottom encoder layers (0: fine-tune all;
    /// 6 for MiniLM: train the head only).
    pub freeze_layers: usize,
}

/// Optimizer, schedule and clipping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OptimConfig {
    /// `sgd`, `adam` or `adamw`.
    pub name: String,
    /// Peak learning rate.
    pub lr: f64,
    /// SGD momentum (0: none). No dampening, as in PyTorch.
    pub momentum: f64,
    /// Nesterov momentum (SGD).
    pub nesterov: bool,
    /// Weight decay: decoupled for AdamW (PyTorch default 0.01), L2 for SGD and Adam.
    pub weight_decay: f64,
    /// Adam/AdamW beta1.
    pub beta1: f64,
    /// Adam/AdamW beta2.
    pub beta2: f64,
    /// Adam/AdamW epsilon (PyTorch's 1e-8, not burn's 1e-5).
    pub eps: f64,
    /// `constant`, `cosine` (to `min_lr_factor * lr`) or `step` (times `step_gamma` every
    /// `step_every` steps).
    pub schedule: String,
    /// Linear warm-up steps from 0 to `lr`.
    pub warmup_steps: u64,
    /// Final learning rate of the cosine schedule, as a fraction of `lr`.
    pub min_lr_factor: f64,
    /// Step schedule: decay period in steps.
    pub step_every: u64,
    /// Step schedule: decay factor.
    pub step_gamma: f64,
    /// Clip gradients to this global L2 norm (0: no clipping).
    pub clip_grad_norm: f64,
}

/// The reweighting rule and the loss it reweights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MethodConfig {
    /// The rule: `{ name = "erm" }`, `{ name = "rgd", tau = 1.0 }`, `{ name = "term", tilt = 1.0 }`,
    /// `{ name = "absgd", lambda = 1.0, gamma = 0.9 }`, `{ name = "cvar", alpha = 0.5 }`,
    /// `{ name = "chi2", rho = 1.0 }`, `{ name = "groupdro", n_groups = 2, eta = 0.01 }`.
    pub rule: RuleConfig,
    /// Per-example loss: `cross_entropy` or `focal`.
    pub loss: String,
    /// Focal loss exponent.
    pub focal_gamma: f64,
    /// Label smoothing of the cross-entropy.
    pub label_smoothing: f64,
}

/// Training length and cadence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    /// Examples per step.
    pub batch_size: usize,
    /// Drop the last incomplete batch of each epoch (a batch of a few examples makes batch norm
    /// and the reweighting statistics noisy).
    pub drop_last: bool,
    /// Passes over the training split (ignored when `steps > 0`).
    pub epochs: u64,
    /// Total optimizer steps (0: `epochs` passes).
    pub steps: u64,
    /// Upper bound on the total steps (0: none): bounds the cost of large data sets in suites.
    pub max_steps: u64,
    /// Evaluate on validation and test every this many steps (0: once per epoch).
    pub eval_every: u64,
    /// Write a metrics row every this many steps.
    pub log_every: u64,
    /// Save a checkpoint every this many steps (0: at every evaluation).
    pub checkpoint_every: u64,
    /// Which test metrics the summary reports: `best_valid` (at the best validation accuracy)
    /// or `last`.
    pub selection: String,
}

impl Default for DataConfig {
    fn default() -> Self {
        DataConfig {
            source: "magic".into(),
            label_column: String::new(),
            valid_fraction: 0.15,
            test_fraction: 0.15,
            split_seed: 0,
            standardize: true,
            max_train: 0,
            test_source: String::new(),
            long_tail_ratio: 1.0,
            test_domain: String::new(),
            label_noise: "none".into(),
            noise_rate: 0.0,
        }
    }
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            kind: "mlp".into(),
            hidden: vec![256, 256],
            dropout: 0.0,
            norm: "none".into(),
            channels: vec![32, 64],
            patch: 7,
            width: 128,
            depth: 4,
            heads: 4,
            freeze_layers: 0,
        }
    }
}

impl Default for OptimConfig {
    fn default() -> Self {
        OptimConfig {
            name: "adamw".into(),
            lr: 1e-3,
            momentum: 0.0,
            nesterov: false,
            weight_decay: 0.01,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            schedule: "cosine".into(),
            warmup_steps: 0,
            min_lr_factor: 0.0,
            step_every: 1000,
            step_gamma: 0.1,
            clip_grad_norm: 0.0,
        }
    }
}

impl Default for MethodConfig {
    fn default() -> Self {
        MethodConfig {
            rule: RuleConfig::Rgd(rgd::RgdConfig::new()),
            loss: "cross_entropy".into(),
            focal_gamma: 2.0,
            label_smoothing: 0.0,
        }
    }
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            batch_size: 128,
            drop_last: true,
            epochs: 10,
            steps: 0,
            max_steps: 0,
            eval_every: 0,
            log_every: 10,
            checkpoint_every: 0,
            selection: "best_valid".into(),
        }
    }
}

fn one_of(field: &str, value: &str, allowed: &[&str]) -> Result<(), LabError> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(LabError::Config(format!(
            "{field} = \"{value}\" is not one of {}",
            allowed.join(", ")
        )))
    }
}

fn check(ok: bool, message: impl FnOnce() -> String) -> Result<(), LabError> {
    if ok {
        Ok(())
    } else {
        Err(LabError::Config(message()))
    }
}

impl RunConfig {
    /// Reads a TOML file (missing keys take their defaults; unknown keys are an error).
    pub fn from_file(path: &Path) -> Result<Self, LabError> {
        let text = std::fs::read_to_string(path).map_err(|e| LabError::io(path, e))?;
        Self::from_toml(&text).map_err(|e| LabError::Config(format!("{}: {e}", path.display())))
    }

    /// Parses TOML text.
    pub fn from_toml(text: &str) -> Result<Self, LabError> {
        let value: toml::Table =
            toml::from_str(text).map_err(|e| LabError::Config(e.to_string()))?;
        Self::from_table(value)
    }

    fn from_table(table: toml::Table) -> Result<Self, LabError> {
        let config: RunConfig = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| LabError::Config(e.message().to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// The config as TOML text, every default written out.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a RunConfig always serialises")
    }

    /// Applies `key=value` overrides (dotted keys, TOML values; bare words are strings).
    ///
    /// A key that names no setting is an error listing the valid keys.
    ///
    /// ```
    /// use rgd_lab::config::RunConfig;
    /// let c = RunConfig::default()
    ///     .with_overrides(&["optim.lr=0.01".into(), "method.rule.tau=3".into()])
    ///     .unwrap();
    /// assert_eq!(c.optim.lr, 0.01);
    /// let err = RunConfig::default().with_overrides(&["optim.learning_rate=1".into()]).unwrap_err();
    /// assert!(err.to_string().contains("optim.lr"));
    /// ```
    pub fn with_overrides(&self, overrides: &[String]) -> Result<Self, LabError> {
        let mut table: toml::Table = toml::Value::try_from(self)
            .expect("a RunConfig always serialises")
            .as_table()
            .cloned()
            .expect("a RunConfig is a table");
        let valid = leaf_keys(&table, "");
        for item in overrides {
            let (key, raw) = item.split_once('=').ok_or_else(|| {
                LabError::Config(format!("override `{item}` must have the form key=value"))
            })?;
            let key = key.trim();
            // The rule's own fields depend on its name; serde checks them below.
            let rule_field = key.starts_with("method.rule.");
            if !rule_field && !valid.iter().any(|k| k == key) {
                return Err(LabError::Config(format!(
                    "unknown key `{key}`; valid keys are: {} (and the rule's own fields under \
                     method.rule.)",
                    valid.join(", ")
                )));
            }
            let value = parse_value(raw.trim());
            set_path(&mut table, key, value)?;
        }
        Self::from_table(table)
    }

    /// Checks every field once; the message names the field, the value and the allowed range.
    pub fn validate(&self) -> Result<(), LabError> {
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
        one_of(
            "data.label_noise",
            &d.label_noise,
            &["none", "symmetric", "asymmetric"],
        )?;
        check((0.0..=1.0).contains(&d.noise_rate), || {
            format!("data.noise_rate = {} must lie in [0, 1]", d.noise_rate)
        })?;
        check(d.label_noise != "none" || d.noise_rate == 0.0, || {
            format!(
                "data.noise_rate = {} needs data.label_noise = \"symmetric\" or \"asymmetric\"",
                d.noise_rate
            )
        })?;
        let m = &self.model;
        one_of(
            "model.kind",
            &m.kind,
            &["mlp", "cnn", "vit", "transformer", "bert"],
        )?;
        check(
            !(m.kind == "transformer" || m.kind == "bert") || !d.standardize,
            || {
                format!(
                    "model.kind = \"{}\" reads token ids: set data.standardize = false",
                    m.kind
                )
            },
        )?;
        one_of("model.norm", &m.norm, &["none", "batch", "layer"])?;
        check((0.0..1.0).contains(&m.dropout), || {
            format!("model.dropout = {} must lie in [0, 1)", m.dropout)
        })?;
        check(m.hidden.iter().all(|&h| h > 0), || {
            "model.hidden widths must be > 0".into()
        })?;
        check(
            m.kind != "cnn" || (!m.channels.is_empty() && m.channels.iter().all(|&c| c > 0)),
            || "model.channels must list at least one positive channel count for a cnn".into(),
        )?;
        check(
            m.kind != "vit"
                || (m.patch > 0 && m.depth > 0 && m.heads > 0 && m.width.is_multiple_of(m.heads)),
            || {
                format!(
                    "model.patch = {}, model.depth = {} and model.heads = {} must be > 0, with model.width = {} a multiple of the heads",
                    m.patch, m.depth, m.heads, m.width
                )
            },
        )?;
        let o = &self.optim;
        one_of("optim.name", &o.name, &["sgd", "adam", "adamw"])?;
        one_of(
            "optim.schedule",
            &o.schedule,
            &["constant", "cosine", "step"],
        )?;
        check(o.lr.is_finite() && o.lr > 0.0, || {
            format!("optim.lr = {} must be a finite number > 0", o.lr)
        })?;
        check((0.0..1.0).contains(&o.momentum), || {
            format!("optim.momentum = {} must lie in [0, 1)", o.momentum)
        })?;
        check(!o.nesterov || o.momentum > 0.0, || {
            "optim.nesterov needs optim.momentum > 0".into()
        })?;
        check(o.weight_decay >= 0.0 && o.weight_decay.is_finite(), || {
            format!("optim.weight_decay = {} must be >= 0", o.weight_decay)
        })?;
        check(
            (0.0..1.0).contains(&o.beta1) && (0.0..1.0).contains(&o.beta2),
            || {
                format!(
                    "optim.beta1 = {} and optim.beta2 = {} must lie in [0, 1)",
                    o.beta1, o.beta2
                )
            },
        )?;
        check(o.eps > 0.0, || format!("optim.eps = {} must be > 0", o.eps))?;
        check((0.0..=1.0).contains(&o.min_lr_factor), || {
            format!(
                "optim.min_lr_factor = {} must lie in [0, 1]",
                o.min_lr_factor
            )
        })?;
        check(
            o.step_every > 0 && o.step_gamma > 0.0 && o.step_gamma <= 1.0,
            || {
                format!(
                    "optim.step_every = {} must be > 0 and optim.step_gamma = {} in (0, 1]",
                    o.step_every, o.step_gamma
                )
            },
        )?;
        check(
            o.clip_grad_norm >= 0.0 && o.clip_grad_norm.is_finite(),
            || {
                format!(
                    "optim.clip_grad_norm = {} must be >= 0 (0 disables clipping)",
                    o.clip_grad_norm
                )
            },
        )?;
        let me = &self.method;
        self.method.rule.init()?;
        one_of("method.loss", &me.loss, &["cross_entropy", "focal"])?;
        check(me.focal_gamma >= 0.0 && me.focal_gamma.is_finite(), || {
            format!("method.focal_gamma = {} must be >= 0", me.focal_gamma)
        })?;
        check((0.0..1.0).contains(&me.label_smoothing), || {
            format!(
                "method.label_smoothing = {} must lie in [0, 1)",
                me.label_smoothing
            )
        })?;
        let t = &self.train;
        check(t.batch_size > 0, || "train.batch_size must be > 0".into())?;
        check(t.epochs > 0 || t.steps > 0, || {
            "train.epochs or train.steps must be > 0".into()
        })?;
        check(t.log_every > 0, || "train.log_every must be > 0".into())?;
        one_of("train.selection", &t.selection, &["best_valid", "last"])?;
        Ok(())
    }
}

/// Every dotted key that names a leaf value.
pub(crate) fn leaf_keys(table: &toml::Table, prefix: &str) -> Vec<String> {
    let mut keys = Vec::new();
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => keys.extend(leaf_keys(t, &key)),
            _ => keys.push(key),
        }
    }
    keys
}

pub(crate) fn parse_value(raw: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()))
}

pub(crate) fn set_path(
    table: &mut toml::Table,
    key: &str,
    value: toml::Value,
) -> Result<(), LabError> {
    let mut parts: Vec<&str> = key.split('.').collect();
    let last = parts.pop().expect("split yields at least one part");
    let mut current = table;
    for part in parts {
        current = current
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .ok_or_else(|| LabError::Config(format!("`{part}` in `{key}` is not a table")))?;
    }
    // Switching the rule drops the old rule's fields, which belong to another variant.
    if key == "method.rule.name" {
        current.clear();
    }
    current.insert(last.to_string(), value);
    Ok(())
}
