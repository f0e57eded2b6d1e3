//! A suite part's numbers: `results.csv` (tidy, numbers as numbers) and `summary.svg` (a forest
//! plot of the paired differences to ERM).
//!
//! One row per (data set, method) at the method's validation-selected setting: the test
//! metric's mean and sample sd over seeds (fractions, not percent), the seed count, the paired
//! per-seed difference to ERM with its 95% t-interval and wins / ties / losses (empty for ERM
//! itself), and the selected setting both as its folder label and one column per tuned key
//! (`optim.lr`, `method.rule.tau`, ...; empty where a method has no such key). The markdown
//! tables are the formatted view of the same numbers.

use std::collections::BTreeSet;
use std::path::Path;

use crate::LabError;
use crate::plot::Interval;
use crate::report::{DIFFERENCE_COLUMNS, Table, difference_cells, mean_sd_cells};
use crate::run_dir::read_json;
use crate::run_plots::Figure;
use crate::stats::{METRIC_TIE, PairedDifference, paired_difference, summarize};
use crate::suite::catalog::{Metric, Part, Setting, knob, settings, suite};
use crate::suite::provenance::Provenance;
use crate::suite::records::load_records;
use crate::suite::tables::{Records, records_of, seed_count, selected};

/// One (data set, method) at its selected setting.
pub(crate) struct Row {
    pub(crate) data_set: String,
    pub(crate) method: String,
    pub(crate) setting: String,
    /// The selected value of each tuned key (empty where the method has none).
    knobs: Vec<String>,
    pub(crate) test_n: usize,
    pub(crate) tests: Vec<f64>,
    /// The paired difference to ERM (none for ERM, or without ERM).
    pub(crate) diff: Option<PairedDifference>,
}

/// The tuned keys of `part` and its rows in `metric` (finished data sets only).
pub(crate) fn rows(records: &Records, part: &Part, metric: Metric) -> (Vec<String>, Vec<Row>) {
    let keys: BTreeSet<String> = (part.methods.iter())
        .flat_map(|m| settings(m, part))
        .flat_map(|(_, overrides)| overrides)
        .filter_map(|o| o.split_once('=').map(|(k, _)| k.to_string()))
        .collect();
    let keys: Vec<String> = keys.into_iter().collect();
    let seeds = seed_count(records);
    let mut rows = Vec::new();
    for (data, by_method) in records {
        let chosen: Vec<(Setting, Vec<f64>)> = (part.methods.iter())
            .filter_map(|m| selected(by_method, m, part))
            .filter(|(_, runs)| runs.len() >= seeds)
            .map(|(setting, runs)| {
                let tests = runs.iter().map(|s| metric.of(&s.selected.test)).collect();
                (setting, tests)
            })
            .collect();
        if chosen.len() < part.methods.len() {
            continue; // an unfinished data set
        }
        let test_n = (by_method.values().next())
            .and_then(|s| s.values().next())
            .and_then(|s| s.values().next())
            .map_or(0, |s| s.sizes[2]);
        let erm = part.methods.iter().position(|m| *m == "erm");
        for (method, ((label, overrides), tests)) in part.methods.iter().zip(&chosen) {
            let knobs = keys.iter().map(|key| knob(overrides, key)).collect();
            let diff = erm
                .filter(|&e| part.methods[e] != *method)
                .and_then(|e| paired_difference(tests, &chosen[e].1, METRIC_TIE, 0.95));
            rows.push(Row {
                data_set: data.clone(),
                method: method.to_string(),
                setting: label.clone(),
                knobs,
                test_n,
                tests: tests.clone(),
                diff,
            });
        }
    }
    (keys, rows)
}

/// The tidy table of `part` in `metric` (finished data sets only).
pub(crate) fn tidy(records: &Records, part: &Part, metric: Metric) -> Table {
    let (keys, rows) = rows(records, part, metric);
    let mut headers: Vec<String> = ["data_set", "method", "metric", "setting"]
        .map(String::from)
        .to_vec();
    headers.extend(keys);
    headers.extend(
        (["test_n", "seeds", "test_mean", "test_sd"].into_iter())
            .chain(DIFFERENCE_COLUMNS)
            .map(String::from),
    );
    let mut table = Table::new(headers);
    for row in rows {
        let mut cells = vec![
            row.data_set,
            row.method,
            metric.name().to_string(),
            row.setting,
        ];
        cells.extend(row.knobs);
        cells.push(row.test_n.to_string());
        cells.push(row.tests.len().to_string());
        cells.extend(mean_sd_cells(summarize(&row.tests).as_ref()));
        cells.extend(difference_cells(row.diff.as_ref()));
        table.push_row(cells);
    }
    table
}

/// Draws `summary[-<slug>].svg` of every part of the suite at `out` (from its records) into
/// `dest`: a forest plot of each method's paired difference to ERM per data set in the part's
/// first metric. The meta suite has none, the regime map its own ([`crate::regimes::plots`]).
pub fn forest_plots(out: &Path, dest: &Path) -> Result<Vec<Figure>, LabError> {
    let meta: Provenance = read_json(&out.join("meta.json"))?;
    match meta.suite.as_str() {
        "meta" => return Ok(Vec::new()),
        "regimes" => return crate::regimes::plots::figures(out, dest, meta.quick),
        _ => {}
    }
    let records: Records = load_records(out)?;
    let mut figures = Vec::new();
    for part in suite(&meta.suite, meta.quick)? {
        let file = part.file("summary", "svg");
        let metric = part.report[0];
        let (_, rows) = rows(&records_of(&records, &part), &part, metric);
        let seeds = rows.first().map_or(0, |r| r.tests.len());
        let diffs = (rows.into_iter())
            .filter_map(|r| Some((format!("{} · {}", r.data_set, r.method), r.diff?)));
        if difference_plot(&dest.join(&file), seeds, metric.name(), diffs)? {
            figures.push(Figure {
                file,
                caption: format!(
                    "{}aired per-seed differences to ERM in test {} with 95% intervals.",
                    match part.title {
                        "" => "P".to_string(),
                        title => format!("{title}: p"),
                    },
                    metric.name()
                ),
            });
        }
    }
    Ok(figures)
}

/// A forest plot of paired per-seed differences to ERM over `seeds` seeds in test `metric`, a
/// row per (label, difference) with its 95% interval, in points, and the zero line. Returns
/// whether there was anything to draw (there is not without a difference).
pub(crate) fn difference_plot(
    path: &Path,
    seeds: usize,
    metric: &str,
    diffs: impl IntoIterator<Item = (String, PairedDifference)>,
) -> Result<bool, LabError> {
    let intervals: Vec<Interval> = (diffs.into_iter())
        .map(|(label, d)| Interval {
            label,
            estimate: 100.0 * d.mean,
            low: 100.0 * d.ci_low,
            high: 100.0 * d.ci_high,
        })
        .collect();
    if intervals.is_empty() {
        return Ok(false);
    }
    crate::plot::forest_plot(
        path,
        &format!("Method − ERM, paired over {seeds} seeds (95% interval)"),
        &format!("test {metric} difference (percentage points)"),
        &intervals,
    )?;
    Ok(true)
}
