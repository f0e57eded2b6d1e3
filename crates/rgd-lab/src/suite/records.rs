//! The records of a suite, its runs' summaries, read into nested maps.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::LabError;
use crate::run_dir::read_json;

/// data set -> method -> setting -> seed -> summary `S` (a supervised [`Summary`](crate::train::Summary) or a
/// meta-learning summary).
pub type RecordsOf<S> = BTreeMap<String, BTreeMap<String, BTreeMap<String, BTreeMap<u64, S>>>>;

/// Every run's summary in `records`, data set by data set.
pub fn summaries<S>(records: &RecordsOf<S>) -> impl Iterator<Item = &S> {
    (records.values())
        .flat_map(|m| m.values())
        .flat_map(|s| s.values())
        .flat_map(|r| r.values())
}

/// Reads every `runs/<data>/<method>/<setting>/seed<k>/summary.json` under `out`.
pub fn load_records<S: serde::de::DeserializeOwned>(out: &Path) -> Result<RecordsOf<S>, LabError> {
    let mut records = RecordsOf::new();
    let list = |p: &Path| -> Result<Vec<PathBuf>, LabError> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(p)
            .map_err(|e| LabError::io(p, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir())
            .collect();
        v.sort();
        Ok(v)
    };
    let name = |p: &Path| {
        p.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string()
    };
    for data in list(&out.join("runs"))? {
        for method in list(&data)? {
            for setting in list(&method)? {
                for seed in list(&setting)? {
                    let summary_path = seed.join("summary.json");
                    if !summary_path.exists() {
                        continue;
                    }
                    let k: u64 = name(&seed)
                        .trim_start_matches("seed")
                        .parse()
                        .map_err(|_| {
                            LabError::corrupt(seed.clone(), "run folders are named seed<k>")
                        })?;
                    records
                        .entry(name(&data))
                        .or_default()
                        .entry(name(&method))
                        .or_default()
                        .entry(name(&setting))
                        .or_default()
                        .insert(k, read_json(&summary_path)?);
                }
            }
        }
    }
    Ok(records)
}

/// Every `config.toml` under `results/<suite>/runs` of the repository.
#[cfg(test)]
pub(crate) fn committed_configs(suite: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.file_name().is_some_and(|n| n == "config.toml") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../results");
    walk(&root.join(suite).join("runs"), &mut out);
    out
}
