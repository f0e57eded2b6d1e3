//! KEEL `.dat` tables: comma-separated, label last, optional `@` header.

use std::path::Path;

use crate::table;
use crate::{DataError, Dataset, Table, TableSchema};

/// Parse a KEEL `.dat` table from bytes; `source` names the file in errors.
///
/// Format: one row per line, cells separated by commas (spaces around cells
/// are trimmed), the label in the last column unless an `@outputs` header
/// line names another attribute. Header lines starting with `@`
/// (`@relation`, `@attribute NAME ...`, `@inputs`, `@outputs`, `@data`) are
/// parsed for column names; lines starting with `%` and blank lines are
/// skipped. Without `@attribute` lines columns are named `x0, x1, ...`.
/// The file must be UTF-8. Column kinds, missing values (`?` or empty), the
/// one-hot encoding and class order follow [`TableSchema::infer`] (the whole
/// file decides each column's kind; missing numbers get the file's column mean).
///
/// Errors: [`DataError::NotUtf8`], [`DataError::Empty`], [`DataError::RaggedRow`],
/// and those of [`TableSchema::infer`], each naming `source` and the 1-based line.
///
/// ```
/// let ds = rgd_data::parse_keel(b"1.0, a, yes\n2.5, b, no\n?, a, yes\n", "toy.dat").unwrap();
/// assert_eq!(ds.class_names, vec!["no", "yes"]);
/// assert_eq!(ds.feature_names, vec!["x0", "x1=a", "x1=b"]);
/// assert_eq!(ds.row(2), &[1.75, 1.0, 0.0]); // missing number -> column mean
/// ```
pub fn parse_keel(bytes: &[u8], source: &str) -> Result<Dataset, DataError> {
    let table = Table::parse_keel(bytes, source)?;
    TableSchema::infer(&table, None)?.to_dataset(&table)
}

impl Table {
    /// Read a KEEL `.dat` table without encoding it (see [`parse_keel`] for the format).
    ///
    /// ```
    /// let t = rgd_data::Table::parse_keel(b"@attribute a real\n@attribute y {p,q}\n@data\n1,p\n", "t.dat").unwrap();
    /// assert_eq!((t.columns.clone(), t.named, t.default_label), (vec!["a".into(), "y".into()], true, 1));
    /// ```
    pub fn parse_keel(bytes: &[u8], source: &str) -> Result<Table, DataError> {
        let text = table::utf8(bytes, source)?;
        let mut attributes: Vec<String> = Vec::new();
        let mut output: Option<String> = None;
        let mut rows: Vec<(usize, Vec<&str>)> = Vec::new();
        let mut width = 0usize;
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('%') {
                continue;
            }
            if let Some(h) = line.strip_prefix('@') {
                let lower = h.to_ascii_lowercase();
                if lower.starts_with("attribute") {
                    if let Some(name) = h["attribute".len()..].split_whitespace().next() {
                        attributes.push(name.to_string());
                    }
                } else if lower.starts_with("outputs") || lower.starts_with("output") {
                    let rest = h.split_once(char::is_whitespace).map_or("", |x| x.1);
                    output = rest
                        .split(',')
                        .next()
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty());
                }
                continue;
            }
            let cells: Vec<&str> = line.split(',').map(str::trim).collect();
            if rows.is_empty() {
                width = cells.len();
                if width < 2 {
                    return Err(DataError::RaggedRow {
                        file: source.into(),
                        line: i + 1,
                        expected: 2,
                        found: width,
                    });
                }
            } else if cells.len() != width {
                return Err(DataError::RaggedRow {
                    file: source.into(),
                    line: i + 1,
                    expected: width,
                    found: cells.len(),
                });
            }
            rows.push((i + 1, cells));
        }
        if rows.is_empty() {
            return Err(DataError::Empty {
                file: source.into(),
            });
        }
        let named = attributes.len() == width;
        let names: Vec<String> = if named {
            attributes
        } else {
            (0..width).map(|j| format!("x{j}")).collect()
        };
        let label = output
            .and_then(|o| names.iter().position(|n| *n == o))
            .unwrap_or(width - 1);
        Table::new(source, names, named, label, rows)
    }
}

/// Read and parse a KEEL `.dat` file; the data set is named after the file stem.
///
/// ```no_run
/// let ds = rgd_data::load_keel("data-cache/keel/balanced/letter.dat").unwrap();
/// assert_eq!(ds.n_classes(), 26);
/// ```
pub fn load_keel(path: impl AsRef<Path>) -> Result<Dataset, DataError> {
    let path = path.as_ref();
    let bytes = crate::error::read_file(path)?;
    parse_keel(&bytes, &path.display().to_string())
}
