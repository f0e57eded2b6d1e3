//! The data a run trains on: loaded, split, subsampled and standardised without leakage.

use std::path::Path;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rgd_data::{Dataset, Standardizer, registry};

use crate::LabError;
use crate::config::DataConfig;

/// Train, validation and test splits ready for training.
#[derive(Debug, Clone)]
pub struct PreparedData {
    /// Training split (possibly subsampled, standardised).
    pub train: Dataset,
    /// Validation split (model selection).
    pub valid: Dataset,
    /// Test split (reported only).
    pub test: Dataset,
    /// The standardisation fitted on the training split, if enabled.
    pub standardizer: Option<Standardizer>,
}

/// Loads `config.source`: a registry name, else a KEEL `.dat` or CSV file.
pub fn load_source(config: &DataConfig) -> Result<Dataset, LabError> {
    let path = Path::new(&config.source);
    let dataset = if path.is_file() {
        match path.extension().and_then(|e| e.to_str()) {
            Some("csv") => {
                if config.label_column.is_empty() {
                    return Err(LabError::Config(format!(
                        "{} is a CSV file: set data.label_column to the name of its label column",
                        path.display()
                    )));
                }
                rgd_data::load_csv(path, &config.label_column)?
            }
            _ => rgd_data::load_keel(path)?,
        }
    } else {
        registry::load_named(&config.source, &registry::cache_dir())?
    };
    dataset.validate()?;
    Ok(dataset)
}

/// Splits (stratified, `split_seed`; the test set comes from `test_source` when given),
/// long-tails and subsamples the training split (seeded by `split_seed`), then fits the
/// standardisation on the training split only.
pub fn prepare(config: &DataConfig) -> Result<PreparedData, LabError> {
    let dataset = load_source(config)?;
    let split = if config.test_source.is_empty() {
        rgd_data::stratified_split(
            &dataset,
            config.valid_fraction,
            config.test_fraction,
            config.split_seed,
        )?
    } else {
        let test = load_source(&DataConfig {
            source: config.test_source.clone(),
            ..config.clone()
        })?;
        let idx = rgd_data::stratified_indices(
            &dataset.labels,
            dataset.domains.as_deref(),
            config.valid_fraction,
            0.0,
            config.split_seed,
        )?;
        rgd_data::Split {
            train: dataset.subset(&idx.train),
            valid: dataset.subset(&idx.valid),
            test,
        }
    };
    let mut train = split.train;
    if config.long_tail_ratio > 1.0 {
        train = rgd_data::long_tail(&train, config.long_tail_ratio, config.split_seed)?;
    }
    if config.max_train > 0 && config.max_train < train.len() {
        let mut idx: Vec<usize> = (0..train.len()).collect();
        idx.shuffle(&mut ChaCha8Rng::seed_from_u64(
            config.split_seed ^ 0x5eed_f7a1e,
        ));
        idx.truncate(config.max_train);
        idx.sort_unstable();
        train = train.subset(&idx);
    }
    let (mut valid, mut test) = (split.valid, split.test);
    let standardizer = if config.standardize {
        let s = Standardizer::fit(&train);
        s.apply(&mut train)?;
        s.apply(&mut valid)?;
        s.apply(&mut test)?;
        Some(s)
    } else {
        None
    };
    Ok(PreparedData {
        train,
        valid,
        test,
        standardizer,
    })
}

/// The order of the training rows in `epoch`: a permutation drawn from `(seed, epoch)` alone, so
/// a resumed run replays exactly the batches it would have seen.
pub fn epoch_order(n: usize, seed: u64, epoch: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ epoch);
    order.shuffle(&mut rng);
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keel(path: &std::path::Path, rows: usize) {
        let text: String = (0..rows)
            .map(|i| format!("{}.0, {}\n", i % 7, i % 2))
            .collect();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn a_separate_test_set_and_a_long_tailed_training_split() {
        let dir = tempfile::tempdir().unwrap();
        let (train, test) = (dir.path().join("train.dat"), dir.path().join("test.dat"));
        keel(&train, 400);
        keel(&test, 50);
        let config = DataConfig {
            source: train.display().to_string(),
            test_source: test.display().to_string(),
            test_fraction: 0.0,
            valid_fraction: 0.25,
            long_tail_ratio: 4.0,
            ..DataConfig::default()
        };
        let data = prepare(&config).unwrap();
        assert_eq!(data.test.len(), 50, "the test set is the given file");
        assert_eq!(
            data.valid.class_counts(),
            vec![50, 50],
            "validation stays balanced"
        );
        assert_eq!(
            data.train.class_counts(),
            vec![150, 37],
            "150 / 4, rounded down"
        );
    }
}
