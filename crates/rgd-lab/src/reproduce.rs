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
use crate::launch::{Launcher, run_points};
use crate::run_dir::{RunOptions, read_json, write_atomic};
use crate::suite::catalog::{DataSpec, Part, SuiteConfig, folder_name, runs, settings, suite};
use crate::suite::provenance::{Clock, Provenance};
use crate::suite::records::load_records;
use crate::suite::tables::{Records, best_of, records_of, render};
use crate::suite::tidy::{forest_plots, tidy};

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
        }
        "regimes" => crate::regimes::run(quick, out, launcher, options)?,
        _ => {
            let parts = suite(name, quick)?;
            stages(name, quick, &parts, notes(&parts), out, launcher, options)?;
        }
    }
    write_outputs(out)
}

/// The two stages of suite `name` into `out`: every setting of every method on every data set
/// of `parts` with seed 0, then the other seeds at each method's setting selected on seed 0 as
/// the tables select it ([`best_of`]: the best score, ties to the first); then its `meta.json`.
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
    tune(name, parts, out, launcher, options)?;
    let records = load_records::<C::Summary>(out)?;
    let mut points = Vec::new();
    for (part, data, method) in cells(parts) {
        // The tuning stage finished every seed-0 run, unless its folders went in the meantime.
        let folder = folder_name(&data.label);
        let chosen = records
            .get(&folder)
            .and_then(|r| best_of(part, r, &[method]));
        let Some((_, setting)) = chosen else {
            return Err(LabError::corrupt(
                out.join("runs").join(folder).join(method),
                "no seed-0 summary.json after the tuning stage; run the suite again",
            ));
        };
        points.extend(runs(out, part, data, method, &setting, 1..part.seeds)?);
    }
    say(options, name, "seeds", points.len());
    run_points(launcher, &points, out, options)?;
    clock.write_meta::<C>(out, name, quick, notes)?;
    Ok(())
}

/// The notes of `parts`, a paragraph each.
pub(crate) fn notes<C>(parts: &[Part<C>]) -> String {
    (parts.iter().map(|p| p.notes.as_str()))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Every (part, data set, method) of `parts`, in table order.
fn cells<C>(parts: &[Part<C>]) -> impl Iterator<Item = (&Part<C>, &DataSpec, &'static str)> {
    (parts.iter())
        .flat_map(|p| (p.data.iter()).flat_map(move |d| p.methods.iter().map(move |&m| (p, d, m))))
}

/// Stage 1 of suite `name`: fetches the data sets missing from the cache, then trains every
/// setting of every method on every data set of `parts` with seed 0.
pub(crate) fn tune<C: SuiteConfig>(
    name: &str,
    parts: &[Part<C>],
    out: &Path,
    launcher: &Launcher,
    options: RunOptions,
) -> Result<(), LabError> {
    let mut points = Vec::new();
    for (part, data, method) in cells(parts) {
        for setting in settings(method, part) {
            points.extend(runs(out, part, data, method, &setting, 0..1)?);
        }
    }
    C::fetch_missing(&points)?;
    say(options, name, "tuning", points.len());
    run_points(launcher, &points, out, options)?;
    Ok(())
}

/// [`run`]'s outputs, from the records and `meta.json` in `out` alone: `results.md`, the
/// suite's CSVs (a part's `results[-<slug>].csv`, the meta suite's `results.csv`, the regime
/// map's `map.csv`) and its plots ([`forest_plots`]).
pub(crate) fn write_outputs(out: &Path) -> Result<String, LabError> {
    let markdown = render(out)?;
    write_atomic(&out.join("results.md"), markdown.as_bytes())?;
    let meta: Provenance = read_json(&out.join("meta.json"))?;
    match meta.suite.as_str() {
        "meta" => {
            let csv = crate::meta::suite::tidy(out, meta.quick)?;
            write_atomic(&out.join("results.csv"), csv.as_bytes())?;
        }
        "regimes" => write_atomic(
            &out.join("map.csv"),
            crate::regimes::render::tidy(out, meta.quick)?.as_bytes(),
        )?,
        name => {
            let records: Records = load_records(out)?;
            for part in &suite(name, meta.quick)? {
                let table = tidy(&records_of(&records, part), part, part.report[0]);
                if table.rows.is_empty() {
                    continue; // a part without finished runs has no numbers (nor a plot) yet
                }
                let csv = table.to_csv();
                write_atomic(&out.join(part.file("results", "csv")), csv.as_bytes())?;
            }
        }
    }
    forest_plots(out, out)?;
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
    write_outputs(out)
}

/// Prints `<suite>: <stage> stage, <runs> runs` unless quiet.
pub(crate) fn say(options: RunOptions, suite: &str, stage: &str, runs: usize) {
    if !options.quiet {
        eprintln!("{suite}: {stage} stage, {runs} runs");
    }
}
