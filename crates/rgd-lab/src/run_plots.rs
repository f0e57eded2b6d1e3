//! The plots of one run folder, drawn from its `metrics.csv` and `weights.jsonl`.

use crate::LabError;
use crate::metrics_log::MetricsRow;
use crate::plot::{Series, line_chart, weight_histograms};
use crate::run_dir::RunDir;

/// Draws `plots/loss.svg`, `plots/accuracy.svg` and `plots/weights.svg`.
pub fn draw(run: &RunDir) -> Result<(), LabError> {
    let path = run.metrics();
    let mut reader = csv::Reader::from_path(&path).map_err(|e| LabError::Corrupt {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    let rows: Vec<MetricsRow> = reader
        .deserialize()
        .collect::<Result<_, _>>()
        .map_err(|e| LabError::Corrupt {
            path: path.clone(),
            reason: e.to_string(),
        })?;
    let series = |name: &str, pick: fn(&MetricsRow) -> Option<f64>| Series {
        name: name.to_string(),
        points: rows
            .iter()
            .filter_map(|r| pick(r).map(|v| (r.step as f64, v)))
            .collect(),
    };
    let plots = run.plots();
    line_chart(
        &plots.join("loss.svg"),
        "Training loss",
        "step",
        "loss",
        &[
            series("mean loss", |r| r.train_loss),
            series("weighted loss", |r| r.weighted_loss),
            series("validation loss", |r| r.valid_loss),
        ],
    )?;
    line_chart(
        &plots.join("accuracy.svg"),
        "Accuracy",
        "step",
        "accuracy",
        &[
            series("validation", |r| r.valid_accuracy),
            series("test", |r| r.test_accuracy),
            series("validation worst class", |r| r.valid_worst_class),
        ],
    )?;
    let weights_path = run.weights();
    let text =
        std::fs::read_to_string(&weights_path).map_err(|e| LabError::io(&weights_path, e))?;
    let mut snapshots = Vec::new();
    for line in text.lines() {
        #[derive(serde::Deserialize)]
        struct Snapshot {
            step: u64,
            weights: Vec<f32>,
        }
        let s: Snapshot = serde_json::from_str(line).map_err(|e| LabError::Corrupt {
            path: weights_path.clone(),
            reason: e.to_string(),
        })?;
        snapshots.push((s.step, s.weights));
    }
    weight_histograms(
        &plots.join("weights.svg"),
        "Per-example weights over training",
        &snapshots,
    )
}
