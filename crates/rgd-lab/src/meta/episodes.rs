//! The benchmark of a meta run and its episodes: loading the classes, episodes as tensors,
//! and the query accuracy over evaluation episodes.

use burn::prelude::*;
use rgd_data::{ClassSplit, Dataset, Episode, Standardizer, registry};
use serde::{Deserialize, Serialize};

use super::config::{MetaConfig, MetaDataConfig};
use crate::LabError;
use crate::stats::{summarize, t_interval};
use crate::train::rows_and_labels;

/// Loads the benchmark of `config` from the cache folder: all examples of all classes (letter
/// standardised on meta-training classes only) and which classes are meta-train, -valid, -test.
pub fn load_data(config: &MetaConfig) -> Result<(Dataset, ClassSplit), LabError> {
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
            Ok((dataset, rgd_data::IMAGE_SPLIT))
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
            Ok((dataset, split))
        }
    }
}

/// One episode as tensors: support rows and labels, query rows and labels.
pub type EpisodeTensors = (Tensor<2>, Tensor<1, Int>, Tensor<2>, Tensor<1, Int>);

/// Episode `e` of `data` as tensors on `device`.
pub(crate) fn episode_tensors(data: &Dataset, e: &Episode, device: &Device) -> EpisodeTensors {
    let (xs, ys) = rows_and_labels(data, &e.support, &e.support_labels, device);
    let (xq, yq) = rows_and_labels(data, &e.query, &e.query_labels, device);
    (xs, ys, xq, yq)
}

/// Accuracy over evaluation episodes (the interval: Student's t over episodes).
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
