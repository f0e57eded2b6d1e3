//! A comparison's or a suite's page: its tables (those of `results.md` and
//! `docs/results.md`, rendered again from the records), the forest plot of the paired
//! differences to ERM, and its runs.

use std::path::Path;

use maud::html;

use super::collect::{Collection, GroupKind, Run};
use super::page::{layout, markdown, runs_table};
use super::run_page::figure;
use crate::LabError;
use crate::run_plots::Figure;

/// Writes `groups/<id>.html` and its plots (`groups/<id>/*.svg`) under `site`.
pub fn write(site: &Path, collection: &Collection, index: usize) -> Result<(), LabError> {
    let group = &collection.groups[index];
    let dir = site.join("groups").join(&group.id);
    let (tables, figures) = match &group.kind {
        GroupKind::Comparison(comparison) => {
            let mut figures = Vec::new();
            if comparison.plot(&dir.join("comparison.svg"))? {
                figures.push(Figure {
                    file: "comparison.svg".into(),
                    caption: "Each method at its validation-selected setting: the paired \
                              per-seed difference to ERM in test accuracy with its 95% interval."
                        .into(),
                });
            }
            (comparison.table().to_markdown(), figures)
        }
        // The rendered tables hold each part's setup line and the provenance.
        GroupKind::Suite(_) => (
            crate::suite::tables::render(&group.folder)?,
            crate::suite::tidy::forest_plots(&group.folder, &dir)?,
        ),
    };
    let runs: Vec<&Run> = (collection.runs.iter())
        .filter(|r| r.group == Some(index))
        .collect();
    let body = html! {
        h1 { (group.title) }
        p { "Folder: " code { (group.folder.display()) } ". " (runs.len()) " runs." }
        @for f in &figures { (figure(&group.id, f)) }
        h2 { "Results" }
        (markdown(&tables))
        h2 { "Runs" }
        (runs_table("runs", "../", collection, &runs))
    };
    let page = layout(&group.title, "../", body);
    crate::run_dir::write_atomic(
        &site.join("groups").join(format!("{}.html", group.id)),
        page.as_bytes(),
    )
}
