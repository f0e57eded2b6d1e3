//! `rgd reproduce SUITE`: the paper's experiments at CPU scale, on real data, resumable.
//!
//! Protocol (method.md): same split, model, optimizer, schedule and steps for every method;
//! hyperparameters (learning rate, and tau for RGD) tuned on the validation split with seed 0;
//! then every seed at the selected setting; test accuracy reported as mean ± sd over seeds,
//! with paired per-seed differences to ERM. Each run's `config.toml` and `summary.json` are the
//! records: the tables are regenerated from them alone ([`render`]). The suites are data
//! ([`crate::suite::catalog`]); their tables are [`crate::suite::tables`].

use std::path::Path;

use crate::LabError;
use crate::launch::{Launcher, Point, run_points};
use crate::run_dir::{RunOptions, read_json, write_atomic, write_json};
use crate::suite::catalog::{Part, SuiteConfig, config_for, folder, settings, suite};
use crate::suite::provenance::{Clock, Provenance};
use crate::suite::records::load_records;
use crate::suite::tables::{Records, records_of, render};
use crate::sweep::{Ties, best};

/// Runs (or resumes) a suite into `out`, then writes `results.md`, and per part
/// `results[-<slug>].csv` and `summary[-<slug>].svg` there. Returns the rendered markdown.
pub fn run(
    name: &str,
    quick: bool,
    out: &Path,
    launcher: &Launcher,
    options: RunOptions,
) -> Result<String, LabError> {
    // The suite's folder (records, tables, plots) is this process's; each run locks its own.
    let _lock = crate::lock::lock(out)?;
    match name {
        "meta" => {
            let (parts, notes) = crate::meta::suite::suite(quick);
            stages(name, quick, &parts, notes.into(), out, launcher, options)?;
            crate::meta::suite::write_outputs(out)
        }
        "regimes" => crate::regimes::run(quick, out, launcher, options),
        _ => {
            let parts = suite(name, quick)?;
            stages(name, quick, &parts, notes(&parts), out, launcher, options)?;
            write_outputs(out)
        }
    }
}

/// The two stages of suite `name` into `out`: every setting of every method on every data set
/// of `parts` with seed 0, then the other seeds at each method's setting selected on its seed-0
/// score (ties to the first); then its `meta.json` with `notes`.
pub(crate) fn stages<C: SuiteConfig>(
    name: &str,
    quick: bool,
    parts: &[Part<C>],
    notes: String,
    out: &Path,
    launcher: &Launcher,
    options: RunOptions,
) -> Result<(), LabError> {
    let clock = Clock::start::<C>(out);
    let points = tuning_points(parts, out)?;
    C::fetch_missing(&points)?;
    say(options, name, "tuning", points.len());
    let mut tuned = run_points(launcher, &points, out, options)?.into_iter();
    let mut points = Vec::new();
    let cells = (parts.iter())
        .flat_map(|p| (p.data.iter()).flat_map(move |d| p.methods.iter().map(move |&m| (p, d, m))));
    for (part, data, method) in cells {
        let scores = (settings(method, part).into_iter())
            .map(|setting| {
                let s = tuned.next().expect("one summary per point");
                (C::score(part, &s), setting)
            })
            .collect::<Vec<_>>();
        let (label, overrides) = best(scores, Ties::First).expect("every method has a setting");
        for seed in 1..part.seeds {
            points.push(Point {
                config: config_for(part, data, method, &overrides, seed)?,
                folder: folder(out, &data.label, method, &label, seed),
            });
        }
    }
    say(options, name, "seeds", points.len());
    run_points(launcher, &points, out, options)?;
    let meta = clock.provenance::<C>(name, quick, &load_records(out)?, notes);
    write_json(&out.join("meta.json"), &meta)
}

/// The notes of `parts`, a paragraph each.
pub(crate) fn notes<C>(parts: &[Part<C>]) -> String {
    (parts.iter().map(|p| p.notes.as_str()))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Stage 1 of every suite of `parts`: every setting of every method on every data set, seed 0.
pub(crate) fn tuning_points<C: SuiteConfig>(
    parts: &[Part<C>],
    out: &Path,
) -> Result<Vec<Point<C>>, LabError> {
    let mut points = Vec::new();
    for part in parts {
        for data in &part.data {
            for &method in &part.methods {
                for (label, overrides) in settings(method, part) {
                    points.push(Point {
                        config: config_for(part, data, method, &overrides, 0)?,
                        folder: folder(out, &data.label, method, &label, 0),
                    });
                }
            }
        }
    }
    Ok(points)
}

/// [`run`]'s outputs of a supervised suite, from the records and `meta.json` alone.
fn write_outputs(out: &Path) -> Result<String, LabError> {
    let meta: Provenance = read_json(&out.join("meta.json"))?;
    let parts = suite(&meta.suite, meta.quick)?;
    let records: Records = load_records(out)?;
    let markdown = render(out)?;
    write_atomic(&out.join("results.md"), markdown.as_bytes())?;
    for part in &parts {
        let table = crate::suite::tidy::tidy(&records_of(&records, part), part, part.report[0]);
        if table.rows.is_empty() {
            continue; // a part without finished runs has no numbers (nor a plot) yet
        }
        let csv = table.to_csv();
        write_atomic(&out.join(part.file("results", "csv")), csv.as_bytes())?;
    }
    crate::suite::tidy::forest_plots(out, out)?;
    Ok(markdown)
}

/// `rgd reproduce SUITE --render-only`: the suite's tables, CSVs and plots written again from
/// the records in `out` (those finished so far, after an interrupted run), training nothing.
/// The folder must hold a suite's `meta.json`, which a first `rgd reproduce` writes.
pub fn render_only(name: &str, out: &Path) -> Result<String, LabError> {
    let path = out.join("meta.json");
    if !path.is_file() {
        return Err(LabError::Config(format!(
            "{} has no meta.json, so no suite to render: run `rgd reproduce {name}` first",
            out.display()
        )));
    }
    let _lock = crate::lock::lock(out)?;
    let meta: Provenance = read_json(&path)?;
    if meta.suite != name {
        return Err(LabError::Config(format!(
            "{} holds the `{}` suite, not `{name}`",
            path.display(),
            meta.suite
        )));
    }
    match name {
        "meta" => crate::meta::suite::write_outputs(out),
        "regimes" => crate::regimes::write_outputs(out),
        _ => write_outputs(out),
    }
}

/// Prints `<suite>: <stage> stage, <runs> runs` unless quiet.
pub(crate) fn say(options: RunOptions, suite: &str, stage: &str, runs: usize) {
    if !options.quiet {
        eprintln!("{suite}: {stage} stage, {runs} runs");
    }
}
