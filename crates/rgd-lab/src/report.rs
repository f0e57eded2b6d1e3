//! Result tables (Markdown, terminal, CSV) and the number formats used in them.

use comfy_table::{CellAlignment, ContentArrangement, presets::ASCII_MARKDOWN};

use crate::stats::{PairedDifference, Summary, summarize};

/// A table of strings, rendered deterministically to Markdown, the terminal or CSV.
///
/// The number of columns is the longest of the header and the rows; missing cells are empty.
/// A column is *numeric* (right-aligned) when it has a cell that starts like a number (an
/// optional `+`/`-` then a digit or `.`, or `NaN`/`inf`/`-inf`: so `85.31 ± 0.42`,
/// `+0.35 [-0.10, +0.80]` and `3/1/1` count) and every other cell is empty or a placeholder
/// for a missing value, `-` or `—`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    /// Column headers.
    pub headers: Vec<String>,
    /// Rows of cells.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table with these column headers.
    ///
    /// ```
    /// let t = rgd_lab::report::Table::new(["method", "accuracy"]);
    /// assert_eq!(t.headers, ["method", "accuracy"]);
    /// ```
    pub fn new(headers: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Table {
            headers: headers.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row.
    ///
    /// ```
    /// let mut t = rgd_lab::report::Table::new(["method", "accuracy"]);
    /// t.push_row(["RGD", "85.31 ± 0.42"]);
    /// assert_eq!(t.rows, [["RGD", "85.31 ± 0.42"]]);
    /// ```
    pub fn push_row(&mut self, row: impl IntoIterator<Item = impl Into<String>>) {
        self.rows.push(row.into_iter().map(Into::into).collect());
    }

    /// GitHub pipe table, columns padded to equal width, numeric columns right-aligned (`---:`),
    /// `|` escaped and line breaks replaced by spaces.
    ///
    /// ```
    /// let mut t = rgd_lab::report::Table::new(["method", "acc"]);
    /// t.push_row(["ERM", "84.96"]);
    /// assert_eq!(t.to_markdown(), "| method |   acc |\n| ------ | ----: |\n| ERM    | 84.96 |\n");
    /// ```
    pub fn to_markdown(&self) -> String {
        let clean = |s: &str| s.replace('|', "\\|").replace(['\r', '\n'], " ");
        let header: Vec<String> = self.cells(&self.headers).map(clean).collect();
        let rows: Vec<Vec<String>> = (self.rows.iter())
            .map(|r| self.cells(r).map(clean).collect())
            .collect();
        let numeric = self.numeric_columns();
        let all = || std::iter::once(&header).chain(&rows);
        let widths: Vec<usize> = (0..header.len())
            .map(|c| all().fold(3, |w, r| w.max(r[c].chars().count())))
            .collect();
        let line = |cells: &[String]| {
            let padded: Vec<String> = (cells.iter().enumerate())
                .map(|(c, s)| match numeric[c] {
                    true => format!("{s:>w$}", w = widths[c]),
                    false => format!("{s:<w$}", w = widths[c]),
                })
                .collect();
            format!("| {} |\n", padded.join(" | "))
        };
        let rule: Vec<String> = (widths.iter().zip(&numeric))
            .map(|(&w, &num)| match num {
                true => format!("{}:", "-".repeat(w - 1)),
                false => "-".repeat(w),
            })
            .collect();
        let mut out = line(&header);
        out += &line(&rule);
        for row in &rows {
            out += &line(row);
        }
        out
    }

    /// Plain-ASCII table for logs and terminals (comfy-table, Markdown-like borders, no colour,
    /// no wrapping), numeric columns right-aligned.
    ///
    /// ```
    /// let mut t = rgd_lab::report::Table::new(["method", "acc"]);
    /// t.push_row(["ERM", "84.96"]);
    /// assert!(t.to_terminal().contains("| ERM    | 84.96 |"));
    /// ```
    pub fn to_terminal(&self) -> String {
        let mut table = comfy_table::Table::new();
        table
            .load_style(ASCII_MARKDOWN)
            .force_no_tty()
            .set_content_arrangement(ContentArrangement::Disabled)
            .set_header(self.cells(&self.headers).collect::<Vec<_>>());
        for row in &self.rows {
            table.add_row(self.cells(row).collect::<Vec<_>>());
        }
        for (c, numeric) in self.numeric_columns().into_iter().enumerate() {
            if let (true, Some(column)) = (numeric, table.column_mut(c)) {
                column.set_cell_alignment(CellAlignment::Right);
            }
        }
        format!("{table}\n")
    }

    /// CSV (RFC 4180 quoting by the `csv` crate), header first.
    ///
    /// ```
    /// let mut t = rgd_lab::report::Table::new(["method", "acc"]);
    /// t.push_row(["RGD, lr=0.1", "85.31"]);
    /// assert_eq!(t.to_csv(), "method,acc\n\"RGD, lr=0.1\",85.31\n");
    /// ```
    pub fn to_csv(&self) -> String {
        let mut writer = csv::Writer::from_writer(Vec::new());
        for record in std::iter::once(&self.headers).chain(&self.rows) {
            writer
                .write_record(self.cells(record))
                .expect("writing equal-length records to memory cannot fail");
        }
        let bytes = writer.into_inner().expect("flushing to memory cannot fail");
        String::from_utf8(bytes).expect("CSV of UTF-8 strings is UTF-8")
    }

    /// Number of columns: the longest of the header and the rows.
    fn width(&self) -> usize {
        (self.rows.iter()).fold(self.headers.len(), |w, r| w.max(r.len()))
    }

    /// The cells of `row` padded with empty cells to [`Self::width`].
    fn cells<'a>(&self, row: &'a [String]) -> impl Iterator<Item = &'a str> {
        (0..self.width()).map(|c| row.get(c).map_or("", String::as_str))
    }

    /// Whether each column is numeric (see [`Table`]).
    fn numeric_columns(&self) -> Vec<bool> {
        let looks_numeric = |s: &str| {
            let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
            unsigned.starts_with(|c: char| c.is_ascii_digit() || c == '.')
                || matches!(s, "NaN" | "inf" | "-inf")
        };
        (0..self.width())
            .map(|c| {
                let mut cells = (self.rows.iter())
                    .map(|r| r.get(c).map_or("", |s| s.trim()))
                    .filter(|s| !matches!(*s, "" | "-" | "—"))
                    .peekable();
                cells.peek().is_some() && cells.all(looks_numeric)
            })
            .collect()
    }
}

/// `mean ± std` of `values`, both multiplied by `scale` (100 for accuracies in percent), with
/// `decimals` decimals; `-` without values.
///
/// ```
/// use rgd_lab::report::fmt_mean_std;
/// assert_eq!(fmt_mean_std(&[0.8531 - 0.0042, 0.8531 + 0.0042], 100.0, 2), "85.31 ± 0.59");
/// assert_eq!(fmt_mean_std(&[], 100.0, 2), "-");
/// ```
pub fn fmt_mean_std(values: &[f64], scale: f64, decimals: usize) -> String {
    summarize(values).map_or("-".into(), |s| {
        format!(
            "{:.decimals$} ± {:.decimals$}",
            s.mean * scale,
            s.std * scale
        )
    })
}

/// Mean difference and its confidence interval, signed and multiplied by `scale`:
/// `+0.35 [-0.10, +0.80]` (`+0.00` rather than `-0.00` for values that round to zero).
///
/// ```
/// use rgd_lab::{report::fmt_diff_ci, stats::paired_difference};
/// let d = paired_difference(&[0.5, 0.7], &[0.5, 0.5], 0.0, 0.95).unwrap();
/// assert_eq!(fmt_diff_ci(&d, 100.0, 1), "+10.0 [-117.1, +137.1]");
/// ```
pub fn fmt_diff_ci(d: &PairedDifference, scale: f64, decimals: usize) -> String {
    let s = |x: f64| {
        let x = x * scale;
        let rounds_to_zero = (x * 10f64.powi(decimals as i32)).round() == 0.0;
        format!("{:+.*}", decimals, if rounds_to_zero { 0.0 } else { x })
    };
    format!("{} [{}, {}]", s(d.mean), s(d.ci_low), s(d.ci_high))
}

/// Wins/ties/losses of a paired comparison: `3/1/1`.
///
/// ```
/// use rgd_lab::{report::fmt_wtl, stats::paired_difference};
/// let d = paired_difference(&[2.0, 1.0, 0.0], &[1.0, 1.0, 1.0], 0.0, 0.95).unwrap();
/// assert_eq!(fmt_wtl(&d), "1/1/1");
/// ```
pub fn fmt_wtl(d: &PairedDifference) -> String {
    format!("{}/{}/{}", d.wins, d.ties, d.losses)
}

/// The tidy-CSV cells of a sample: mean and sd as plain numbers (empty without values).
pub fn mean_sd_cells(s: Option<&Summary>) -> [String; 2] {
    s.map_or_else(Default::default, |s| [s.mean, s.std].map(|v| v.to_string()))
}

/// The tidy-CSV columns of [`difference_cells`].
pub const DIFFERENCE_COLUMNS: [&str; 6] = [
    "diff_vs_erm",
    "diff_ci_low",
    "diff_ci_high",
    "wins",
    "ties",
    "losses",
];

/// The tidy-CSV cells of a paired difference: mean, 95% interval bounds, wins, ties, losses
/// (empty without one, e.g. for the baseline itself).
pub fn difference_cells(d: Option<&PairedDifference>) -> [String; 6] {
    d.map_or_else(Default::default, |d| {
        let [mean, low, high] = [d.mean, d.ci_low, d.ci_high].map(|v| v.to_string());
        let [wins, ties, losses] = [d.wins, d.ties, d.losses].map(|n| n.to_string());
        [mean, low, high, wins, ties, losses]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::paired_difference;

    fn sample() -> Table {
        let mut t = Table::new(["method", "test acc (%)", "Δ vs ERM", "W/T/L", "note"]);
        t.push_row(["ERM", "84.96 ± 0.31", "", "", "baseline"]);
        t.push_row([
            "RGD",
            "85.31 ± 0.42",
            "+0.35 [-0.10, +0.80]",
            "3/1/1",
            "a|b",
        ]);
        t.push_row(["TERM", "-", "", "", ""]);
        t
    }

    #[test]
    fn markdown_is_exact() {
        let mut t = sample();
        t.rows[2][1] = String::new();
        t.push_row(["extra", "NaN", "—", "", "", "x"]);
        let expected = "\
| method | test acc (%) |             Δ vs ERM | W/T/L | note     |     |
| ------ | -----------: | -------------------: | ----: | -------- | --- |
| ERM    | 84.96 ± 0.31 |                      |       | baseline |     |
| RGD    | 85.31 ± 0.42 | +0.35 [-0.10, +0.80] | 3/1/1 | a\\|b     |     |
| TERM   |              |                      |       |          |     |
| extra  |          NaN |                    — |       |          | x   |
";
        assert_eq!(t.to_markdown(), expected);
    }

    #[test]
    fn placeholders_keep_and_text_breaks_numeric_alignment() {
        let md = sample().to_markdown();
        assert!(md.contains("| ------ | -----------: |"), "{md}");
        let mut t = sample();
        t.rows[2][1] = "diverged".into();
        let md = t.to_markdown();
        assert!(md.contains("| ------ | ------------ |"), "{md}");
    }

    #[test]
    fn csv_is_exact() {
        let expected = "\
method,test acc (%),Δ vs ERM,W/T/L,note
ERM,84.96 ± 0.31,,,baseline
RGD,85.31 ± 0.42,\"+0.35 [-0.10, +0.80]\",3/1/1,a|b
TERM,-,,,
";
        assert_eq!(sample().to_csv(), expected);
        let mut ragged = Table::new(["a"]);
        ragged.push_row(["1", "2"]);
        assert_eq!(ragged.to_csv(), "a,\n1,2\n");
    }

    #[test]
    fn terminal_has_no_escape_codes_and_aligns_numbers() {
        let out = sample().to_terminal();
        assert!(!out.contains('\u{1b}'));
        assert!(
            out.contains("| RGD    | 85.31 ± 0.42 | +0.35 [-0.10, +0.80] | 3/1/1 | a|b      |"),
            "{out}"
        );
        assert!(out.contains("|                      |       |"), "{out}");
    }

    #[test]
    fn number_formats() {
        assert_eq!(fmt_mean_std(&[0.85, 0.86], 100.0, 2), "85.50 ± 0.71");
        assert_eq!(fmt_mean_std(&[0.85, 0.86], 1.0, 0), "1 ± 0");
        let d = PairedDifference {
            n: 5,
            mean: 0.0035,
            std: 0.004,
            ci_low: -0.001,
            ci_high: 0.008,
            wins: 3,
            ties: 1,
            losses: 1,
        };
        assert_eq!(fmt_diff_ci(&d, 100.0, 2), "+0.35 [-0.10, +0.80]");
        assert_eq!(fmt_wtl(&d), "3/1/1");
        let tiny = PairedDifference {
            mean: -1e-9,
            ci_low: -0.004,
            ..d
        };
        assert_eq!(fmt_diff_ci(&tiny, 1.0, 2), "+0.00 [+0.00, +0.01]");
        let single = paired_difference(&[0.9], &[0.8], 0.0, 0.95).unwrap();
        assert_eq!(fmt_diff_ci(&single, 100.0, 1), "+10.0 [+10.0, +10.0]");
    }
}
