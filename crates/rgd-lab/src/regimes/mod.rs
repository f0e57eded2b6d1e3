//! `rgd reproduce regimes`: where RGD helps, as a map over training length, tau and the data
//! regime (clean, long-tailed, noisy labels), trained to convergence.
//!
//! Every run trains once to the longest length at a constant learning rate and is evaluated
//! after each length (`train.eval_epochs`), so one run per seed gives the whole curve. Two
//! stages, like every suite: seed 0 at every tau of the grid and at every peer; then the other
//! seeds for ERM, RGD at the tau selected on validation (ties broken by the lower validation
//! loss), RGD at the fixed tau, and the best peer. The map ([`map`]) pairs each with ERM per
//! seed after every length and reads it with one stated rule; [`render`] and [`plots`] draw it
//! from the records alone.

mod design;
mod map;
pub mod plots;
pub mod render;

use std::path::Path;

use crate::LabError;
use crate::config::RunConfig;
use crate::launch::{Launcher, Point, run_points};
use crate::reproduce::{notes, say, tuning_points};
use crate::run_dir::{RunOptions, write_atomic, write_json};
use crate::suite::catalog::{config_for, folder, settings};
use crate::suite::provenance::Clock;
use crate::suite::records::load_records;
use crate::suite::tables::Records;

/// The other seeds of the chosen settings, once seed 0 has finished.
fn seed_points(
    design: &design::Design,
    out: &Path,
    records: &Records,
) -> Result<Vec<Point>, LabError> {
    let mut points = Vec::new();
    for (_, part, data, r) in map::regimes(design, records) {
        let Some(choice) = map::choose(design, part, r) else {
            continue;
        };
        let chosen = std::iter::once(("erm".to_string(), choice.erm.clone()))
            .chain(choice.comparisons().into_iter().map(|(_, m, s)| (m, s)));
        for (method, label) in chosen {
            let overrides = (settings(&method, part).into_iter())
                .find(|(l, _)| *l == label)
                .map(|(_, o)| o)
                .expect("a chosen setting is on the grid");
            for seed in 1..part.seeds {
                points.push(Point {
                    config: config_for(part, data, &method, &overrides, seed)?,
                    folder: folder(out, &data.label, &method, &label, seed),
                });
            }
        }
    }
    Ok(points)
}

/// Runs (or resumes) the regime map into `out`; writes `meta.json` and the outputs of
/// [`write_outputs`] after each stage, so that an interrupted seed stage leaves the tuning
/// stage's map. Returns the rendered markdown.
pub fn run(
    quick: bool,
    out: &Path,
    launcher: &Launcher,
    options: RunOptions,
) -> Result<String, LabError> {
    let design = design::design(quick);
    let clock = Clock::start::<RunConfig>(out);
    let provenance = |records: &Records| {
        clock.provenance::<RunConfig>("regimes", quick, records, notes(&design.parts))
    };
    let points = tuning_points(&design.parts, out)?;
    crate::data::fetch_missing(points.iter().map(|p| &p.config.data))?;
    say(options, "regimes", "tuning", points.len());
    run_points(launcher, &points, out, options)?;
    let records = load_records(out)?;
    write_json(&out.join("meta.json"), &provenance(&records))?;
    write_outputs(out)?;
    let points = seed_points(&design, out, &records)?;
    say(options, "regimes", "seeds", points.len());
    run_points(launcher, &points, out, options)?;
    write_json(&out.join("meta.json"), &provenance(&load_records(out)?))?;
    write_outputs(out)
}

/// Writes `results.md`, `map.csv`, `curves.svg` and `tau-map.svg` of the suite at `out` from
/// its records and `meta.json` alone, training nothing; returns the markdown.
pub(crate) fn write_outputs(out: &Path) -> Result<String, LabError> {
    let markdown = render::render(out)?;
    write_atomic(&out.join("results.md"), markdown.as_bytes())?;
    write_atomic(&out.join("map.csv"), render::tidy(out)?.as_bytes())?;
    plots::figures(out, out)?;
    Ok(markdown)
}
