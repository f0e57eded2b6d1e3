//! A suite's tables, plots and rendered markdown, from its records alone: each method at the
//! setting selected on validation, mean ± sd over seeds, paired differences to ERM, and where
//! the weight went.

use std::collections::BTreeMap;
use std::path::Path;

use crate::LabError;
use crate::report::{Table, fmt_diff_ci, fmt_mean_std, fmt_wtl};
use crate::run_dir::read_json;
use crate::stats::{
    METRIC_TIE, average_ranks, paired_difference, snap_to_tie, summarize, wilcoxon_signed_rank,
};
use crate::suite::catalog::{Metric, Part, Setting, SuiteConfig, folder_name, settings, suite};
use crate::suite::provenance::Provenance;
use crate::suite::records::{RecordsOf, load_records, summaries};
use crate::suite::tidy::rows;
use crate::sweep::{Ties, best};
use crate::train::Summary;
use crate::weight_trace::WeightSnapshot;

/// The records of the supervised suites.
pub(crate) type Records = RecordsOf<Summary>;

/// The records of `part`'s data sets.
pub(crate) fn records_of(records: &Records, part: &Part) -> Records {
    let names: Vec<String> = part.data.iter().map(|d| folder_name(&d.label)).collect();
    (records.iter())
        .filter(|(data, _)| names.contains(data))
        .map(|(data, r)| (data.clone(), r.clone()))
        .collect()
}

/// method -> setting -> seed -> summary: the records of one data set.
pub(crate) type DataRecords<S = Summary> = BTreeMap<String, BTreeMap<String, BTreeMap<u64, S>>>;

/// The best of `methods`' settings on one data set, as (method, setting): the best seed-0 score
/// ([`SuiteConfig::score`]), then the earlier setting in grid order (as at run time).
pub(crate) fn best_of<C: SuiteConfig>(
    part: &Part<C>,
    records: &DataRecords<C::Summary>,
    methods: &[&str],
) -> Option<(String, Setting)> {
    let candidates = (methods.iter()).flat_map(|&m| {
        (settings(m, part).into_iter()).filter_map(move |setting| {
            let s = records.get(m)?.get(&setting.0)?.get(&0)?;
            Some((C::score(part, s), (m.to_string(), setting)))
        })
    });
    best(candidates, Ties::First)
}

/// The selected setting of `method` on one data set ([`best_of`]), with its runs in seed order.
pub(crate) fn selected<'a, C: SuiteConfig>(
    records: &'a DataRecords<C::Summary>,
    method: &str,
    part: &Part<C>,
) -> Option<(Setting, Vec<&'a C::Summary>)> {
    let (_, setting) = best_of(part, records, &[method])?;
    let runs = records[method][&setting.0].values().collect();
    Some((setting, runs))
}

/// The tables of `part` in `metric`, at each method's validation-selected setting: per data
/// set each method's mean ± sd over seeds (with several data sets also the mean over sets, the
/// average rank and Wilcoxon's p against ERM), and RGD − ERM per data set, paired by seed.
pub(crate) fn tables(records: &Records, part: &Part, metric: Metric) -> (Table, Table) {
    let methods = &part.methods;
    let mut headers = vec!["data set".to_string(), "test n".into()];
    headers.extend(methods.iter().map(|m| format!("{m} (%)")));
    let mut main = Table::new(headers);
    let mut paired = Table::new([
        "data set",
        "RGD setting",
        "RGD − ERM (pts, 95% CI over seeds)",
        "W/T/L",
    ]);
    let mut means: Vec<Vec<f64>> = vec![Vec::new(); methods.len()];
    let mut ranks: Vec<Vec<f64>> = vec![Vec::new(); methods.len()];
    let mut finished_sets: Vec<&str> = Vec::new();
    // Unfinished data sets have no rows: `render` lists them.
    let (_, rows) = rows(records, part, metric);
    for set in rows.chunks(methods.len()) {
        let data = &set[0].data_set;
        let mut row = vec![data.clone(), set[0].test_n.to_string()];
        let set_means: Vec<f64> = (set.iter())
            .map(|r| summarize(&r.tests).map_or(f64::NAN, |s| snap_to_tie(s.mean)))
            .collect();
        row.extend(set.iter().map(|r| fmt_mean_std(&r.tests, 100.0, 2)));
        for (i, rank) in average_ranks(&set_means, true).into_iter().enumerate() {
            means[i].push(set_means[i]);
            ranks[i].push(rank);
        }
        main.push_row(row);
        finished_sets.push(data);
        if let Some(rgd) = set.iter().find(|r| r.method == "rgd")
            && let Some(d) = rgd.diff
        {
            paired.push_row([
                data.clone(),
                rgd.setting.clone(),
                fmt_diff_ci(&d, 100.0, 2),
                fmt_wtl(&d),
            ]);
        }
    }
    family_rows(&mut main, &part.families, &finished_sets, &means);
    // One finished set has nothing to summarise across sets.
    if finished_sets.len() >= 2 {
        across_sets_rows(&mut main, methods, &means, &ranks);
    }
    (main, paired)
}

/// Per family of data sets (e.g. the domains of `rotated-mnist`), each method's average and
/// worst mean over the family's finished sets.
fn family_rows(main: &mut Table, families: &[&str], finished_sets: &[&str], means: &[Vec<f64>]) {
    for family in families {
        let of_family: Vec<usize> = (0..finished_sets.len())
            .filter(|&k| finished_sets[k].starts_with(family))
            .collect();
        if of_family.is_empty() {
            continue;
        }
        let name = family.trim_end_matches('_');
        let mut average = vec![format!("{name} average"), String::new()];
        let mut worst = vec![format!("{name} worst domain"), String::new()];
        for set_means in means {
            let v: Vec<f64> = of_family.iter().map(|&k| set_means[k]).collect();
            average.push(format!(
                "{:.2}",
                100.0 * v.iter().sum::<f64>() / v.len() as f64
            ));
            worst.push(format!(
                "{:.2}",
                100.0 * v.iter().copied().fold(f64::INFINITY, f64::min)
            ));
        }
        main.push_row(average);
        main.push_row(worst);
    }
}

/// The mean over sets, the average rank and Wilcoxon's p against ERM of each method.
fn across_sets_rows(main: &mut Table, methods: &[&str], means: &[Vec<f64>], ranks: &[Vec<f64>]) {
    let erm = methods.iter().position(|m| *m == "erm");
    let mut mean_row = vec!["mean over sets".to_string(), String::new()];
    let mut rank_row = vec!["average rank".to_string(), String::new()];
    let mut wilcoxon_row = vec!["Wilcoxon p vs ERM".to_string(), String::new()];
    for i in 0..methods.len() {
        mean_row
            .push(summarize(&means[i]).map_or("-".into(), |s| format!("{:.2}", s.mean * 100.0)));
        rank_row.push(summarize(&ranks[i]).map_or("-".into(), |s| format!("{:.2}", s.mean)));
        let p = erm.filter(|&e| e != i).and_then(|e| {
            let diffs: Vec<f64> = means[i]
                .iter()
                .zip(&means[e])
                .map(|(a, b)| snap_to_tie(a - b))
                .collect();
            wilcoxon_signed_rank(&diffs)
        });
        wilcoxon_row.push(p.map_or("-".into(), |w| format!("{:.3}", w.p_value)));
    }
    main.push_row(mean_row);
    main.push_row(rank_row);
    main.push_row(wilcoxon_row);
}

/// The number of seeds of the suite: the most any setting has.
pub(crate) fn seed_count(records: &Records) -> usize {
    records
        .values()
        .flat_map(|m| m.values())
        .flat_map(|s| s.values())
        .map(|r| r.len())
        .max()
        .unwrap_or(0)
}

/// Renders a suite's results (tables and provenance) from its records alone.
pub fn render(out: &Path) -> Result<String, LabError> {
    let meta: Provenance = read_json(&out.join("meta.json"))?;
    match meta.suite.as_str() {
        "meta" => return crate::meta::suite::render(out, &meta),
        "regimes" => return crate::regimes::render::render(out, &meta),
        _ => {}
    }
    let parts = suite(&meta.suite, meta.quick)?;
    let records: Records = load_records(out)?;
    crate::numerics::one_version(summaries(&records), &out.display().to_string())?;
    let runs = summaries(&records).count();
    let rendered: Vec<String> = (parts.iter())
        .map(|part| {
            let body = render_part(&records_of(&records, part), part);
            match part.title {
                "" => body,
                title => format!("### {title}\n\n{body}"),
            }
        })
        .collect();
    let line = meta.line("", "training time", runs, meta.training_secs);
    Ok(format!("{line}\n\n{}", rendered.join("\n")))
}

/// One part's setup line and tables.
pub(crate) fn render_part(records: &Records, part: &Part) -> String {
    let seeds = seed_count(records);
    let mut sections = Vec::new();
    let mut finished: Vec<String> = Vec::new();
    for (k, &metric) in part.report.iter().enumerate() {
        let (main, paired) = tables(records, part, metric);
        finished = main.rows.iter().map(|r| r[0].clone()).collect();
        sections.push(format!(
            "Test {} (%):\n\n{}",
            metric.name(),
            main.to_markdown()
        ));
        if k == 0 {
            sections.push(format!(
                "Paired per-seed differences of RGD to ERM in test {} (percentage points, 95% \
                 t-interval over seeds):\n\n{}",
                metric.name(),
                paired.to_markdown()
            ));
        }
    }
    if part.base.train.eval_train {
        sections.push(end_table(records, part, &finished));
    }
    if part.weight_tables {
        sections.push(weight_tables(records, part, &finished));
    }
    let pending: Vec<&str> = records
        .keys()
        .map(String::as_str)
        .filter(|d| !finished.iter().any(|f| f == d))
        .collect();
    let pending = if pending.is_empty() {
        String::new()
    } else {
        format!(
            "\n\nNot finished when these records were written (left out of the tables): {}.",
            pending.join(", ")
        )
    };
    let setup = format!(
        "{}. {}",
        part.notes,
        crate::suite::setup::training_line(part)
    );
    let across = match records.keys().filter(|d| finished.contains(d)).count() {
        0 => {
            return format!(
                "Setup: {setup}.{pending}\n\nNo data set of this part has finished yet.\n"
            );
        }
        1 => "",
        _ => "; rank 1 = best; the Wilcoxon signed-rank test pairs the per-set means with ERM's",
    };
    format!(
        "Setup: {setup}.{pending}\n\nEach method at the setting selected on validation {} (seed \
         0); mean ± sd over {seeds} seeds{across}.\n\n{}",
        part.select.name(),
        sections.join("\n"),
    )
}

/// Where training ended, each method at its selected setting, mean ± sd over seeds: the epoch
/// of the selected (best-validation) evaluation, the test metric there and at the last
/// evaluation, the last evaluation's paired difference to ERM, and the training-split accuracy
/// against the training labels at the end (of a part whose config sets `train.eval_train`). A
/// model that memorised flipped labels has a training accuracy near 100% and a last test
/// accuracy below its selected one.
pub(crate) fn end_table(records: &Records, part: &Part, finished: &[String]) -> String {
    let metric = part.report[0];
    let mut table = Table::new([
        "data set".to_string(),
        "method".into(),
        "selected at epoch".into(),
        format!("test {} there (%)", metric.name()),
        format!("test {} at the end (%)", metric.name()),
        "− ERM at the end (pts, 95% CI)".into(),
        "training accuracy at the end (%)".into(),
    ]);
    for (data, by_method) in records.iter().filter(|(d, _)| finished.contains(d)) {
        let runs_of = |method: &str| selected(by_method, method, part).map(|(_, runs)| runs);
        let last_of = |runs: &[&Summary]| -> Vec<f64> {
            runs.iter().map(|s| metric.of(&s.last.test)).collect()
        };
        let erm_last = runs_of("erm").map(|runs| last_of(&runs));
        for method in &part.methods {
            let Some(runs) = runs_of(method) else {
                continue;
            };
            let batch = part.base.train.batch_size as f64;
            let epochs: Vec<f64> = runs
                .iter()
                .map(|s| s.selected.step as f64 * batch / s.sizes[0] as f64)
                .collect();
            let last = last_of(&runs);
            let versus_erm = match (&erm_last, *method) {
                (_, "erm") | (None, _) => "-".to_string(),
                (Some(erm), _) => paired_difference(&last, erm, METRIC_TIE, 0.95)
                    .map_or("-".into(), |d| fmt_diff_ci(&d, 100.0, 2)),
            };
            let train: Vec<f64> = runs
                .iter()
                .filter_map(|s| s.last.train.as_ref().map(|m| m.accuracy))
                .collect();
            let there: Vec<f64> = runs.iter().map(|s| metric.of(&s.selected.test)).collect();
            table.push_row([
                data.clone(),
                method.to_string(),
                fmt_mean_std(&epochs, 1.0, 1),
                fmt_mean_std(&there, 100.0, 2),
                fmt_mean_std(&last, 100.0, 2),
                versus_erm,
                fmt_mean_std(&train, 100.0, 2),
            ]);
        }
    }
    format!(
        "Where training ended, at the selected setting (mean ± sd over seeds): the \
         best-validation evaluation the tables above report, the last evaluation, and the \
         training accuracy against the training labels (the noisy ones) at the end:\n\n{}",
        table.to_markdown()
    )
}

/// Where each method's weight went (from the runs' weight traces, at the selected setting, mean
/// over seeds): the share of the total weight on flipped labels early, midway and at the end of
/// training, and each class's mean weight relative to the overall mean in the last window.
pub(crate) fn weight_tables(records: &Records, part: &Part, finished: &[String]) -> String {
    let mut shares = Table::new([
        "data set",
        "method",
        "flipped (% of examples)",
        "weight on flipped: first window (%)",
        "midway (%)",
        "last window (%)",
    ]);
    let mut classes: Option<Table> = None;
    for (data, by_method) in records.iter().filter(|(d, _)| finished.contains(d)) {
        for method in &part.methods {
            let Some((_, runs)) = selected(by_method, method, part) else {
                continue;
            };
            let traces: Vec<&Vec<WeightSnapshot>> = (runs.iter())
                .map(|s| &s.weight_trace)
                .filter(|t| !t.is_empty())
                .collect();
            if traces.is_empty() {
                continue;
            }
            let mean_at = |pick: &dyn Fn(&Vec<WeightSnapshot>) -> Option<f64>| {
                let v: Vec<f64> = traces.iter().filter_map(|t| pick(t)).collect();
                summarize(&v).map_or("-".into(), |s| format!("{:.1}", 100.0 * s.mean))
            };
            shares.push_row([
                data.clone(),
                method.to_string(),
                mean_at(&|t| {
                    let v: Vec<f64> = t.iter().filter_map(|s| s.flipped_fraction).collect();
                    summarize(&v).map(|s| s.mean)
                }),
                mean_at(&|t| t[0].flipped_weight_share),
                mean_at(&|t| t[t.len() / 2].flipped_weight_share),
                mean_at(&|t| t[t.len() - 1].flipped_weight_share),
            ]);
            if *method == "erm" {
                continue; // every weight is 1
            }
            let n_classes = traces[0].last().map_or(0, |s| s.class_mean_weight.len());
            let table = classes.get_or_insert_with(|| {
                let mut headers = vec!["data set".to_string(), "method".into()];
                headers.extend((0..n_classes).map(|c| format!("class {c}")));
                Table::new(headers)
            });
            let mut row = vec![data.clone(), method.to_string()];
            for c in 0..n_classes {
                let v: Vec<f64> = traces
                    .iter()
                    .filter_map(|t| {
                        let last = t.last()?;
                        Some(last.class_mean_weight.get(c).copied()?? / last.mean_weight)
                    })
                    .collect();
                row.push(summarize(&v).map_or("-".into(), |s| format!("{:.2}", s.mean)));
            }
            table.push_row(row);
        }
    }
    let mut out = format!(
        "Share of the total weight on training examples with flipped labels, at the selected \
         setting, mean over seeds (windows: the steps between two evaluations; under ERM the \
         share equals the flipped fraction):\n\n{}",
        shares.to_markdown()
    );
    if let Some(classes) = classes {
        out += &format!(
            "\nMean weight of each observed (noisy) class relative to the mean weight, last \
             window, mean over seeds (ERM: all 1):\n\n{}",
            classes.to_markdown()
        );
    }
    out
}
