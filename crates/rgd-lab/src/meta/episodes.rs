//! The benchmark of a meta run and its episodes: loading the classes, episodes as tensors,
//! and the query accuracy over evaluation episodes.

use burn::prelude::*;
use rgd_data::{ClassSplit, Dataset, Episode, EpisodeSampler, Standardizer, registry};
use serde::{Deserialize, Serialize};

use super::config::LearnerConfig;
use super::config::{MetaConfig, MetaDataConfig};
use super::maml;
use super::protonet;
use crate::LabError;
use crate::model::Model;
use crate::stats::{summarize, t_interval};

/// A benchmark ready for episodes: the examples and the class split.
#[derive(Debug, Clone)]
pub struct MetaData {
    /// All examples of all classes (letter standardised on meta-training classes only).
    pub dataset: Dataset,
    /// Which classes belong to meta-train, meta-validation and meta-test.
    pub split: ClassSplit,
}

/// Loads the benchmark of `config` from the cache folder.
pub fn load_data(config: &MetaConfig) -> Result<MetaData, LabError> {
    let cache = registry::cache_dir();
    match config.data {
        MetaDataConfig::Images(images) => {
            let fashion = registry::load_named("fashion-mnist", &cache)?;
            let mnist = registry::load_named("mnist", &cache)?;
            let dataset = rgd_data::combine_image_classes(
                &fashion,
                &mnist,
                images.per_class,
                images.split_seed,
            )?;
            Ok(MetaData {
                dataset,
                split: rgd_data::IMAGE_SPLIT,
            })
        }
        MetaDataConfig::Letter(letter) => {
            let mut dataset = registry::load_named("keel/letter", &cache)?;
            let split = rgd_data::LETTER_SPLIT;
            split.validate(dataset.n_classes())?;
            if letter.standardize {
                let rows: Vec<usize> = (0..dataset.len())
                    .filter(|&i| split.train.contains(&dataset.labels[i]))
                    .collect();
                Standardizer::fit(&dataset.subset(&rows)).apply(&mut dataset)?;
            }
            Ok(MetaData { dataset, split })
        }
    }
}

/// One episode as tensors.
pub(crate) struct EpisodeBatch {
    pub(crate) support: Tensor<2>,
    pub(crate) support_labels: Tensor<1, Int>,
    pub(crate) query: Tensor<2>,
    pub(crate) query_labels: Tensor<1, Int>,
}

impl EpisodeBatch {
    pub(crate) fn new(data: &Dataset, e: &Episode, device: &Device) -> Self {
        let (support, support_labels) =
            crate::train::rows_and_labels(data, &e.support, &e.support_labels, device);
        let (query, query_labels) =
            crate::train::rows_and_labels(data, &e.query, &e.query_labels, device);
        EpisodeBatch {
            support,
            support_labels,
            query,
            query_labels,
        }
    }
}

/// Query accuracy of each of the episodes `0..count` of `(seed, sampler)`.
///
/// ProtoNet runs on the inference device; MAML adapts on the support set first (inner SGD
/// steps, which need the autodiff device).
#[allow(clippy::too_many_arguments)]
pub fn episode_accuracies(
    learner: Learner,
    model: &Model,
    data: &Dataset,
    sampler: &EpisodeSampler,
    seed: u64,
    count: u64,
    train_device: &Device,
    eval_device: &Device,
) -> Result<Vec<f64>, LabError> {
    let shape = &data.example_shape;
    let valid = model.valid();
    let mut accuracies = Vec::with_capacity(count as usize);
    for i in 0..count {
        let e = sampler.episode(seed, i);
        let logits = match learner {
            Learner::ProtoNet => {
                let b = EpisodeBatch::new(data, &e, eval_device);
                protonet::episode_logits(
                    |x| valid.forward(x, shape),
                    b.support,
                    b.query,
                    sampler.ways(),
                    sampler.shots(),
                )
            }
            Learner::Maml { steps, lr } => {
                let b = EpisodeBatch::new(data, &e, train_device);
                let a = maml::adapt(
                    model.clone(),
                    |m: &Model, x| m.forward(x, shape),
                    b.support,
                    b.support_labels,
                    steps,
                    lr,
                )?;
                let query = b.query.inner();
                a.valid().forward(query, shape)
            }
        };
        let predicted = logits
            .argmax(1)
            .into_data()
            .try_into_vec_as::<i64>()
            .map_err(|e| LabError::ReadBack {
                what: "predictions",
                reason: format!("{e:?}"),
            })?;
        let right = predicted
            .iter()
            .zip(&e.query_labels)
            .filter(|&(&p, &l)| p == i64::from(l))
            .count();
        accuracies.push(right as f64 / e.query_labels.len() as f64);
    }
    Ok(accuracies)
}

/// Accuracy over evaluation episodes: mean, 95% confidence interval (Student t over episodes)
/// and the mean of the worst tenth of the episodes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpisodeAccuracy {
    /// Episodes evaluated.
    pub episodes: u64,
    /// Mean query accuracy.
    pub mean: f64,
    /// Standard deviation over episodes.
    pub std: f64,
    /// Lower end of the 95% confidence interval of the mean.
    pub ci95_low: f64,
    /// Upper end of the 95% confidence interval of the mean.
    pub ci95_high: f64,
    /// Mean accuracy of the worst `ceil(episodes / 10)` episodes.
    pub worst_tenth: f64,
}

impl EpisodeAccuracy {
    /// Summarises per-episode accuracies.
    ///
    /// ```
    /// let a = rgd_lab::meta::episodes::EpisodeAccuracy::from_episodes(
    ///     &(0..20).map(|i| i as f64 / 20.0).collect::<Vec<_>>());
    /// assert_eq!(a.worst_tenth, 0.025); // mean of 0 and 0.05
    /// assert!(a.ci95_low < a.mean && a.mean < a.ci95_high);
    /// ```
    pub fn from_episodes(accuracies: &[f64]) -> Self {
        let s = summarize(accuracies).expect("at least one episode");
        let (ci95_low, ci95_high) = t_interval(accuracies, 0.95).unwrap_or((s.mean, s.mean));
        let mut sorted = accuracies.to_vec();
        sorted.sort_by(f64::total_cmp);
        let k = accuracies.len().div_ceil(10);
        EpisodeAccuracy {
            episodes: accuracies.len() as u64,
            mean: s.mean,
            std: s.std,
            ci95_low,
            ci95_high,
            worst_tenth: sorted[..k].iter().sum::<f64>() / k as f64,
        }
    }
}

/// The learner of a config.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Learner {
    /// Prototypical Networks.
    ProtoNet,
    /// First-order MAML with `steps` inner SGD steps at learning rate `lr`.
    Maml {
        /// Inner steps.
        steps: usize,
        /// Inner learning rate.
        lr: f64,
    },
}

impl Learner {
    /// The learner named in `config`.
    pub fn of(config: &MetaConfig) -> Self {
        match config.learner {
            LearnerConfig::Maml(maml) => Learner::Maml {
                steps: maml.inner_steps,
                lr: maml.inner_lr,
            },
            LearnerConfig::Protonet(_) => Learner::ProtoNet,
        }
    }

    /// The network's output width: the embedding (ProtoNet) or one logit per way (MAML).
    pub fn outputs(config: &MetaConfig) -> usize {
        match config.learner {
            LearnerConfig::Protonet(p) => p.embedding,
            LearnerConfig::Maml(_) => config.episode.ways,
        }
    }
}
