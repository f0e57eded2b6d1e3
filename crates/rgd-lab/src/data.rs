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

/// Splits (stratified, `split_seed`), subsamples the training split to `max_train` (seeded by
/// `split_seed`), then fits the standardisation on the training split only.
pub fn prepare(config: &DataConfig) -> Result<PreparedData, LabError> {
    let dataset = load_source(config)?;
    let split = rgd_data::stratified_split(
        &dataset,
        config.valid_fraction,
        config.test_fraction,
        config.split_seed,
    )?;
    let mut train = split.train;
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
