//! A suite part's `results.csv`: tidy, numbers as numbers.
//!
//! One row per (data set, method) at the method's validation-selected setting: the test
//! metric's mean and sample sd over seeds (fractions, not percent), the seed count, the paired
//! per-seed difference to ERM with its 95% t-interval and wins / ties / losses (empty for ERM
//! itself), and the selected setting both as its folder label and one column per tuned key
//! (`optim.lr`, `method.rule.tau`, ...; empty where a method has no such key). The markdown
//! tables are the formatted view of the same numbers.

use std::collections::BTreeSet;

use crate::report::Table;
use crate::stats::{METRIC_TIE, paired_difference, summarize};
use crate::suite::catalog::{Metric, Part, grid_labels, settings};
use crate::suite::tables::{Records, seed_count, selected};

/// The tidy table of `part` in `metric` (finished data sets only).
pub(crate) fn tidy(records: &Records, part: &Part, metric: Metric) -> Table {
    let keys: BTreeSet<String> = (part.methods.iter())
        .flat_map(|m| settings(m, part))
        .flat_map(|(_, overrides)| overrides)
        .filter_map(|o| o.split_once('=').map(|(k, _)| k.to_string()))
        .collect();
    let mut headers: Vec<String> = ["data_set", "method", "metric", "setting"]
        .map(String::from)
        .to_vec();
    headers.extend(keys.iter().cloned());
    headers.extend(
        [
            "test_n",
            "seeds",
            "test_mean",
            "test_sd",
            "diff_vs_erm",
            "diff_ci_low",
            "diff_ci_high",
            "wins",
            "ties",
            "losses",
        ]
        .map(String::from),
    );
    let mut table = Table::new(headers);
    let seeds = seed_count(records);
    let number = |v: f64| format!("{v}");
    for (data, by_method) in records {
        let chosen: Vec<Option<(&str, Vec<f64>)>> = (part.methods.iter())
            .map(|m| {
                (by_method.get(*m))
                    .and_then(|s| selected(s, &grid_labels(m, part), part.select, metric))
            })
            .filter(|c| c.as_ref().is_some_and(|(_, tests)| tests.len() >= seeds))
            .collect();
        if chosen.len() < part.methods.len() {
            continue; // an unfinished data set
        }
        let chosen: Vec<(&str, Vec<f64>)> = chosen.into_iter().flatten().collect();
        let test_n = (by_method.values().next())
            .and_then(|s| s.values().next())
            .and_then(|s| s.values().next())
            .map_or(0, |s| s.sizes[2]);
        let erm = part.methods.iter().position(|m| *m == "erm");
        for (method, (label, tests)) in part.methods.iter().zip(&chosen) {
            let overrides = (settings(method, part).into_iter())
                .find(|(l, _)| l == label)
                .map_or_else(Vec::new, |(_, o)| o);
            let mut row = vec![
                data.clone(),
                method.to_string(),
                metric.name().to_string(),
                label.to_string(),
            ];
            for key in &keys {
                row.push(
                    (overrides.iter())
                        .find_map(|o| o.strip_prefix(&format!("{key}=")))
                        .unwrap_or_default()
                        .to_string(),
                );
            }
            let s = summarize(tests);
            row.push(test_n.to_string());
            row.push(tests.len().to_string());
            row.push(s.as_ref().map_or(String::new(), |s| number(s.mean)));
            row.push(s.as_ref().map_or(String::new(), |s| number(s.std)));
            let d = erm
                .filter(|&e| part.methods[e] != *method)
                .and_then(|e| paired_difference(tests, &chosen[e].1, METRIC_TIE, 0.95));
            match d {
                Some(d) => row.extend([
                    number(d.mean),
                    number(d.ci_low),
                    number(d.ci_high),
                    d.wins.to_string(),
                    d.ties.to_string(),
                    d.losses.to_string(),
                ]),
                None => row.extend(std::iter::repeat_n(String::new(), 6)),
            }
            table.push_row(row);
        }
    }
    table
}
