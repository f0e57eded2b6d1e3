//! The encoding of a table, fixed on the training file and applied unchanged to later files.
//!
//! Rules (the whole column decides, so one row never changes how another is read):
//! - a cell is *missing* when it is `?`, `<null>` (KEEL's marker) or empty after trimming;
//! - a feature column is **numeric** when every present cell parses as a number (Rust's `f64`
//!   syntax: `.5`, `1e3`); a NaN or infinite value is an error ([`DataError::NonFinite`]);
//! - a column where at least [`NUMERIC_SHARE`] of the present cells are numbers but some are
//!   not is a numeric column with bad cells: an error naming their lines and values
//!   ([`DataError::BadNumbers`]), never a one-hot column of every number;
//! - otherwise it is **categorical**: one-hot, categories sorted by string order, feature names
//!   `column=value`, a missing cell its own category `?`; at most [`MAX_CATEGORIES`] categories
//!   ([`DataError::TooManyCategories`]); a column with only missing cells is categorical with
//!   the single category `?`;
//! - missing numbers are imputed with a fill value: the column mean of the present cells (of the
//!   whole file after [`TableSchema::infer`], of the training rows after
//!   [`TableSchema::fit_fills`]);
//! - labels: trimmed strings; when every label is a number, labels are compared as numbers
//!   (`1` and `1.0` are one class, named by its first spelling in string order) and classes
//!   sorted by value, else by string; a missing label is an error, so is a single class or more
//!   than [`MAX_CLASSES`];
//! - the encoded table may hold at most [`MAX_VALUES`] feature values
//!   ([`DataError::TooLarge`]), checked before anything is allocated.
//!
//! A later file is matched to the schema by column name (by position when it has no header),
//! may leave out the label column (for prediction), and must hold only known categories and
//! classes ([`DataError::UnknownValue`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::table::is_missing;
use crate::{DataError, Dataset, Table};

/// Most categories a one-hot column may have (the suites' widest has 10).
pub const MAX_CATEGORIES: usize = 256;

/// Most classes a label column may have.
pub const MAX_CLASSES: usize = 1000;

/// Share of present cells that must be numbers for a column to count as numeric with bad cells.
pub const NUMERIC_SHARE: f64 = 0.9;

/// Most feature values (rows x encoded width) one table may encode to: 4 GiB of `f32`.
pub const MAX_VALUES: usize = 1 << 30;

/// How the columns of a table become features and its label a class.
///
/// Inferred once from the training file ([`TableSchema::infer`]), saved with a run (it is
/// serde-serialisable), and applied unchanged to every later file ([`TableSchema::encode`]),
/// so a row is encoded the same whatever the other rows of its file are.
///
/// ```
/// use rgd_data::{Table, TableSchema};
/// let train = Table::parse_csv(b"age,colour,y\n30,red,a\n40,blue,b\n", "train.csv").unwrap();
/// let schema = TableSchema::infer(&train, Some("y")).unwrap();
/// let later = Table::parse_csv(b"colour,age\nred,35\n", "new.csv").unwrap(); // no label, reordered
/// let rows = schema.encode(&later).unwrap();
/// assert_eq!(rows.features, vec![35.0, 0.0, 1.0]);
/// assert_eq!(rows.labels, vec![None]);
/// let bad = Table::parse_csv(b"age,colour\n35,green\n", "new.csv").unwrap();
/// assert!(schema.encode(&bad).unwrap_err().to_string().contains("green"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableSchema {
    /// The label column's name and position in the training file.
    pub label: ColumnName,
    /// Class names in class order.
    pub class_names: Vec<String>,
    /// The feature columns in encoding order.
    pub columns: Vec<FeatureColumn>,
}

/// A column's name and its 0-based position in the training file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnName {
    /// The header's name (`x0, x1, ...` without a header).
    pub name: String,
    /// 0-based position among the training file's columns.
    pub position: usize,
}

/// One feature column of a [`TableSchema`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureColumn {
    /// Its name and position.
    #[serde(flatten)]
    pub column: ColumnName,
    /// How its cells are encoded.
    #[serde(flatten)]
    pub kind: ColumnKind,
}

/// How one column's cells are encoded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ColumnKind {
    /// One feature: the number, or `fill` for a missing cell.
    Numeric {
        /// The value of a missing cell.
        fill: f64,
    },
    /// One feature per category (sorted), 1 for the cell's category.
    Categorical {
        /// The categories in string order (`?` for missing cells).
        categories: Vec<String>,
    },
}

/// The rows of a table encoded by a [`TableSchema`]: labels are optional.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedRows {
    /// Row-major features, [`TableSchema::width`] per row.
    pub features: Vec<f32>,
    /// Each row's class, `None` where the file has no label column or the cell is missing.
    pub labels: Vec<Option<u32>>,
}

impl TableSchema {
    /// Infers the schema of `table` with the label column `label` (default: the table's
    /// [`default_label`](Table::default_label)), following the module's rules; numeric fills
    /// are the whole file's column means.
    ///
    /// Errors: [`DataError::MissingColumn`], [`DataError::InvalidDataset`] (no feature
    /// column), [`DataError::MissingLabel`], [`DataError::SingleClass`],
    /// [`DataError::TooManyCategories`], [`DataError::BadNumbers`], [`DataError::NonFinite`].
    ///
    /// ```
    /// let t = rgd_data::Table::parse_keel(b"1,a,1\n?,b,1.0\n3,a,2\n", "t.dat").unwrap();
    /// let s = rgd_data::TableSchema::infer(&t, None).unwrap();
    /// assert_eq!(s.class_names, vec!["1", "2"]); // 1 and 1.0 are one class
    /// assert_eq!(s.width(), 3);
    /// ```
    pub fn infer(table: &Table, label: Option<&str>) -> Result<TableSchema, DataError> {
        let file = &table.source;
        let label_col = match label {
            None => table.default_label,
            Some(name) => table
                .columns
                .iter()
                .position(|h| h == name)
                .ok_or_else(|| DataError::MissingColumn {
                    file: file.clone(),
                    column: name.into(),
                    available: table.columns.join(", "),
                })?,
        };
        if table.columns.len() < 2 {
            return Err(DataError::InvalidDataset {
                name: file.clone(),
                reason: "it has no feature columns; a table needs at least one column besides \
                         the label"
                    .into(),
            });
        }
        let class_names = infer_classes(table, label_col)?;
        let columns = (0..table.columns.len())
            .filter(|&c| c != label_col)
            .map(|c| {
                Ok(FeatureColumn {
                    column: ColumnName {
                        name: table.columns[c].clone(),
                        position: c,
                    },
                    kind: infer_kind(table, c)?,
                })
            })
            .collect::<Result<_, DataError>>()?;
        Ok(TableSchema {
            label: ColumnName {
                name: table.columns[label_col].clone(),
                position: label_col,
            },
            class_names,
            columns,
        })
    }

    /// Refits the numeric fill values on the rows `rows` of `table` (the training split): each
    /// is the mean of the column's present cells there, 0 where none is present.
    ///
    /// ```
    /// let t = rgd_data::Table::parse_keel(b"1,a\n?,b\n5,a\n", "t.dat").unwrap();
    /// let mut s = rgd_data::TableSchema::infer(&t, None).unwrap();
    /// s.fit_fills(&t, &[1, 2]).unwrap();
    /// assert_eq!(s.encode(&t).unwrap().features[1], 5.0); // row 1 gets row 2's mean, not 3
    /// ```
    pub fn fit_fills(&mut self, table: &Table, rows: &[usize]) -> Result<(), DataError> {
        let map = self.match_columns(table)?;
        for (col, &at) in self.columns.iter_mut().zip(&map.features) {
            if let ColumnKind::Numeric { fill } = &mut col.kind {
                let (mut sum, mut n) = (0f64, 0usize);
                for &r in rows {
                    let s = table.cell(r, at);
                    if !is_missing(s) {
                        sum += number(table, r, at, s)?;
                        n += 1;
                    }
                }
                *fill = if n == 0 { 0.0 } else { sum / n as f64 };
            }
        }
        Ok(())
    }

    /// Number of features a row encodes to.
    pub fn width(&self) -> usize {
        self.columns
            .iter()
            .map(|c| match &c.kind {
                ColumnKind::Numeric { .. } => 1,
                ColumnKind::Categorical { categories } => categories.len(),
            })
            .sum()
    }

    /// Feature names: the column's for a number, `column=category` for each one-hot feature.
    pub fn feature_names(&self) -> Vec<String> {
        self.columns
            .iter()
            .flat_map(|c| match &c.kind {
                ColumnKind::Numeric { .. } => vec![c.column.name.clone()],
                ColumnKind::Categorical { categories } => categories
                    .iter()
                    .map(|v| format!("{}={v}", c.column.name))
                    .collect(),
            })
            .collect()
    }

    /// Encodes every row of `table` (its columns matched by name, or by position without a
    /// header; the label column may be absent).
    ///
    /// Errors: [`DataError::ColumnMismatch`], [`DataError::UnknownValue`] (a category or class
    /// the schema does not know, a number that does not parse), [`DataError::NonFinite`],
    /// [`DataError::TooLarge`].
    pub fn encode(&self, table: &Table) -> Result<EncodedRows, DataError> {
        let map = self.match_columns(table)?;
        let width = self.width();
        let values = table
            .len()
            .checked_mul(width)
            .filter(|&v| v <= MAX_VALUES)
            .ok_or_else(|| DataError::TooLarge {
                file: table.source.clone(),
                what: format!(
                    "{} rows x {width} features, more than the {MAX_VALUES} values a table may \
                     encode to; use fewer rows or fewer category columns",
                    table.len()
                ),
            })?;
        let mut features = vec![0f32; values];
        for (r, row) in features.chunks_exact_mut(width.max(1)).enumerate() {
            let mut offset = 0;
            for (col, &at) in self.columns.iter().zip(&map.features) {
                let s = table.cell(r, at);
                match &col.kind {
                    ColumnKind::Numeric { fill } => {
                        row[offset] = if is_missing(s) {
                            *fill as f32
                        } else {
                            number(table, r, at, s)? as f32
                        };
                        offset += 1;
                    }
                    ColumnKind::Categorical { categories } => {
                        let value = if is_missing(s) { "?" } else { s };
                        let k = categories
                            .binary_search_by(|c| c.as_str().cmp(value))
                            .map_err(|_| unknown(table, r, at, value, categories))?;
                        row[offset + k] = 1.0;
                        offset += categories.len();
                    }
                }
            }
        }
        let labels = match map.label {
            None => vec![None; table.len()],
            Some(at) => (0..table.len())
                .map(|r| {
                    let s = table.cell(r, at);
                    if is_missing(s) {
                        Ok(None)
                    } else {
                        self.class_of(s)
                            .map(Some)
                            .ok_or_else(|| unknown(table, r, at, s, &self.class_names))
                    }
                })
                .collect::<Result<_, _>>()?,
        };
        Ok(EncodedRows { features, labels })
    }

    /// Encodes `table` as a [`Dataset`] named after it; every row needs a known label
    /// ([`DataError::MissingLabel`] otherwise).
    ///
    /// ```
    /// let t = rgd_data::Table::parse_keel(b"1.0, a, yes\n2.5, b, no\n?, a, yes\n", "toy.dat").unwrap();
    /// let ds = rgd_data::TableSchema::infer(&t, None).unwrap().to_dataset(&t).unwrap();
    /// assert_eq!(ds.row(2), &[1.75, 1.0, 0.0]);
    /// ```
    pub fn to_dataset(&self, table: &Table) -> Result<Dataset, DataError> {
        let rows = self.encode(table)?;
        let labels = rows
            .labels
            .iter()
            .enumerate()
            .map(|(r, l)| {
                l.ok_or_else(|| DataError::MissingLabel {
                    file: table.source.clone(),
                    line: table.line(r),
                    column: self.label.position + 1,
                })
            })
            .collect::<Result<_, _>>()?;
        let width = self.width();
        Ok(Dataset {
            name: table.name.clone(),
            features: rows.features,
            n_features: width,
            example_shape: vec![width],
            labels,
            class_names: self.class_names.clone(),
            feature_names: self.feature_names(),
            domains: None,
            domain_names: Vec::new(),
        })
    }

    /// The class of a label cell: by value when the classes are numbers, else by string.
    fn class_of(&self, s: &str) -> Option<u32> {
        let position = match numeric_values(&self.class_names) {
            Some(values) => {
                let v: f64 = s.parse().ok()?;
                values.iter().position(|&c| c == v)
            }
            None => self.class_names.iter().position(|c| c == s),
        };
        position.map(|i| i as u32)
    }

    /// Where each schema column sits in `table`.
    fn match_columns(&self, table: &Table) -> Result<ColumnMap, DataError> {
        let mismatch = |reason: String| DataError::ColumnMismatch {
            file: table.source.clone(),
            reason,
        };
        let expected = || {
            let mut names: Vec<&str> = self
                .columns
                .iter()
                .map(|c| c.column.name.as_str())
                .collect();
            names.insert(
                self.label.position.min(names.len()),
                self.label.name.as_str(),
            );
            names.join(", ")
        };
        let full = self.columns.len() + 1;
        if !table.named {
            let with_label = match table.columns.len() {
                n if n == full => true,
                n if n == full - 1 => false,
                n => {
                    return Err(mismatch(format!(
                        "it has {n} columns but the training data has {full} ({}), or {} \
                         without the label",
                        expected(),
                        full - 1
                    )));
                }
            };
            let at = |position: usize| {
                if with_label || position < self.label.position {
                    position
                } else {
                    position - 1
                }
            };
            return Ok(ColumnMap {
                features: self.columns.iter().map(|c| at(c.column.position)).collect(),
                label: with_label.then_some(self.label.position),
            });
        }
        let find = |name: &str| table.columns.iter().position(|h| h == name);
        let features = self
            .columns
            .iter()
            .map(|c| {
                find(&c.column.name).ok_or_else(|| {
                    mismatch(format!(
                        "it has no column `{}`; the training data's columns are {}",
                        c.column.name,
                        expected()
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let label = find(&self.label.name);
        if let Some(extra) = table
            .columns
            .iter()
            .find(|h| **h != self.label.name && !self.columns.iter().any(|c| c.column.name == **h))
        {
            return Err(mismatch(format!(
                "its column `{extra}` is not in the training data ({}); remove it",
                expected()
            )));
        }
        Ok(ColumnMap { features, label })
    }
}

/// Positions of the schema's feature columns (and the label, if present) in a table.
struct ColumnMap {
    features: Vec<usize>,
    label: Option<usize>,
}

fn number(table: &Table, row: usize, column: usize, s: &str) -> Result<f64, DataError> {
    let v: f64 = s.parse().map_err(|_| DataError::UnknownValue {
        file: table.source.clone(),
        line: table.line(row),
        column: table.columns[column].clone(),
        value: s.into(),
        expected: "a number (the column is numeric in the training data; write ? for a \
                   missing value)"
            .into(),
    })?;
    if !v.is_finite() || (v as f32).is_infinite() {
        return Err(DataError::NonFinite {
            file: table.source.clone(),
            line: table.line(row),
            column: column + 1,
            value: s.into(),
        });
    }
    Ok(v)
}

fn unknown(table: &Table, row: usize, column: usize, value: &str, known: &[String]) -> DataError {
    DataError::UnknownValue {
        file: table.source.clone(),
        line: table.line(row),
        column: table.columns[column].clone(),
        value: value.into(),
        expected: format!("a value the training data has ({})", list(known)),
    }
}

/// At most 20 values, comma-separated.
fn list(values: &[String]) -> String {
    let mut s = values
        .iter()
        .take(20)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if values.len() > 20 {
        s += &format!(", ... ({} in all)", values.len());
    }
    s
}

/// The values of class names that are all finite numbers.
fn numeric_values(names: &[String]) -> Option<Vec<f64>> {
    names
        .iter()
        .map(|s| s.parse::<f64>().ok().filter(|v| v.is_finite()))
        .collect()
}

fn infer_classes(table: &Table, label_col: usize) -> Result<Vec<String>, DataError> {
    let mut spellings: Vec<&str> = Vec::with_capacity(table.len());
    for r in 0..table.len() {
        let s = table.cell(r, label_col);
        if is_missing(s) {
            return Err(DataError::MissingLabel {
                file: table.source.clone(),
                line: table.line(r),
                column: label_col + 1,
            });
        }
        spellings.push(s);
    }
    spellings.sort_unstable();
    spellings.dedup();
    let mut names: Vec<String> = spellings.into_iter().map(String::from).collect();
    if let Some(values) = numeric_values(&names) {
        // By value, then spelling; equal values are one class named by its first spelling.
        let mut pairs: Vec<(f64, String)> = values.into_iter().zip(names).collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        pairs.dedup_by(|b, a| a.0 == b.0);
        names = pairs.into_iter().map(|(_, s)| s).collect();
    }
    if names.len() < 2 {
        return Err(DataError::SingleClass {
            file: table.source.clone(),
            class: names[0].clone(),
        });
    }
    if names.len() > MAX_CLASSES {
        return Err(DataError::TooManyCategories {
            file: table.source.clone(),
            column: table.columns[label_col].clone(),
            count: names.len(),
            limit: MAX_CLASSES,
            what: "classes (is it a regression target? rgd trains classifiers)".into(),
        });
    }
    Ok(names)
}

fn infer_kind(table: &Table, c: usize) -> Result<ColumnKind, DataError> {
    let (mut present, mut sum) = (0usize, 0f64);
    let mut bad: Vec<usize> = Vec::new();
    for r in 0..table.len() {
        let s = table.cell(r, c);
        if is_missing(s) {
            continue;
        }
        present += 1;
        match s.parse::<f64>() {
            Ok(v) if !v.is_finite() || (v as f32).is_infinite() => {
                return Err(DataError::NonFinite {
                    file: table.source.clone(),
                    line: table.line(r),
                    column: c + 1,
                    value: s.into(),
                });
            }
            Ok(v) => sum += v,
            Err(_) => bad.push(r),
        }
    }
    if present > 0 && bad.is_empty() {
        return Ok(ColumnKind::Numeric {
            fill: sum / present as f64,
        });
    }
    let numbers = present - bad.len();
    if present > 0 && numbers as f64 >= NUMERIC_SHARE * present as f64 {
        return Err(DataError::BadNumbers {
            file: table.source.clone(),
            column: table.columns[c].clone(),
            numbers,
            present,
            cells: bad
                .iter()
                .take(5)
                .map(|&r| format!("line {} `{}`", table.line(r), table.cell(r, c)))
                .collect::<Vec<_>>()
                .join(", ")
                + if bad.len() > 5 { ", ..." } else { "" },
        });
    }
    let mut counts: BTreeMap<&str, ()> = BTreeMap::new();
    for r in 0..table.len() {
        let s = table.cell(r, c);
        counts.insert(if is_missing(s) { "?" } else { s }, ());
        if counts.len() > MAX_CATEGORIES {
            return Err(DataError::TooManyCategories {
                file: table.source.clone(),
                column: table.columns[c].clone(),
                count: counts.len(),
                limit: MAX_CATEGORIES,
                what: "categories for a one-hot column (an identifier? drop the column)".into(),
            });
        }
    }
    Ok(ColumnKind::Categorical {
        categories: counts.into_keys().map(String::from).collect(),
    })
}
