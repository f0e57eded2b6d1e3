//! `rgd reproduce SUITE`: the paper's experiments at CPU scale, on real data, resumable.
//!
//! Protocol (method.md): same split, model, optimizer, schedule and steps for every method;
//! hyperparameters (learning rate, and tau for RGD) tuned on the validation split with seed 0;
//! then every seed at the selected setting; test accuracy reported as mean ± sd over seeds,
//! with paired per-seed differences to ERM. Each run's `config.toml` and `summary.json` are the
//! records: the tables are regenerated from them alone ([`render`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::LabError;
use crate::compare::{Method, run_or_reuse};
use crate::config::RunConfig;
use crate::report::{Table, fmt_diff_ci, fmt_mean_std, fmt_wtl};
use crate::run_dir::{read_json, write_atomic, write_json};
use crate::stats::{average_ranks, paired_difference, summarize, wilcoxon_signed_rank};
use crate::train::{RunOptions, Summary};

/// The suites `rgd reproduce` knows.
pub const SUITES: [&str; 1] = ["tabular"];

/// The KEEL development sets of the tabular suite (issue 5).
pub const TABULAR_SETS: [&str; 15] = [
    "magic",
    "letter",
    "phoneme",
    "satimage",
    "optdigits",
    "segment",
    "german",
    "chess",
    "splice",
    "marketing",
    "contraceptive",
    "titanic",
    "vehicle",
    "vowel",
    "pima",
];

/// Methods of the tabular suite, in table order; ERM first (the baseline).
const TABULAR_METHODS: [&str; 5] = ["erm", "rgd", "term", "absgd", "focal"];

/// The tau grid of method.md.
const TAUS: [(&str, f64); 5] = [
    ("1/9", 1.0 / 9.0),
    ("1/3", 1.0 / 3.0),
    ("1", 1.0),
    ("3", 3.0),
    ("10", 10.0),
];

/// One data set of a suite: its label and the config overrides that load it.
#[derive(Debug, Clone)]
struct DataSpec {
    label: String,
    overrides: Vec<String>,
}

/// What one suite runs.
#[derive(Debug, Clone)]
struct Suite {
    name: String,
    base: RunConfig,
    data: Vec<DataSpec>,
    methods: Vec<&'static str>,
    lrs: Vec<f64>,
    taus: Vec<(&'static str, f64)>,
    seeds: u64,
    notes: String,
}

/// Provenance of a suite's results (`results/<suite>/meta.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// The command that produced the records.
    pub command: String,
    /// CPU model and core count.
    pub machine: String,
    /// Wall time of the last invocation (seconds; finished runs are reused, not re-timed).
    pub wall_secs: f64,
    /// Sum of the training wall time recorded in every run's summary (seconds).
    pub training_secs: f64,
    /// What was reduced to fit the compute budget.
    pub notes: String,
}

fn tabular(quick: bool) -> Suite {
    let base = RunConfig::from_toml(
        r#"
[model]
hidden = [256, 256]
norm = "batch"
dropout = 0.1
[optim]
name = "adamw"
weight_decay = 0.01
schedule = "cosine"
warmup_steps = 20
[train]
batch_size = 128
epochs = 20
"#,
    )
    .expect("the suite's base config is valid");
    let data = if quick {
        vec![DataSpec {
            label: "magic (2000 rows)".into(),
            overrides: vec!["data.source=magic".into(), "data.max_train=2000".into()],
        }]
    } else {
        TABULAR_SETS
            .iter()
            .map(|&s| DataSpec {
                label: s.to_string(),
                // The embedded copy of magic is the KEEL file itself.
                overrides: vec![format!(
                    "data.source={}",
                    if s == "magic" {
                        "magic".into()
                    } else {
                        format!("keel/{s}")
                    }
                )],
            })
            .collect()
    };
    Suite {
        name: "tabular".into(),
        base,
        data,
        methods: TABULAR_METHODS.to_vec(),
        lrs: if quick { vec![1e-3] } else { vec![1e-3, 3e-3] },
        taus: if quick {
            TAUS[2..4].to_vec()
        } else {
            TAUS.to_vec()
        },
        seeds: if quick { 2 } else { 5 },
        notes: if quick {
            "quick mode: magic subsampled to 2000 training rows, tau in {1, 3}, lr 1e-3, 2 seeds"
                .into()
        } else {
            "MLP 256-256 with batch norm and dropout 0.1, AdamW (weight decay 0.01), cosine schedule \
             with 20 warm-up steps, batch 128, 20 epochs; split 70/15/15 stratified with split seed 0; \
             lr in {1e-3, 3e-3} for every method and tau in {1/9, 1/3, 1, 3, 10} for RGD, selected \
             on validation accuracy with seed 0; TERM tilt 1, ABSGD lambda 1 (gamma 0.9), focal \
             gamma 2; then seeds 0-4 at the selected setting"
                .into()
        },
    }
}

fn suite(name: &str, quick: bool) -> Result<Suite, LabError> {
    match name {
        "tabular" => Ok(tabular(quick)),
        other => Err(LabError::Config(format!(
            "unknown suite `{other}`; choose from {} or all",
            SUITES.join(", ")
        ))),
    }
}

/// The settings of a method: (folder label, overrides).
fn settings(method: &str, suite: &Suite) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for &lr in &suite.lrs {
        let lr_set = format!("optim.lr={lr}");
        if method == "rgd" {
            for &(label, tau) in &suite.taus {
                out.push((
                    format!("tau{}-lr{lr}", label.replace('/', "_")),
                    vec![lr_set.clone(), format!("method.rule.tau={tau}")],
                ));
            }
        } else {
            out.push((format!("lr{lr}"), vec![lr_set.clone()]));
        }
    }
    out
}

fn config_for(
    suite: &Suite,
    data: &DataSpec,
    method: &str,
    overrides: &[String],
    seed: u64,
) -> Result<RunConfig, LabError> {
    let m = Method::parse(method)?;
    let mut config = suite.base.with_overrides(&data.overrides)?;
    config.method.rule = m.rule;
    config.method.loss = m.loss;
    config.seed = seed;
    config.with_overrides(overrides)
}

fn folder(out: &Path, data: &str, method: &str, setting: &str, seed: u64) -> PathBuf {
    out.join("runs")
        .join(data.replace([' ', '(', ')'], ""))
        .join(method)
        .join(setting)
        .join(format!("seed{seed}"))
}

/// Runs (or resumes) a suite into `out`, then writes `results.md`, `results.csv` and
/// `summary.svg` there. Returns the rendered markdown.
pub fn run(name: &str, quick: bool, out: &Path, options: RunOptions) -> Result<String, LabError> {
    let suite = suite(name, quick)?;
    let started = Instant::now();
    let total = suite.data.len();
    for (i, data) in suite.data.iter().enumerate() {
        if options.verbosity == crate::progress::Verbosity::Normal {
            eprintln!("[{}/{total}] {}: {}", i + 1, suite.name, data.label);
        }
        for &method in &suite.methods {
            // Tune on seed 0, select on validation accuracy.
            let mut best: Option<(f64, String, Vec<String>)> = None;
            for (label, overrides) in settings(method, &suite) {
                let config = config_for(&suite, data, method, &overrides, 0)?;
                let s = run_or_reuse(
                    &config,
                    &folder(out, &data.label, method, &label, 0),
                    options,
                )?;
                if best
                    .as_ref()
                    .is_none_or(|b| s.selected.valid.accuracy > b.0)
                {
                    best = Some((s.selected.valid.accuracy, label, overrides));
                }
            }
            let (_, label, overrides) = best.expect("every method has a setting");
            for seed in 1..suite.seeds {
                let config = config_for(&suite, data, method, &overrides, seed)?;
                run_or_reuse(
                    &config,
                    &folder(out, &data.label, method, &label, seed),
                    options,
                )?;
            }
        }
    }
    let records = load_records(out)?;
    let training_secs = records
        .values()
        .flat_map(|m| m.values())
        .flat_map(|s| s.values())
        .flat_map(|r| r.values())
        .map(|r| r.wall_secs)
        .sum();
    let meta = Meta {
        command: format!(
            "rgd reproduce {name}{}",
            if quick { " --quick" } else { "" }
        ),
        machine: machine(),
        wall_secs: started.elapsed().as_secs_f64(),
        training_secs,
        notes: suite.notes.clone(),
    };
    write_json(&out.join("meta.json"), &meta)?;
    let markdown = render(out)?;
    write_atomic(&out.join("results.md"), markdown.as_bytes())?;
    let (table, _) = tables(&records, &suite.methods);
    write_atomic(&out.join("results.csv"), table.to_csv().as_bytes())?;
    plot(&records, &suite.methods, &out.join("summary.svg"))?;
    Ok(markdown)
}

/// data set -> method -> setting -> seed -> summary.
type Records = BTreeMap<String, BTreeMap<String, BTreeMap<String, BTreeMap<u64, Summary>>>>;

/// Reads every `runs/<data>/<method>/<setting>/seed<k>/summary.json` under `out`.
pub fn load_records(out: &Path) -> Result<Records, LabError> {
    let mut records = Records::new();
    let list = |p: &Path| -> Result<Vec<PathBuf>, LabError> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(p)
            .map_err(|e| LabError::io(p, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir())
            .collect();
        v.sort();
        Ok(v)
    };
    let name = |p: &Path| {
        p.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string()
    };
    for data in list(&out.join("runs"))? {
        for method in list(&data)? {
            for setting in list(&method)? {
                for seed in list(&setting)? {
                    let summary_path = seed.join("summary.json");
                    if !summary_path.exists() {
                        continue;
                    }
                    let k: u64 = name(&seed)
                        .trim_start_matches("seed")
                        .parse()
                        .map_err(|_| LabError::Corrupt {
                            path: seed.clone(),
                            reason: "run folders are named seed<k>".into(),
                        })?;
                    records
                        .entry(name(&data))
                        .or_default()
                        .entry(name(&method))
                        .or_default()
                        .entry(name(&setting))
                        .or_default()
                        .insert(k, read_json(&summary_path)?);
                }
            }
        }
    }
    Ok(records)
}

/// The selected setting of one method on one data set: best seed-0 validation accuracy (ties:
/// the first setting in name order), with its per-seed test accuracies in seed order.
fn selected(settings: &BTreeMap<String, BTreeMap<u64, Summary>>) -> Option<(&str, Vec<f64>)> {
    let mut best: Option<(&str, f64)> = None;
    for (label, seeds) in settings {
        if let Some(s) = seeds.get(&0)
            && best.is_none_or(|b| s.selected.valid.accuracy > b.1)
        {
            best = Some((label, s.selected.valid.accuracy));
        }
    }
    let (label, _) = best?;
    let tests = settings[label]
        .values()
        .map(|s| s.selected.test.accuracy)
        .collect();
    Some((label, tests))
}

/// The per-set table (test accuracy, mean ± sd over seeds) with mean, average rank and
/// Wilcoxon rows; and the RGD-vs-ERM paired table.
fn tables(records: &Records, methods: &[&str]) -> (Table, Table) {
    let mut headers = vec!["data set".to_string(), "test n".into()];
    headers.extend(methods.iter().map(|m| format!("{m} acc (%)")));
    let mut main = Table::new(headers);
    let mut paired = Table::new([
        "data set",
        "RGD setting",
        "RGD − ERM (pts, 95% CI over seeds)",
        "W/T/L",
    ]);
    let mut means: Vec<Vec<f64>> = vec![Vec::new(); methods.len()];
    let mut ranks: Vec<Vec<f64>> = vec![Vec::new(); methods.len()];
    for (data, by_method) in records {
        let chosen: Vec<Option<(&str, Vec<f64>)>> = methods
            .iter()
            .map(|m| by_method.get(*m).and_then(selected))
            .collect();
        if chosen.iter().any(Option::is_none) {
            continue; // an unfinished data set
        }
        let chosen: Vec<(&str, Vec<f64>)> = chosen.into_iter().flatten().collect();
        let test_n = by_method
            .values()
            .next()
            .and_then(|s| s.values().next())
            .and_then(|s| s.values().next())
            .map_or(0, |s| s.sizes[2]);
        let mut row = vec![data.clone(), test_n.to_string()];
        let set_means: Vec<f64> = chosen
            .iter()
            .map(|(_, t)| summarize(t).map_or(f64::NAN, |s| s.mean))
            .collect();
        for (i, (_, tests)) in chosen.iter().enumerate() {
            row.push(summarize(tests).map_or("-".into(), |s| fmt_mean_std(&s, 100.0, 2)));
            means[i].push(set_means[i]);
        }
        for (i, r) in average_ranks(&set_means, true).into_iter().enumerate() {
            ranks[i].push(r);
        }
        main.push_row(row);
        if let (Some(erm), Some(rgd)) = (
            methods.iter().position(|m| *m == "erm"),
            methods.iter().position(|m| *m == "rgd"),
        ) && let Some(d) = paired_difference(&chosen[rgd].1, &chosen[erm].1, 1e-9, 0.95)
        {
            paired.push_row([
                data.clone(),
                chosen[rgd].0.to_string(),
                fmt_diff_ci(&d, 100.0, 2),
                fmt_wtl(&d),
            ]);
        }
    }
    let erm = methods.iter().position(|m| *m == "erm");
    let mut mean_row = vec!["mean over sets".to_string(), String::new()];
    let mut rank_row = vec!["average rank".to_string(), String::new()];
    let mut wilcoxon_row = vec!["Wilcoxon p vs ERM".to_string(), String::new()];
    for i in 0..methods.len() {
        mean_row
            .push(summarize(&means[i]).map_or("-".into(), |s| format!("{:.2}", s.mean * 100.0)));
        rank_row.push(summarize(&ranks[i]).map_or("-".into(), |s| format!("{:.2}", s.mean)));
        let p = erm.filter(|&e| e != i).and_then(|e| {
            let diffs: Vec<f64> = means[i].iter().zip(&means[e]).map(|(a, b)| a - b).collect();
            wilcoxon_signed_rank(&diffs)
        });
        wilcoxon_row.push(p.map_or("-".into(), |w| format!("{:.3}", w.p_value)));
    }
    main.push_row(mean_row);
    main.push_row(rank_row);
    main.push_row(wilcoxon_row);
    (main, paired)
}

/// Renders a suite's results (tables and provenance) from its records alone.
pub fn render(out: &Path) -> Result<String, LabError> {
    let meta: Meta = read_json(&out.join("meta.json"))?;
    let records = load_records(out)?;
    let methods = TABULAR_METHODS;
    let (main, paired) = tables(&records, &methods);
    let seeds = records
        .values()
        .flat_map(|m| m.values())
        .flat_map(|s| s.values())
        .map(|r| r.len())
        .max()
        .unwrap_or(0);
    Ok(format!(
        "Command: `{}`. Machine: {}. Wall time of the last invocation: {:.0} s; training time summed \
         over all {} runs: {:.0} s.\n\nSetup: {}.\n\nTest accuracy (%) at the validation-selected \
         setting, mean ± sd over {seeds} seeds; rank 1 = best; the Wilcoxon signed-rank test pairs \
         the per-set mean accuracies with ERM's.\n\n{}\nPaired per-seed differences of RGD to ERM \
         (percentage points, 95% t-interval over seeds):\n\n{}",
        meta.command,
        meta.machine,
        meta.wall_secs,
        records
            .values()
            .flat_map(|m| m.values())
            .flat_map(|s| s.values())
            .map(|r| r.len())
            .sum::<usize>(),
        meta.training_secs,
        meta.notes,
        main.to_markdown(),
        paired.to_markdown(),
    ))
}

fn plot(records: &Records, methods: &[&str], path: &Path) -> Result<(), LabError> {
    let (main, _) = tables(records, methods);
    // Bars: mean over sets of each method's accuracy.
    let mean_row = main.rows.iter().find(|r| r[0] == "mean over sets");
    let bars: Vec<(String, f64, f64, f64)> = methods
        .iter()
        .enumerate()
        .filter_map(|(i, m)| {
            let v: f64 = mean_row?.get(i + 2)?.parse().ok()?;
            Some((m.to_string(), v, v, v))
        })
        .collect();
    if bars.is_empty() {
        return Ok(());
    }
    crate::plot::bar_chart(
        path,
        "Mean test accuracy over data sets",
        "accuracy (%)",
        &bars,
    )
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cpu}, {cores} cores")
}

/// Replaces the block between `<!-- BEGIN suite -->` and `<!-- END suite -->` in `doc` (appending
/// it if absent) with `body`.
pub fn splice(doc: &str, suite: &str, body: &str) -> String {
    let begin =
        format!("<!-- BEGIN {suite} (generated by `rgd reproduce {suite}`; do not edit) -->");
    let end = format!("<!-- END {suite} -->");
    let block = format!("{begin}\n{body}\n{end}");
    match (doc.find(&begin), doc.find(&end)) {
        (Some(b), Some(e)) if e > b => format!("{}{}{}", &doc[..b], block, &doc[e + end.len()..]),
        _ => format!("{doc}\n{block}\n"),
    }
}

/// The block of `suite` in `doc`, if present.
pub fn block<'a>(doc: &'a str, suite: &str) -> Option<&'a str> {
    let begin =
        format!("<!-- BEGIN {suite} (generated by `rgd reproduce {suite}`; do not edit) -->\n");
    let end = format!("\n<!-- END {suite} -->");
    let b = doc.find(&begin)? + begin.len();
    let e = doc[b..].find(&end)? + b;
    Some(&doc[b..e])
}
