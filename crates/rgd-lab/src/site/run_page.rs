//! A run's page: what it is, its selected and last metrics, its plots (drawn beside the page
//! from the records the folder kept) and its config.

use std::path::Path;

use maud::{Markup, html};

use super::collect::{Collection, Record, Run};
use super::page::{layout, number};
use crate::LabError;
use crate::metrics::{Evaluation, Metrics};
use crate::run_plots::{Figure, draw_into, draw_meta_into};

/// Writes `runs/<id>.html` and its plots (`runs/<id>/*.svg`) under `site`.
pub fn write(site: &Path, collection: &Collection, run: &Run) -> Result<(), LabError> {
    let figures_dir = site.join("runs").join(&run.id);
    let figures = match &run.record {
        Record::Supervised(s) => draw_into(&run.folder, s, &figures_dir)?,
        Record::Meta(s) => draw_meta_into(&run.folder, s, &figures_dir)?,
    };
    let title = match run.setting.as_str() {
        "" => format!("{} · {} · seed {}", run.data_set, run.method, run.seed),
        s => format!(
            "{} · {} ({s}) · seed {}",
            run.data_set, run.method, run.seed
        ),
    };
    let group = run.group.map(|g| &collection.groups[g]);
    let kept_curves = crate::run_dir::RunDir::new(&run.folder).metrics().is_file();
    let body = html! {
        h1 { (title) }
        dl.facts {
            dt { "folder" } dd { code { (run.folder.display()) } }
            @if let Some(g) = group {
                dt { "part of" } dd { a href={ "../groups/" (g.id) ".html" } { (g.title) } }
            }
            (facts(&run.record))
        }
        (metrics(&run.record))
        h2 { "Training" }
        @if !kept_curves {
            p.note { "The curves were not kept in this record: the folder holds no metrics.csv \
                      or weights.jsonl (committed suite records keep only config.toml and \
                      summary.json). Train the run again to draw them." }
        }
        div.plots {
            @for f in &figures { (figure(&run.id, f)) }
        }
        h2 { "Config" }
        @if run.config.is_empty() {
            p.note { "This folder holds no config.toml." }
        } @else {
            pre { code { (run.config) } }
        }
    };
    let page = layout(&title, "../", body);
    crate::run_dir::write_atomic(
        &site.join("runs").join(format!("{}.html", run.id)),
        page.as_bytes(),
    )
}

/// A plot in the folder `id` beside the page, with its caption.
pub(super) fn figure(id: &str, f: &Figure) -> Markup {
    html! {
        figure {
            img src={ (id) "/" (f.file) } alt=(f.caption);
            figcaption { (f.caption) }
        }
    }
}

/// The run's facts as `<dt>`/`<dd>` pairs.
fn facts(record: &Record) -> Markup {
    match record {
        Record::Supervised(s) => html! {
            dt { "rule" } dd { (s.rule) }
            dt { "steps" } dd { (s.steps) }
            dt { "selection" } dd { (s.selection.name()) " (step " (s.selected.step) ")" }
            dt { "examples (train / valid / test)" } dd { (s.sizes[0]) " / " (s.sizes[1]) " / " (s.sizes[2]) }
            dt { "wall time" } dd { (number(s.wall_secs, 1)) " s (" (number(s.samples_per_sec, 0)) " examples/s)" }
            @if let Some(t) = s.threads { dt { "threads" } dd { (t) } }
            @if let Some(m) = &s.machine { dt { "machine" } dd { (m) } }
            dt { "numerics version" } dd { (s.numerics) }
        },
        Record::Meta(s) => html! {
            dt { "learner" } dd { (s.learner) }
            dt { "rule" } dd { (s.rule) " (" (s.level) " level)" }
            dt { "meta-steps" } dd { (s.steps) }
            dt { "selected step" } dd { (s.selected.step) }
            dt { "wall time" } dd { (number(s.wall_secs, 1)) " s training, " (number(s.test_secs, 1)) " s meta-test" }
            @if let Some(m) = &s.machine { dt { "machine" } dd { (m) } }
            dt { "numerics version" } dd { (s.numerics) }
        },
    }
}

/// The metrics table: the selected and the last evaluation.
fn metrics(record: &Record) -> Markup {
    match record {
        Record::Supervised(s) => {
            let rows = [("selected", &s.selected), ("last", &s.last)];
            html! {
                h2 { "Metrics" }
                table {
                    thead { tr {
                        th { "evaluation" } th { "split" }
                        th.num { "accuracy (%)" } th.num { "balanced accuracy (%)" }
                        th.num { "worst class (%)" } th.num { "macro-F1 (%)" }
                        th.num { "worst domain (%)" } th.num { "loss" }
                    } }
                    tbody {
                        @for (name, e) in rows {
                            (metric_row(name, e, "valid", &e.valid))
                            (metric_row(name, e, "test", &e.test))
                        }
                    }
                }
            }
        }
        Record::Meta(s) => html! {
            h2 { "Metrics" }
            table {
                thead { tr {
                    th { "" } th.num { "accuracy (%)" } th.num { "95% interval (%)" }
                    th.num { "worst tenth (%)" } th.num { "episodes" }
                } }
                tbody {
                    tr {
                        td { "meta-validation, selected (step " (s.selected.step) ")" }
                        td.num { (number(100.0 * s.selected.valid_accuracy, 2)) }
                        td {} td {} td {}
                    }
                    tr {
                        td { "meta-test of the selected model" }
                        td.num { (number(100.0 * s.test.mean, 2)) }
                        td.num { (number(100.0 * s.test.ci95_low, 2)) " – " (number(100.0 * s.test.ci95_high, 2)) }
                        td.num { (number(100.0 * s.test.worst_tenth, 2)) }
                        td.num { (s.test.episodes) }
                    }
                }
            }
        },
    }
}

fn metric_row(name: &str, e: &Evaluation, split: &str, m: &Metrics) -> Markup {
    let pct = |v: f64| number(100.0 * v, 2);
    html! {
        tr {
            td { (name) " (step " (e.step) ")" } td { (split) }
            td.num { (pct(m.accuracy)) } td.num { (pct(m.balanced_accuracy)) }
            td.num { (pct(m.worst_class_accuracy)) } td.num { (pct(m.macro_f1)) }
            td.num { (m.worst_domain_accuracy.map(pct).unwrap_or_default()) }
            td.num { (number(m.loss, 4)) }
        }
    }
}
