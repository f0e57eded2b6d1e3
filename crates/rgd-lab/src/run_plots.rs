//! The plots of one run folder, drawn from its records: `metrics.csv` (the learning curves and
//! the batch weight statistics), `weights.jsonl` (weight histograms) and the summary's weight
//! trace (per-class weights, the weight on flipped labels). A record that was not kept (the
//! committed suite records keep only `config.toml` and `summary.json`) gives no plot.

use std::path::Path;

use crate::LabError;
use crate::meta::train::MetaSummary;
use crate::metrics_log::{MetaMetricsRow, MetricsRow};
use crate::plot::{Series, line_chart, weight_histograms};
use crate::run_dir::RunDir;
use crate::train::Summary;
use crate::weight_trace::WeightSnapshot;

/// One drawn plot: its file name and what it shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// File name in the folder it was drawn into (e.g. `loss.svg`).
    pub file: String,
    /// One sentence on what it shows.
    pub caption: String,
}

/// Draws the plots of the supervised run in `folder` (whose summary is `summary`) into `dest`.
pub fn draw_into(folder: &Path, summary: &Summary, dest: &Path) -> Result<Vec<Figure>, LabError> {
    let run = RunDir::new(folder);
    let plots = match run.metrics().is_file() {
        true => log_plots(&read_rows::<MetricsRow>(&run.metrics())?),
        false => summary_plots(summary),
    };
    let mut figures = charts(dest, plots)?;
    if run.weights().is_file() {
        let snapshots = read_weights(&run.weights())?;
        if !snapshots.is_empty() {
            weight_histograms(
                &dest.join("weights.svg"),
                "Per-example weights at evaluations",
                &snapshots,
            )?;
            figures.push(Figure {
                file: "weights.svg".into(),
                caption: "Histograms of one batch's per-example weights at evaluations, light (early) to dark (late).".into(),
            });
        }
    }
    figures.extend(charts(dest, trace_plots(summary))?);
    Ok(figures)
}

/// The four plots of a run's metrics log: losses, accuracies, weight statistics, and the
/// effective sample size with the clipped fraction.
fn log_plots(rows: &[MetricsRow]) -> Vec<Plot<'static>> {
    let series = |name: &str, pick: &dyn Fn(&MetricsRow) -> Option<f64>| {
        stepped(name, rows, |r| Some((r.step, pick(r)?)))
    };
    let percent = |v: Option<f64>| v.map(|v| 100.0 * v);
    vec![
        (
            "loss.svg",
            "Training loss of each logged batch, unweighted and weighted, and the validation loss.",
            "Loss",
            "per-example loss (nats)",
            vec![
                series("batch loss", &|r| r.train_loss),
                series("weighted batch loss", &|r| r.weighted_loss),
                series("validation loss", &|r| r.valid_loss),
            ],
        ),
        (
            "accuracy.svg",
            "Validation and test accuracy at each evaluation.",
            "Accuracy",
            "accuracy (%)",
            vec![
                series("validation", &|r| percent(r.valid_accuracy)),
                series("test", &|r| percent(r.test_accuracy)),
                series("validation worst class", &|r| percent(r.valid_worst_class)),
            ],
        ),
        (
            "weight-stats.svg",
            "Largest and mean example weight of each logged batch (1 for every example under ERM).",
            "Batch weights",
            "example weight",
            vec![
                series("largest weight", &|r| r.weight_max),
                series("mean weight", &|r| r.weight_mean),
            ],
        ),
        (
            "weight-fractions.svg",
            "Effective sample size over batch size, and the fraction of the batch whose loss was clipped.",
            "Effective sample size and clipping",
            "fraction of the batch",
            vec![
                series("effective sample size", &|r| r.ess_fraction),
                series("clipped", &|r| r.clipped_fraction),
            ],
        ),
    ]
}

/// No log kept: the summary's evaluations are the accuracy curves.
fn summary_plots(summary: &Summary) -> Vec<Plot<'static>> {
    let curve = |name: &str, pick: fn(&crate::metrics::Evaluation) -> f64| {
        stepped(name, &summary.evaluations, |e| {
            Some((e.step, 100.0 * pick(e)))
        })
    };
    vec![(
        "accuracy.svg",
        "Validation and test accuracy at each evaluation (from the summary).",
        "Accuracy",
        "accuracy (%)",
        vec![
            curve("validation", |e| e.valid.accuracy),
            curve("test", |e| e.test.accuracy),
        ],
    )]
}

/// The per-class mean weight and, under label noise, the weight on flipped labels, over the
/// evaluation windows of the summary's weight trace.
fn trace_plots(summary: &Summary) -> Vec<Plot<'static>> {
    let trace = &summary.weight_trace;
    let classes = (trace.iter()).fold(0, |n, s| n.max(s.class_mean_weight.len()));
    let mut plots = Vec::new();
    // Beyond 10 classes the lines are unreadable; the summary keeps them all.
    if (1..=10).contains(&classes) {
        let by_class = |value: &dyn Fn(&WeightSnapshot, usize) -> Option<f64>| -> Vec<Series> {
            let class = |c| {
                stepped(format!("class {c}"), trace, |s| {
                    Some((s.step, value(s, c)?))
                })
            };
            (0..classes).map(class).collect()
        };
        plots.push((
            "class-weights.svg",
            "Mean weight of each (observed) class's training examples over each evaluation window.",
            "Weight by class",
            "mean example weight",
            by_class(&|s, c| *s.class_mean_weight.get(c)?),
        ));
        plots.push((
            "class-shares.svg",
            "Each (observed) class's share of the total weight over each evaluation window (its share of the examples under ERM).",
            "Share of the weight by class",
            "share of the weight (%)",
            by_class(&|s, c| Some(100.0 * s.class_weight_share.get(c)?)),
        ));
    }
    let share = |name: &str, pick: fn(&WeightSnapshot) -> Option<f64>| {
        stepped(name, trace, |s| Some((s.step, 100.0 * pick(s)?)))
    };
    plots.push((
        "flipped.svg",
        "Under label noise: the flipped examples' share of the total weight, against their share of the examples (equal under ERM).",
        "Weight on flipped labels",
        "share (%)",
        vec![
            share("share of the weight", |s| s.flipped_weight_share),
            share("share of the examples", |s| s.flipped_fraction),
        ],
    ));
    plots
}

/// Draws the plots of the meta-learning run in `folder` into `dest` (from its `metrics.csv`, or
/// from the summary's evaluations when the log was not kept).
pub fn draw_meta_into(
    folder: &Path,
    summary: &MetaSummary,
    dest: &Path,
) -> Result<Vec<Figure>, LabError> {
    let metrics = RunDir::new(folder).metrics();
    let rows: Vec<MetaMetricsRow> = if metrics.is_file() {
        read_rows(&metrics)?
    } else {
        Vec::new()
    };
    let series = |name: &str, pick: fn(&MetaMetricsRow) -> Option<f64>| {
        stepped(name, &rows, |r| Some((r.step, pick(r)?)))
    };
    let valid = stepped("meta-validation", &summary.evaluations, |e| {
        Some((e.step, 100.0 * e.valid_accuracy))
    });
    let plots = [
        (
            "loss.svg",
            "Mean episode loss of each logged meta-batch, unweighted and weighted.",
            "Meta-training loss",
            "per-query loss (nats)",
            vec![
                series("episode loss", |r| r.task_loss),
                series("weighted loss", |r| r.weighted_loss),
            ],
        ),
        (
            "accuracy.svg",
            "Mean query accuracy over the meta-validation episodes at each evaluation.",
            "Meta-validation accuracy",
            "accuracy (%)",
            vec![valid],
        ),
        (
            "weight-stats.svg",
            "Largest and mean episode weight of each logged meta-batch.",
            "Episode weights",
            "episode weight",
            vec![
                series("largest weight", |r| r.task_weight_max),
                series("mean weight", |r| r.task_weight_mean),
            ],
        ),
    ];
    charts(dest, plots)
}

/// The series `name` of the points `(step, value)` that `point` gives of `items` (of those that
/// give one).
fn stepped<T>(
    name: impl Into<String>,
    items: &[T],
    point: impl Fn(&T) -> Option<(u64, f64)>,
) -> Series {
    Series {
        name: name.into(),
        points: (items.iter())
            .filter_map(|i| point(i).map(|(step, v)| (step as f64, v)))
            .collect(),
    }
}

/// A line chart: file name, caption, title, y label and its series.
type Plot<'a> = (&'a str, &'a str, &'a str, &'a str, Vec<Series>);

/// Draws each of `plots` that has a point as a line chart against the training step into `dest`.
fn charts(
    dest: &Path,
    plots: impl IntoIterator<Item = Plot<'static>>,
) -> Result<Vec<Figure>, LabError> {
    let mut figures = Vec::new();
    for (file, caption, title, y_label, series) in plots {
        let drawn: Vec<Series> = (series.into_iter())
            .filter(|s| s.points.iter().any(|(x, y)| x.is_finite() && y.is_finite()))
            .collect();
        if !drawn.is_empty() {
            line_chart(&dest.join(file), title, "training step", y_label, &drawn)?;
            figures.push(Figure {
                file: file.into(),
                caption: caption.into(),
            });
        }
    }
    Ok(figures)
}

fn read_rows<R: serde::de::DeserializeOwned>(path: &Path) -> Result<Vec<R>, LabError> {
    let mut reader = csv::Reader::from_path(path).map_err(|e| corrupt(path, e))?;
    let rows = reader.deserialize().collect::<Result<_, _>>();
    rows.map_err(|e| corrupt(path, e))
}

/// The `(step, weights)` of each line of `weights.jsonl`.
fn read_weights(path: &Path) -> Result<Vec<(u64, Vec<f32>)>, LabError> {
    #[derive(serde::Deserialize)]
    struct Snapshot {
        step: u64,
        weights: Vec<f32>,
    }
    let text = std::fs::read_to_string(path).map_err(|e| LabError::io(path, e))?;
    (serde_json::Deserializer::from_str(&text).into_iter::<Snapshot>())
        .map(|s| s.map(|s| (s.step, s.weights)).map_err(|e| corrupt(path, e)))
        .collect()
}

fn corrupt(path: &Path, reason: impl ToString) -> LabError {
    LabError::corrupt(path, reason.to_string())
}
