//! Generic CSV tables with a header row and a named label column.

use std::path::Path;

use crate::{DataError, Dataset, Table, TableSchema};

/// Parse a comma-separated table with a header row; `label_column` names the label.
///
/// Quoting follows RFC 4180 (via the `csv` crate); cells are trimmed; the file must be
/// UTF-8. Column kinds, missing values (`?` or empty), the one-hot encoding and class
/// order follow [`TableSchema::infer`], as for [`parse_keel`](crate::parse_keel).
///
/// Errors: [`DataError::MissingColumn`], [`DataError::Empty`],
/// [`DataError::RaggedRow`], [`DataError::Csv`], and those of [`TableSchema::infer`]
/// (all with `source` and the 1-based line).
///
/// ```
/// let ds = rgd_data::parse_csv(b"age,colour,y\n30,red,1\n40,blue,0\n", "t.csv", "y").unwrap();
/// assert_eq!(ds.feature_names, vec!["age", "colour=blue", "colour=red"]);
/// assert_eq!(ds.labels, vec![1, 0]);
/// ```
pub fn parse_csv(bytes: &[u8], source: &str, label_column: &str) -> Result<Dataset, DataError> {
    let table = Table::parse_csv(bytes, source)?;
    TableSchema::infer(&table, Some(label_column))?.to_dataset(&table)
}

impl Table {
    /// Read a CSV table with a header row without encoding it (see [`parse_csv`]).
    ///
    /// ```
    /// let t = rgd_data::Table::parse_csv(b"a,\"b,c\"\n1,2\n", "t.csv").unwrap();
    /// assert_eq!(t.columns, vec!["a", "b,c"]);
    /// ```
    pub fn parse_csv(bytes: &[u8], source: &str) -> Result<Table, DataError> {
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
        let mut records = Vec::new();
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
            records.push((line, rec));
        }
        let last = header.len() - 1;
        Table::new(
            source,
            header,
            true,
            last,
            records
                .iter()
                .map(|(line, rec)| (*line, rec.iter().collect())),
        )
    }
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
