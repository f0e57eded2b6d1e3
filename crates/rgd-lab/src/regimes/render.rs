//! The map in words and numbers: `results.md` (the reading rule, the paired differences per
//! training length, their readings, ERM's own curve and seed 0's tau exploration) and the
//! tidy `map.csv`, both from the records alone.

use std::path::Path;

use crate::LabError;
use crate::metrics::Evaluation;
use crate::report::Table;
use crate::suite::provenance::Provenance;
use crate::suite::records::{load_records, summaries};
use crate::suite::tables::Records;

use super::design::{Design, FIXED, design};
use super::map::{
    CONFIRMATORY_SEEDS, Cell, DECISIVE_POINTS, FDR, Map, Verdict, at_length, choose, map, regimes,
    tau_exploration,
};

fn length_headers(first: &[&str], design: &Design) -> Vec<String> {
    (first.iter().map(|s| s.to_string()))
        .chain(design.lengths.iter().map(|e| format!("{e} ep")))
        .collect()
}

fn signed(v: f64) -> String {
    format!("{v:+.2}")
}

/// The rows of `part`'s cells: one per (data regime, comparison) in map order, one column per
/// length (the map holds each row's cells together).
fn cell_rows<'a>(design: &Design, map: &'a Map, index: usize) -> Vec<Vec<Option<&'a Cell>>> {
    let same = |a: &Cell, b: &Cell| a.data == b.data && a.comparison == b.comparison;
    (map.cells.chunk_by(same).filter(|row| row[0].part == index))
        .map(|row| {
            let at = move |&e: &u64| row.iter().find(|c| c.epochs == e);
            design.lengths.iter().map(at).collect()
        })
        .collect()
}

fn name_of(cell: &Cell) -> String {
    match cell.comparison.as_str() {
        "rgd" => format!("rgd ({})", cell.setting),
        FIXED => format!("rgd fixed ({})", cell.setting),
        peer => format!("best peer: {peer}"),
    }
}

/// The differences and the readings of one part.
fn differences(design: &Design, map: &Map, index: usize) -> (Table, Table) {
    let headers = length_headers(&["data", "method − ERM", "seeds"], design);
    let (mut diffs, mut readings) = (Table::new(headers.clone()), Table::new(headers));
    for cells in cell_rows(design, map, index) {
        let Some(first) = cells.iter().flatten().next() else {
            continue;
        };
        let seeds = cells.iter().flatten().map(|c| c.diff.n).max().unwrap_or(0);
        let head = [first.data.clone(), name_of(first), seeds.to_string()];
        let fmt = |f: &dyn Fn(&Cell) -> String| {
            (head.iter().cloned())
                .chain(cells.iter().map(|c| c.map_or("-".into(), f)))
                .collect::<Vec<_>>()
        };
        diffs.push_row(fmt(&|c| match c.diff {
            d if d.n < 2 => signed(d.mean),
            d => format!(
                "{} [{}, {}]",
                signed(d.mean),
                signed(d.ci_low),
                signed(d.ci_high)
            ),
        }));
        readings.push_row(fmt(&|c| match (c.verdict, c.corrected) {
            (Verdict::Helps | Verdict::Hurts, Some((lo, hi))) => {
                format!("{} [{}, {}]", c.verdict.words(), signed(lo), signed(hi))
            }
            (v, _) => v.words(),
        }));
    }
    (diffs, readings)
}

/// A value read from an evaluation.
type ValueOf<'a> = &'a dyn Fn(&Evaluation) -> Option<f64>;

/// ERM's own curve: training accuracy and the test metric, mean over seeds, per length, of
/// the part at `index`.
fn erm_curve(design: &Design, index: usize, records: &Records) -> Table {
    let mut table = Table::new(length_headers(&["data", "ERM"], design));
    for (_, part, data, runs) in regimes(design, records).filter(|r| r.0 == index) {
        let metric = part.report[0];
        let Some(erm) = choose(part, runs).and_then(|c| runs.get("erm")?.get(&c.erm.0)) else {
            continue;
        };
        let mean = |f: ValueOf, e: u64| {
            let v: Vec<f64> = (erm.values())
                .filter_map(|s| f(at_length(part, s, e)?))
                .collect();
            match v.is_empty() {
                true => "-".to_string(),
                false => format!("{:.2}", 100.0 * v.iter().sum::<f64>() / v.len() as f64),
            }
        };
        let test_name = format!("test {} (%)", metric.name());
        let train = |e: &Evaluation| e.train.map(|t| t.accuracy);
        let test = |e: &Evaluation| Some(metric.of(&e.test));
        let rows: [(&str, ValueOf); 2] = [
            ("training accuracy on its labels (%)", &train),
            (&test_name, &test),
        ];
        for (name, f) in rows {
            let cells = design.lengths.iter().map(|&e| mean(f, e));
            table.push_row(
                [data.label.clone(), name.to_string()]
                    .into_iter()
                    .chain(cells),
            );
        }
    }
    table
}

/// Seed 0's RGD − ERM at every tau of the grid, of the part at `index`.
fn taus(design: &Design, index: usize, records: &Records) -> Table {
    let mut table = Table::new(length_headers(&["data", "RGD setting"], design));
    for (_, part, data, runs) in regimes(design, records).filter(|r| r.0 == index) {
        for (label, row) in tau_exploration(design, part, runs) {
            let cells = row.into_iter().map(|v| v.map_or("-".into(), signed));
            table.push_row([data.label.clone(), label].into_iter().chain(cells));
        }
    }
    table
}

fn rule(map: &Map) -> String {
    format!(
        "How to read it: every cell is the paired per-seed difference in test points of a \
         method to ERM after that many epochs, with its 95% t-interval over seeds. With at least \
         {CONFIRMATORY_SEEDS} seeds a cell *helps* or *hurts* where the difference survives the \
         Benjamini-Hochberg correction over all {} such cells of the map (false-discovery rate \
         {:.0}%; the bracket then is the Benjamini-Yekutieli adjusted interval); it reads \
         *uncorrected only* where the uncorrected interval excludes zero but the correction does \
         not keep it; it *cannot tell* where the minimum detectable effect (paired t-test, 5% two-sided, 80% power, from the \
         measured seed spread) exceeds {DECISIVE_POINTS} point; otherwise there is *no effect* \
         larger than that minimum. Cells with fewer seeds (seed 0's tau exploration) are \
         exploratory. {} of {} cells survive the correction.",
        map.family,
        100.0 * FDR,
        map.rejected,
        map.family,
    )
}

/// Renders the suite at `out` from its records and `meta.json`: the markdown of `results.md`.
pub fn render(out: &Path, meta: &Provenance) -> Result<String, LabError> {
    let design = design(meta.quick);
    let records: Records = load_records(out)?;
    crate::numerics::one_version(summaries(&records), &out.display().to_string())?;
    let map = map(&design, &records);
    let mut sections = vec![
        meta.line(
            " (of the invocations that finished a stage)",
            "training time",
            summaries(&records).count(),
            summaries(&records).map(|r| r.wall_secs).sum(),
        ),
        rule(&map),
    ];
    for (index, part) in design.parts.iter().enumerate() {
        if !part.title.is_empty() {
            sections.push(format!("### {}", part.title));
        }
        sections.push(format!("Setup: {}.", part.notes));
        let (diffs, readings) = differences(&design, &map, index);
        let metric = part.report[0].name();
        let of_map = |what: &str| {
            format!("Method − ERM in test {metric}, {what} (pts) after each training length")
        };
        for (what, table) in [
            (of_map("difference"), diffs),
            (of_map("reading"), readings),
            (
                "ERM's own curve, mean over seeds".into(),
                erm_curve(&design, index, &records),
            ),
            (
                "Seed 0 (exploratory): RGD − ERM (pts) at every tau".into(),
                taus(&design, index, &records),
            ),
        ] {
            if !table.rows.is_empty() {
                sections.push(format!("{what}:\n\n{}", table.to_markdown().trim_end()));
            }
        }
    }
    Ok(sections.join("\n\n") + "\n")
}

/// The map of the suite at `out` (run `--quick` or not) as a tidy CSV: one row per cell.
pub fn tidy(out: &Path, quick: bool) -> Result<String, LabError> {
    let design = design(quick);
    let map = map(&design, &load_records(out)?);
    let mut table = Table::new([
        "data",
        "comparison",
        "setting",
        "epochs",
        "metric",
        "seeds",
        "diff_mean",
        "diff_ci_low",
        "diff_ci_high",
        "p_value",
        "mde",
        "corrected_low",
        "corrected_high",
        "reading",
    ]);
    let number = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.4}"));
    for c in &map.cells {
        table.push_row([
            c.data.clone(),
            c.comparison.clone(),
            c.setting.clone(),
            c.epochs.to_string(),
            c.metric.name().to_string(),
            c.diff.n.to_string(),
            number(Some(c.diff.mean)),
            number(Some(c.diff.ci_low)),
            number(Some(c.diff.ci_high)),
            number(c.p),
            number(c.mde),
            number(c.corrected.map(|c| c.0)),
            number(c.corrected.map(|c| c.1)),
            c.verdict.words(),
        ]);
    }
    Ok(table.to_csv())
}
