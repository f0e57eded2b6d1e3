//! The run folder's append-only logs, `metrics.csv` and `weights.jsonl`, and their rows.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::LabError;
use crate::run_dir::write_atomic;

/// Opens `path` for appending, created if missing.
pub(crate) fn open_append(path: &Path) -> Result<std::fs::File, LabError> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| LabError::io(path, e))
}

pub(crate) fn append_weights(path: &Path, step: u64, weights: &[f32]) -> Result<(), LabError> {
    let line = serde_json::json!({ "step": step, "weights": weights });
    crate::crash::write_all(&mut open_append(path)?, format!("{line}\n").as_bytes())
        .map_err(|e| LabError::io(path, e))
}

/// Removes `path` if it exists (a fresh start's clean slate).
pub(crate) fn remove_if_present(path: &Path) -> Result<(), LabError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(LabError::io(path, e)),
        _ => Ok(()),
    }
}

/// Cuts the log back to where its run starts: removes it on a fresh start (`None`); on a resume
/// from the checkpoint of `step`, keeps only its complete lines of steps `<= step` (the header
/// too, for `csv`). A last line without its newline is a row torn by a kill mid-write: it is
/// dropped whatever it holds, so a cut inside its step number cannot pass for an earlier step.
pub(crate) fn truncate_log(path: &Path, step: Option<u64>, csv: bool) -> Result<(), LabError> {
    let Some(step) = step else {
        return remove_if_present(path);
    };
    if !path.exists() {
        return Ok(());
    }
    let bytes = crate::run_dir::read(path)?;
    let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let text = std::str::from_utf8(&bytes[..complete]).map_err(|e| {
        LabError::corrupt(
            path,
            format!("not UTF-8 text ({e}); delete the run folder to start over"),
        )
    })?;
    let mut lines = text.lines();
    let header = if csv { lines.next() } else { None };
    let rows = lines.filter(|line| {
        let mut fields = line.trim_start_matches("{\"step\":").split([',', '}']);
        (fields.next()).is_some_and(|f| f.parse::<u64>().is_ok_and(|s| s <= step))
    });
    let out: String = (header.into_iter().chain(rows))
        .map(|line| format!("{line}\n"))
        .collect();
    write_atomic(path, out.as_bytes())
}

/// One tidy row of `metrics.csv`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct MetricsRow {
    /// Steps done.
    pub step: u64,
    /// Epoch of the step.
    pub epoch: u64,
    /// `train` or `eval`.
    pub kind: String,
    /// Learning rate of the step.
    pub lr: Option<f64>,
    /// Unweighted mean training loss of the batch.
    pub train_loss: Option<f64>,
    /// Weighted training loss `(1/B) Σ w l`.
    pub weighted_loss: Option<f64>,
    /// Smallest weight of the batch.
    pub weight_min: Option<f64>,
    /// Largest weight of the batch.
    pub weight_max: Option<f64>,
    /// Mean weight of the batch.
    pub weight_mean: Option<f64>,
    /// Effective sample size over batch size.
    pub ess_fraction: Option<f64>,
    /// Fraction of the batch whose loss was clipped.
    pub clipped_fraction: Option<f64>,
    /// Validation accuracy.
    pub valid_accuracy: Option<f64>,
    /// Validation loss.
    pub valid_loss: Option<f64>,
    /// Validation macro-F1.
    pub valid_macro_f1: Option<f64>,
    /// Validation worst-class accuracy.
    pub valid_worst_class: Option<f64>,
    /// Validation worst-domain accuracy.
    pub valid_worst_domain: Option<f64>,
    /// Test accuracy.
    pub test_accuracy: Option<f64>,
    /// Test loss.
    pub test_loss: Option<f64>,
    /// Test macro-F1.
    pub test_macro_f1: Option<f64>,
    /// Test worst-class accuracy.
    pub test_worst_class: Option<f64>,
    /// Test worst-domain accuracy.
    pub test_worst_domain: Option<f64>,
}

/// One row of a meta run's `metrics.csv`: a logged meta-step or a meta-validation evaluation.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct MetaMetricsRow {
    /// Meta-steps done.
    pub step: u64,
    /// `train` or `eval`.
    pub kind: String,
    /// Learning rate of the step.
    pub lr: Option<f64>,
    /// Unweighted mean episode loss.
    pub task_loss: Option<f64>,
    /// Weighted meta-batch loss `(1/B) Σ v_i L_i`.
    pub weighted_loss: Option<f64>,
    /// Smallest episode weight.
    pub task_weight_min: Option<f64>,
    /// Largest episode weight.
    pub task_weight_max: Option<f64>,
    /// Mean episode weight.
    pub task_weight_mean: Option<f64>,
    /// Smallest query weight.
    pub example_weight_min: Option<f32>,
    /// Largest query weight.
    pub example_weight_max: Option<f32>,
    /// Mean query weight.
    pub example_weight_mean: Option<f32>,
    /// Mean meta-validation accuracy.
    pub valid_accuracy: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A kill can cut the last row anywhere: every cut resumes to the rows before it.
    #[test]
    fn a_log_cut_at_every_byte_of_its_last_row_keeps_the_complete_rows() {
        let dir = tempfile::tempdir().unwrap();
        for (csv, text) in [
            (
                true,
                "step,kind,loss\n9,train,0.5\n10,eval,0.25\n123,train,0.125\n",
            ),
            (
                false,
                "{\"step\":9,\"w\":[1]}\n{\"step\":10,\"w\":[2]}\n{\"step\":123,\"w\":[3]}\n",
            ),
        ] {
            let last_row = text[..text.len() - 1].rfind('\n').unwrap() + 1;
            for cut in last_row..=text.len() {
                let path = dir.path().join(format!("log-{csv}-{cut}"));
                std::fs::write(&path, &text[..cut]).unwrap();
                truncate_log(&path, Some(1000), csv).unwrap();
                let kept = std::fs::read_to_string(&path).unwrap();
                let expected = if cut == text.len() {
                    text
                } else {
                    &text[..last_row]
                };
                assert_eq!(kept, expected, "cut at byte {cut}");
                // A resume to step 12 keeps the rows up to it.
                truncate_log(&path, Some(12), csv).unwrap();
                assert_eq!(std::fs::read_to_string(&path).unwrap(), &text[..last_row]);
            }
        }
    }
}
