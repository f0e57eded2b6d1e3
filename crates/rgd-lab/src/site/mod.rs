//! `rgd report`: a static, self-contained HTML site over run folders, `compare` folders and
//! `reproduce` suite folders, built from their records alone (no network: the stylesheet, the
//! script and the SVG plots lie beside the pages).
//!
//! ```text
//! report/
//!   index.html            every run: sortable, filterable
//!   runs/<id>.html        a run: facts, metrics, learning curves, weights, config
//!   runs/<id>/*.svg
//!   groups/<id>.html      a comparison or a suite: tables, forest plot, its runs
//!   groups/<id>/*.svg
//!   report.css, report.js, report.json (what was built, so a rebuild may replace the folder)
//! ```
//!
//! ```no_run
//! use std::path::PathBuf;
//! let built = rgd_lab::site::build(&[PathBuf::from("results/tabular")], "report".as_ref())?;
//! println!("{} runs, index {} bytes", built.runs, built.index_bytes);
//! # Ok::<(), rgd_lab::LabError>(())
//! ```

pub mod collect;
pub mod group_page;
pub mod page;
pub mod run_page;

use std::path::{Path, PathBuf};
use std::time::Instant;

use maud::html;
use serde::{Deserialize, Serialize};

use crate::LabError;
use crate::run_dir::{write_atomic, write_json};
use collect::{Collection, Run, collect};
use page::{CSS, JS, layout, runs_table};

/// What a build wrote (also `report.json` of the site).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Built {
    /// The site's folder.
    pub out: PathBuf,
    /// Run pages.
    pub runs: usize,
    /// Comparison and suite pages.
    pub groups: usize,
    /// Size of `index.html` in bytes.
    pub index_bytes: usize,
    /// Wall time of the build in seconds.
    pub secs: f64,
}

/// The file that marks a folder as a report this command built (and may replace).
const MARKER: &str = "report.json";

/// Builds the report of every run under `paths` into `out`.
///
/// # Errors
///
/// [`LabError::Config`] when no path holds a finished run, or when `out` is a folder with
/// other files in it (a report is only ever written over an earlier report);
/// [`LabError::Io`] and [`LabError::Corrupt`] for records that cannot be read.
pub fn build(paths: &[PathBuf], out: &Path) -> Result<Built, LabError> {
    let started = Instant::now();
    let collection = collect(paths)?;
    prepare(out)?;
    write_atomic(&out.join("report.css"), CSS.as_bytes())?;
    write_atomic(&out.join("report.js"), JS.as_bytes())?;
    write_run_pages(out, &collection)?;
    for index in 0..collection.groups.len() {
        group_page::write(out, &collection, index)?;
    }
    let index = index_page(&collection);
    write_atomic(&out.join("index.html"), index.as_bytes())?;
    let built = Built {
        out: out.to_path_buf(),
        runs: collection.runs.len(),
        groups: collection.groups.len(),
        index_bytes: index.len(),
        secs: started.elapsed().as_secs_f64(),
    };
    write_json(&out.join(MARKER), &built)?;
    Ok(built)
}

/// Makes `out` an empty folder: a new one, an empty one, or an earlier report (whose pages are
/// removed so that none of a run no longer there is left behind).
fn prepare(out: &Path) -> Result<(), LabError> {
    if out.exists() {
        let mut entries = std::fs::read_dir(out).map_err(|e| LabError::io(out, e))?;
        if entries.next().is_some() && !out.join(MARKER).is_file() {
            return Err(LabError::Config(format!(
                "{} already holds files and is not an rgd report (no {MARKER}): choose another \
                 folder with --out, or empty it",
                out.display()
            )));
        }
        for dir in ["runs", "groups"] {
            let path = out.join(dir);
            if path.exists() {
                std::fs::remove_dir_all(&path).map_err(|e| LabError::io(&path, e))?;
            }
        }
    }
    std::fs::create_dir_all(out).map_err(|e| LabError::io(out, e))
}

/// The run pages, split over the machine's threads (each page and its plots are independent).
fn write_run_pages(out: &Path, collection: &Collection) -> Result<(), LabError> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = collection.runs.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (collection.runs.chunks(chunk))
            .map(|runs| {
                scope.spawn(move || {
                    runs.iter()
                        .try_for_each(|r| run_page::write(out, collection, r))
                })
            })
            .collect();
        workers.into_iter().try_for_each(|w| {
            (w.join())
                .unwrap_or_else(|_| Err(LabError::Internal("a run page's writer panicked".into())))
        })
    })
}

/// `index.html`: the groups, then every run.
fn index_page(collection: &Collection) -> String {
    let runs: Vec<&Run> = collection.runs.iter().collect();
    let body = html! {
        h1 { "Runs" }
        @if !collection.groups.is_empty() {
            h2 { "Comparisons and suites" }
            ul {
                @for g in &collection.groups {
                    li { a href={ "groups/" (g.id) ".html" } { (g.title) } }
                }
            }
        }
        h2 { "Every run" }
        p.note { "Valid and test accuracy at the validation-selected evaluation (meta-learning: \
                  meta-validation, and the meta-test accuracy of the selected model). Click a \
                  column to sort; type to filter." }
        (runs_table("runs", "", collection, &runs))
    };
    layout("every run", "", body)
}
