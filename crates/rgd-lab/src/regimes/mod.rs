//! `rgd reproduce regimes`: where RGD helps, as a map over training length, tau and the data
//! regime (clean, long-tailed, noisy labels), trained to convergence.
//!
//! Every run trains once to the longest length at a constant learning rate and is evaluated
//! after each length (`train.eval_epochs`), so one run per seed gives the whole curve. Two
//! stages, like every suite: seed 0 at every tau of the grid and at every peer; then the other
//! seeds for ERM, RGD at the tau selected on validation (ties broken by the lower validation
//! loss), RGD at the fixed tau, and the best peer. The map (`map`) pairs each with ERM per
//! seed after every length and reads it with one stated rule; [`render`] and [`plots`] draw it
//! from the records alone.

mod design;
mod map;
pub mod plots;
pub mod render;

use std::path::Path;

use crate::LabError;
use crate::config::RunConfig;
use crate::launch::{Launcher, run_points};
use crate::reproduce::{notes, say, tune, write_outputs};
use crate::run_dir::RunOptions;
use crate::suite::catalog::runs;
use crate::suite::provenance::Clock;

/// Runs (or resumes) the regime map into `out`; writes `meta.json` and the outputs
/// (`write_outputs`) after the tuning stage, so that an interrupted seed stage leaves the
/// tuning stage's map, and `meta.json` after the seed stage.
pub fn run(
    quick: bool,
    out: &Path,
    launcher: &Launcher,
    options: RunOptions,
) -> Result<(), LabError> {
    let design = design::design(quick);
    let clock = Clock::start::<RunConfig>(out);
    tune("regimes", &design.parts, out, launcher, options)?;
    let records = clock.write_meta::<RunConfig>(out, "regimes", quick, notes(&design.parts))?;
    write_outputs(out)?;
    // The other seeds of the chosen settings.
    let mut points = Vec::new();
    for (_, part, data, r) in map::regimes(&design, &records) {
        let Some(choice) = map::choose(part, r) else {
            continue;
        };
        points.extend(runs(out, part, data, "erm", &choice.erm, 1..part.seeds)?);
        for (_, method, setting) in choice.comparisons() {
            points.extend(runs(out, part, data, &method, &setting, 1..part.seeds)?);
        }
    }
    say(options, "regimes", "seeds", points.len());
    run_points(launcher, &points, out, options)?;
    clock.write_meta::<RunConfig>(out, "regimes", quick, notes(&design.parts))?;
    Ok(())
}
