//! Column type inference and encoding shared by the KEEL and CSV readers.
//!
//! Rules (documented once, used by both readers):
//! - a cell is *missing* when it is `?` or empty after trimming;
//! - a feature column is numeric when every non-missing cell parses as `f64`
//!   (Rust syntax, so `.5`, `1e3`, `NaN` and `inf` parse); otherwise it is
//!   categorical;
//! - numeric: missing cells get the column mean of the non-missing cells; a
//!   NaN or infinite value is an error ([`DataError::NonFinite`]);
//! - categorical: one-hot encoded, categories sorted by string order,
//!   feature names `column=value`; a missing cell is its own category `?`;
//!   a column with only missing cells is categorical with the single category `?`;
//! - labels: trimmed strings; class names are the sorted distinct labels, sorted by
//!   numeric value when every label is a number, else by string;
//!   a missing label is an error, and so is a single class.

use std::collections::BTreeMap;

use crate::{DataError, Dataset};

/// One parsed row: its 1-based line number and its cells.
pub(crate) struct Row<S> {
    pub line: usize,
    pub cells: Vec<S>,
}

fn is_missing(s: &str) -> bool {
    s.is_empty() || s == "?"
}

/// Sort label strings: numerically when all parse as numbers, else lexicographically.
pub(crate) fn sort_class_names(names: &mut [String]) {
    let nums: Option<Vec<f64>> = names.iter().map(|s| s.parse::<f64>().ok()).collect();
    if nums.is_some_and(|v| v.iter().all(|x| x.is_finite())) {
        names.sort_by(|a, b| {
            let (x, y) = (a.parse::<f64>().unwrap(), b.parse::<f64>().unwrap());
            x.total_cmp(&y).then_with(|| a.cmp(b))
        });
    } else {
        names.sort();
    }
}

enum Column {
    Numeric { values: Vec<f32> },
    Categorical { cats: Vec<String>, codes: Vec<u32> },
}

/// Build a [`Dataset`] from rows of string cells (already checked for equal length).
pub(crate) fn build<S: AsRef<str>>(
    file: &str,
    name: &str,
    rows: &[Row<S>],
    names: &[String],
    label_col: usize,
) -> Result<Dataset, DataError> {
    if rows.is_empty() {
        return Err(DataError::Empty { file: file.into() });
    }
    if names.len() < 2 {
        return Err(DataError::InvalidDataset {
            name: file.into(),
            reason: "it has no feature columns; a table needs at least one column besides the \
                     label"
                .into(),
        });
    }
    let width = names.len();
    // Labels.
    let mut label_strs = Vec::with_capacity(rows.len());
    for r in rows {
        let s = r.cells[label_col].as_ref().trim();
        if is_missing(s) {
            return Err(DataError::MissingLabel {
                file: file.into(),
                line: r.line,
                column: label_col + 1,
            });
        }
        label_strs.push(s);
    }
    let mut class_names: Vec<String> = {
        let mut set: Vec<&str> = label_strs.clone();
        set.sort_unstable();
        set.dedup();
        set.into_iter().map(String::from).collect()
    };
    sort_class_names(&mut class_names);
    if class_names.len() < 2 {
        return Err(DataError::SingleClass {
            file: file.into(),
            class: class_names[0].clone(),
        });
    }
    let class_index: BTreeMap<&str, u32> = class_names
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i as u32))
        .collect();
    let labels: Vec<u32> = label_strs.iter().map(|s| class_index[s]).collect();

    // Feature columns.
    let mut columns = Vec::with_capacity(width.saturating_sub(1));
    let mut feature_names = Vec::new();
    for c in (0..width).filter(|&c| c != label_col) {
        let col = infer_column(file, rows, c)?;
        match &col {
            Column::Numeric { .. } => feature_names.push(names[c].clone()),
            Column::Categorical { cats, .. } => {
                feature_names.extend(cats.iter().map(|v| format!("{}={}", names[c], v)))
            }
        }
        columns.push(col);
    }
    let n_features = feature_names.len();
    let mut features = vec![0f32; rows.len() * n_features];
    let mut offset = 0;
    for col in &columns {
        match col {
            Column::Numeric { values } => {
                for (i, v) in values.iter().enumerate() {
                    features[i * n_features + offset] = *v;
                }
                offset += 1;
            }
            Column::Categorical { cats, codes } => {
                for (i, &k) in codes.iter().enumerate() {
                    features[i * n_features + offset + k as usize] = 1.0;
                }
                offset += cats.len();
            }
        }
    }
    Ok(Dataset {
        name: name.into(),
        features,
        n_features,
        example_shape: vec![n_features],
        labels,
        class_names,
        feature_names,
        domains: None,
        domain_names: Vec::new(),
    })
}

fn infer_column<S: AsRef<str>>(file: &str, rows: &[Row<S>], c: usize) -> Result<Column, DataError> {
    let mut values = Vec::with_capacity(rows.len());
    let mut numeric = true;
    let mut any_present = false;
    for r in rows {
        let s = r.cells[c].as_ref().trim();
        if is_missing(s) {
            values.push(None);
            continue;
        }
        any_present = true;
        match s.parse::<f64>() {
            Ok(v) => values.push(Some((v, r.line))),
            Err(_) => {
                numeric = false;
                break;
            }
        }
    }
    if numeric && any_present {
        let mut sum = 0f64;
        let mut n = 0usize;
        for (v, line) in values.iter().flatten() {
            if !v.is_finite() || (*v as f32).is_infinite() {
                return Err(DataError::NonFinite {
                    file: file.into(),
                    line: *line,
                    column: c + 1,
                    value: rows
                        .iter()
                        .find(|r| r.line == *line)
                        .map_or(v.to_string(), |r| r.cells[c].as_ref().trim().to_string()),
                });
            }
            sum += v;
            n += 1;
        }
        let mean = sum / n as f64;
        return Ok(Column::Numeric {
            values: values
                .iter()
                .map(|v| v.map_or(mean, |(x, _)| x) as f32)
                .collect(),
        });
    }
    let mut cats: Vec<&str> = rows
        .iter()
        .map(|r| {
            let s = r.cells[c].as_ref().trim();
            if is_missing(s) { "?" } else { s }
        })
        .collect();
    let cells = cats.clone();
    cats.sort_unstable();
    cats.dedup();
    let index: BTreeMap<&str, u32> = cats
        .iter()
        .enumerate()
        .map(|(i, s)| (*s, i as u32))
        .collect();
    Ok(Column::Categorical {
        codes: cells.iter().map(|s| index[s]).collect(),
        cats: cats.into_iter().map(String::from).collect(),
    })
}
