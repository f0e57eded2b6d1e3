//! A table as read from a KEEL or CSV file: named columns of string cells, not yet encoded.
//!
//! Reading and encoding are two steps so that the encoding can be fixed once, on the training
//! file, and applied unchanged to every later file ([`TableSchema`](crate::TableSchema)).

use crate::DataError;

/// Most bytes of cell text one table may hold (cells are addressed with 32-bit offsets).
pub const MAX_TABLE_BYTES: usize = u32::MAX as usize;

/// The rows of a KEEL or CSV file as string cells, with the 1-based line of each row.
///
/// Built by [`Table::parse_keel`] or [`Table::parse_csv`]; encoded by a
/// [`TableSchema`](crate::TableSchema).
///
/// ```
/// let t = rgd_data::Table::parse_csv(b"age,y\n30,a\n,b\n", "t.csv").unwrap();
/// assert_eq!(t.columns, vec!["age", "y"]);
/// assert_eq!((t.len(), t.cell(1, 0), t.line(1)), (2, "", 3));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The file it was read from (for messages).
    pub source: String,
    /// The data set name: the file's stem.
    pub name: String,
    /// Column names: the header's, or `x0, x1, ...` for a KEEL file without `@attribute` lines.
    pub columns: Vec<String>,
    /// Whether the names come from a header; without one, columns are matched by position.
    pub named: bool,
    /// The column a KEEL file declares with `@outputs`, else its last (the label by default).
    pub default_label: usize,
    text: String,
    /// Per cell, row-major: the start and end of its text in `text`.
    spans: Vec<(u32, u32)>,
    lines: Vec<usize>,
}

impl Table {
    /// A table from a header and rows of `(line, cells)`, every row as wide as the header.
    pub(crate) fn new<'a>(
        source: &str,
        columns: Vec<String>,
        named: bool,
        default_label: usize,
        rows: impl IntoIterator<Item = (usize, Vec<&'a str>)>,
    ) -> Result<Table, DataError> {
        let mut table = Table {
            source: source.to_string(),
            name: std::path::Path::new(source)
                .file_stem()
                .map_or(source.to_string(), |s| s.to_string_lossy().into_owned()),
            columns,
            named,
            default_label,
            text: String::new(),
            spans: Vec::new(),
            lines: Vec::new(),
        };
        for (line, cells) in rows {
            debug_assert_eq!(cells.len(), table.columns.len());
            for cell in cells {
                let start = table.text.len();
                table.text.push_str(cell);
                if table.text.len() > MAX_TABLE_BYTES {
                    return Err(DataError::TooLarge {
                        file: source.into(),
                        what: format!("more than {MAX_TABLE_BYTES} bytes of cells"),
                    });
                }
                table.spans.push((start as u32, table.text.len() as u32));
            }
            table.lines.push(line);
        }
        if table.lines.is_empty() {
            return Err(DataError::Empty {
                file: source.into(),
            });
        }
        Ok(table)
    }

    /// Number of data rows.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether the table has no rows (never true for a parsed table).
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The trimmed text of the cell at `row`, `column` (0-based). Panics out of range.
    pub fn cell(&self, row: usize, column: usize) -> &str {
        let (a, b) = self.spans[row * self.columns.len() + column];
        &self.text[a as usize..b as usize]
    }

    /// The 1-based line of the file that holds `row`.
    pub fn line(&self, row: usize) -> usize {
        self.lines[row]
    }
}

/// Whether a cell is missing: empty, `?` or KEEL's `<null>`.
pub(crate) fn is_missing(s: &str) -> bool {
    s.is_empty() || s == "?" || s == "<null>"
}

/// The text of `bytes` as UTF-8, or an error naming the first line that is not.
pub(crate) fn utf8<'a>(bytes: &'a [u8], source: &str) -> Result<&'a str, DataError> {
    std::str::from_utf8(bytes).map_err(|e| DataError::NotUtf8 {
        file: source.into(),
        line: 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count(),
    })
}
