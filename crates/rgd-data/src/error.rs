//! The one error type of the crate.
//!
//! Every variant names the file (or data set) it concerns, the 1-based line and
//! column where that applies, what is wrong and how to fix it.

use std::path::PathBuf;

/// Everything that can go wrong while reading, checking or transforming data.
///
/// Messages are written for the person running an experiment: they say what
/// is wrong, where (file, 1-based line and column where applicable) and how
/// to fix it.
///
/// ```
/// use rgd_data::DataError;
/// let e = DataError::Empty { file: "x.dat".into() };
/// assert!(e.to_string().contains("x.dat"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("cannot read {}: {source}; check that the path exists and is readable", path.display())]
    Io {
        /// The file that failed.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A gzip stream could not be decompressed.
    #[error("{file}: gzip data is corrupt or truncated ({msg}); download the file again")]
    Decompress {
        /// The file that failed.
        file: String,
        /// What the decoder reported.
        msg: String,
    },
    /// The file holds no data rows.
    #[error("{file}: the file holds no data rows; check that it is the right file and not empty")]
    Empty {
        /// The file that was empty.
        file: String,
    },
    /// A row has a different number of cells from the first row.
    #[error(
        "{file}, line {line}: expected {expected} comma-separated cells (as in the first data row) but found {found}; fix or remove this row"
    )]
    RaggedRow {
        /// The file.
        file: String,
        /// 1-based line number.
        line: usize,
        /// Cells in the first data row (or the header).
        expected: usize,
        /// Cells in this row.
        found: usize,
    },
    /// A cell that must be a number is not one.
    #[error(
        "{file}, line {line}, column {column}: `{value}` is not a number; every cell of this file must be numeric"
    )]
    InvalidNumber {
        /// The file.
        file: String,
        /// 1-based line number (for binary or JSON arrays: 1).
        line: usize,
        /// 1-based column (for JSON arrays: 1-based element index).
        column: usize,
        /// The offending text.
        value: String,
    },
    /// A feature value is NaN or infinite.
    #[error(
        "{file}, line {line}, column {column}: value `{value}` is not finite (NaN or infinity); replace it with a number or mark it missing with `?`"
    )]
    NonFinite {
        /// The file (or data set name).
        file: String,
        /// 1-based line number (for an in-memory data set: 1-based row).
        line: usize,
        /// 1-based column.
        column: usize,
        /// The offending value as text.
        value: String,
    },
    /// A row has no label.
    #[error("{file}, line {line}: the label (column {column}) is missing; every row needs a label")]
    MissingLabel {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column of the label.
        column: usize,
    },
    /// A label is outside the classes the format allows.
    #[error(
        "{file}, {location}: label `{label}` is not one of the {n_classes} classes {allowed}; fix the label or use the matching class list"
    )]
    LabelOutOfRange {
        /// The file.
        file: String,
        /// Where: "line 3" or "item 17".
        location: String,
        /// The label as text.
        label: String,
        /// Number of classes allowed.
        n_classes: usize,
        /// The allowed labels, for the message.
        allowed: String,
    },
    /// The data holds only one class.
    #[error(
        "{file}: every row has class `{class}`; classification needs at least two classes, so check the label column"
    )]
    SingleClass {
        /// The file or data set name.
        file: String,
        /// The only class.
        class: String,
    },
    /// A binary file starts with the wrong magic number.
    #[error(
        "{file}: magic number is {found:#010x} but {expected:#010x} ({what}) was expected; pass the right file (images vs labels) or re-download it"
    )]
    BadMagic {
        /// The file.
        file: String,
        /// Magic number expected.
        expected: u32,
        /// Magic number found.
        found: u32,
        /// Which kind of file was expected.
        what: &'static str,
    },
    /// A binary file is shorter than its header promises.
    #[error(
        "{file}: truncated: the header promises {expected} bytes but only {found} are present; re-download the file"
    )]
    Truncated {
        /// The file.
        file: String,
        /// Bytes expected in total.
        expected: usize,
        /// Bytes present.
        found: usize,
    },
    /// A binary file is longer than its header says.
    #[error(
        "{file}: {extra} unexpected bytes after the {expected} bytes the header describes; the file is not a valid IDX file"
    )]
    TrailingBytes {
        /// The file.
        file: String,
        /// Bytes expected in total.
        expected: usize,
        /// Surplus bytes.
        extra: usize,
    },
    /// Two files that must describe the same rows disagree on the row count.
    #[error(
        "{first} has {first_count} rows but {second} has {second_count}; pass files that belong together"
    )]
    CountMismatch {
        /// First file.
        first: String,
        /// Rows in the first file.
        first_count: usize,
        /// Second file.
        second: String,
        /// Rows in the second file.
        second_count: usize,
    },
    /// A named column does not exist.
    #[error("{file}: no column named `{column}`; the header has: {available}")]
    MissingColumn {
        /// The file.
        file: String,
        /// The requested column.
        column: String,
        /// The header, comma-separated.
        available: String,
    },
    /// A CSV file could not be tokenised.
    #[error("{file}, line {line}: malformed CSV ({msg}); check quoting and the encoding (UTF-8)")]
    Csv {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// What the CSV reader said.
        msg: String,
    },
    /// A JSON file could not be parsed or does not have the expected shape.
    #[error("{file}, line {line}, column {column}: {msg}")]
    Json {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong and what was expected.
        msg: String,
    },
    /// A data set is internally inconsistent.
    #[error("data set `{name}`: {reason}")]
    InvalidDataset {
        /// The data set name.
        name: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// A function argument is out of its valid range.
    #[error("invalid argument `{arg}` = {value}: {expected}")]
    InvalidArgument {
        /// The argument name.
        arg: &'static str,
        /// Its value as text.
        value: String,
        /// What values are valid.
        expected: String,
    },
    /// A tokenizer could not be loaded or failed on input.
    #[error("tokenizer {file}: {msg}")]
    Tokenizer {
        /// The tokenizer file.
        file: String,
        /// What went wrong and how to fix it.
        msg: String,
    },
    /// A file is not valid UTF-8.
    #[error("{file}, line {line}: the text is not valid UTF-8; save the file as UTF-8")]
    NotUtf8 {
        /// The file.
        file: String,
        /// 1-based line of the first invalid byte.
        line: usize,
    },
    /// The input is larger than the documented limit, refused before allocating.
    #[error("{file}: too large: {what}")]
    TooLarge {
        /// The file.
        file: String,
        /// What exceeded which limit, and the fix.
        what: String,
    },
    /// A column of numbers holds a few cells that are not numbers.
    #[error(
        "{file}, column `{column}`: {numbers} of {present} cells are numbers but these are not: {cells}; fix them, or write ? for a missing value"
    )]
    BadNumbers {
        /// The file.
        file: String,
        /// The column's name.
        column: String,
        /// Cells that parse as numbers.
        numbers: usize,
        /// Cells that are not missing.
        present: usize,
        /// The first bad cells as `line N `value``.
        cells: String,
    },
    /// A column has more distinct values than an encoding admits.
    #[error("{file}, column `{column}`: {count} distinct values, more than the {limit} {what}")]
    TooManyCategories {
        /// The file.
        file: String,
        /// The column's name.
        column: String,
        /// Distinct values seen (counting stops just past the limit).
        count: usize,
        /// The documented limit.
        limit: usize,
        /// What is limited, and the likely fix.
        what: String,
    },
    /// A cell holds a value the training data's encoding does not know.
    #[error("{file}, line {line}, column `{column}`: `{value}` is not {expected}")]
    UnknownValue {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// The column's name.
        column: String,
        /// The cell.
        value: String,
        /// What the column admits.
        expected: String,
    },
    /// A file's columns do not match the training data's.
    #[error("{file}: {reason}")]
    ColumnMismatch {
        /// The file.
        file: String,
        /// Which column is missing or extra, and the expected columns.
        reason: String,
    },
    /// A registry data set is not in the cache folder.
    #[error("data set `{name}` is not in the cache folder ({}); {fix}", path.display())]
    NotFetched {
        /// The data set name.
        name: String,
        /// The path that was looked for.
        path: PathBuf,
        /// The command that fetches it.
        fix: String,
    },
    /// A registry name is unknown.
    #[error("unknown data set `{name}`; known names: {known}")]
    UnknownName {
        /// The requested name.
        name: String,
        /// Known names or patterns.
        known: String,
    },
}

impl DataError {
    /// Wrap an I/O error with the path it concerns.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            source,
        }
    }

    /// Build an [`DataError::InvalidArgument`].
    pub(crate) fn arg(
        arg: &'static str,
        value: impl ToString,
        expected: impl Into<String>,
    ) -> Self {
        DataError::InvalidArgument {
            arg,
            value: value.to_string(),
            expected: expected.into(),
        }
    }
}

/// Read a whole file, mapping the error to [`DataError::Io`].
pub(crate) fn read_file(path: &std::path::Path) -> Result<Vec<u8>, DataError> {
    std::fs::read(path).map_err(|e| DataError::io(path, e))
}
