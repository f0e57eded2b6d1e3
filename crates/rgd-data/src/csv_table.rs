//! Generic CSV tables with a header row and a named label column.

use std::path::Path;

use crate::table::{self, Row};
use crate::{DataError, Dataset};

/// Parse a comma-separated table with a header row; `label_column` names the label.
///
/// Quoting follows RFC 4180 (via the `csv` crate); cells are trimmed. Column
/// types, missing values and class order follow the same inference as
/// [`parse_keel`](crate::parse_keel): numeric if every present cell parses as a
/// number (missing `?`/empty -> column mean), otherwise one-hot categorical
/// (`name=value`, sorted, `?` its own category). A non-numeric cell therefore
/// makes its column categorical rather than failing.
///
/// Errors: [`DataError::MissingColumn`], [`DataError::Empty`],
/// [`DataError::RaggedRow`], [`DataError::Csv`], [`DataError::NonFinite`],
/// [`DataError::MissingLabel`], [`DataError::SingleClass`] (all with `source`
/// and the 1-based line).
///
/// ```
/// let ds = rgd_data::parse_csv(b"age,colour,y\n30,red,1\n40,blue,0\n", "t.csv", "y").unwrap();
/// assert_eq!(ds.feature_names, vec!["age", "colour=blue", "colour=red"]);
/// assert_eq!(ds.labels, vec![1, 0]);
/// ```
pub fn parse_csv(bytes: &[u8], source: &str, label_column: &str) -> Result<Dataset, DataError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let csv_err = |e: csv::Error| DataError::Csv {
        file: source.into(),
        line: e.position().map_or(1, |p| p.line() as usize),
        msg: e.to_string(),
    };
    let header: Vec<String> = rdr
        .headers()
        .map_err(csv_err)?
        .iter()
        .map(String::from)
        .collect();
    if header.is_empty() || header.iter().all(|h| h.is_empty()) {
        return Err(DataError::Empty {
            file: source.into(),
        });
    }
    let label_col = header
        .iter()
        .position(|h| h == label_column)
        .ok_or_else(|| DataError::MissingColumn {
            file: source.into(),
            column: label_column.into(),
            available: header.join(", "),
        })?;
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(csv_err)?;
        let line = rec.position().map_or(0, |p| p.line() as usize);
        if rec.len() == 1 && rec[0].is_empty() {
            continue; // blank line
        }
        if rec.len() != header.len() {
            return Err(DataError::RaggedRow {
                file: source.into(),
                line,
                expected: header.len(),
                found: rec.len(),
            });
        }
        rows.push(Row {
            line,
            cells: rec.iter().map(String::from).collect::<Vec<_>>(),
        });
    }
    let stem = Path::new(source)
        .file_stem()
        .map_or(source.to_string(), |s| s.to_string_lossy().into_owned());
    table::build(source, &stem, &rows, &header, label_col)
}

/// Read and parse a CSV file with a header; see [`parse_csv`].
///
/// ```no_run
/// let ds = rgd_data::load_csv("iris.csv", "species").unwrap();
/// ```
pub fn load_csv(path: impl AsRef<Path>, label_column: &str) -> Result<Dataset, DataError> {
    let path = path.as_ref();
    let bytes = crate::error::read_file(path)?;
    parse_csv(&bytes, &path.display().to_string(), label_column)
}
