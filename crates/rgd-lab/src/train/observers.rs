//! The supervised run's own observers of the engine: `weights.jsonl` and the weight trace.

use rgd_burn::WeightedLoss;
use serde::{Deserialize, Serialize};

use super::Supervised;
use crate::LabError;
use crate::engine::{NoState, Observer};
use crate::metrics::Evaluation;
use crate::metrics_log::{append_weights, truncate_log};
use crate::weight_trace::{WeightSnapshot, WeightWindow};

/// `weights.jsonl` at this path: the last batch's weights at each evaluation, one JSON line
/// `{"step": s, "weights": [...]}`; cut back to the checkpoint on resume.
pub struct WeightLog(pub std::path::PathBuf);

impl Observer<Supervised<'_>> for WeightLog {
    type State = NoState;

    fn start(
        &mut self,
        _: &Supervised<'_>,
        resumed: Option<(u64, &NoState)>,
    ) -> Result<(), LabError> {
        truncate_log(&self.0, resumed.map(|(step, _)| step), false)
    }

    fn stepped(
        &mut self,
        _: &Supervised<'_>,
        step: u64,
        _: f64,
        out: &WeightedLoss,
        eval: Option<&Evaluation>,
    ) -> Result<(), LabError> {
        if eval.is_some() {
            append_weights(&self.0, step + 1, &out.weights)?;
        }
        Ok(())
    }
}

/// The weight statistics of a run: every step's weights go into the window of the next
/// evaluation, which closes it into a [`WeightSnapshot`]. Checkpointed whole, so a resumed run
/// reports the same trace.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WeightTrace {
    /// The steps since the last evaluation.
    #[serde(default)]
    window: WeightWindow,
    /// Each finished evaluation window, in step order.
    #[serde(default)]
    pub(crate) trace: Vec<WeightSnapshot>,
}

impl Observer<Supervised<'_>> for WeightTrace {
    type State = WeightTrace;

    fn start(
        &mut self,
        _: &Supervised<'_>,
        resumed: Option<(u64, &WeightTrace)>,
    ) -> Result<(), LabError> {
        *self = resumed.map_or_else(WeightTrace::default, |(_, saved)| saved.clone());
        Ok(())
    }

    fn stepped(
        &mut self,
        task: &Supervised<'_>,
        step: u64,
        _: f64,
        out: &WeightedLoss,
        eval: Option<&Evaluation>,
    ) -> Result<(), LabError> {
        // The batch's training labels and, under label noise, whether each was flipped.
        let (data, rows) = (&task.data, &task.rows);
        let labels: Vec<u32> = rows.iter().map(|&r| data.train.labels[r]).collect();
        let flipped: Option<Vec<bool>> =
            (data.train_flipped.as_ref()).map(|f| rows.iter().map(|&r| f[r]).collect());
        self.window.add(&out.weights, &labels, flipped.as_deref());
        if eval.is_some() {
            self.trace.extend(self.window.take(step + 1));
        }
        Ok(())
    }

    fn save(&mut self) -> Result<WeightTrace, LabError> {
        Ok(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Both;

    /// The observers' state of a supervised run as the engine saves it: the progress bar and
    /// the metrics log (nothing), then the weight log (nothing) and the trace.
    type Saved = Both<Both<NoState, NoState>, Both<NoState, WeightTrace>>;

    #[test]
    fn the_trace_reads_from_a_checkpoint_written_before_observers() {
        // checkpoint/state.json of a build where the window and the trace were task state.
        let old = r#"{"step": 20, "best": null, "last": null, "elapsed_secs": 1.5,
            "rule": {"kind": "stateless"},
            "window": {"total": 3.0, "count": 2, "flipped_weight": 0.0, "flipped_count": 0,
                       "has_flipped": false, "class_weight": [1.0, 2.0], "class_count": [1, 1]},
            "trace": [{"step": 10, "mean_weight": 1.0, "class_mean_weight": [1.0, null],
                       "flipped_fraction": null, "flipped_weight_share": null}]}"#;
        let saved: Saved = serde_json::from_str(old).unwrap();
        let json = serde_json::to_value(&saved).unwrap();
        assert_eq!(
            json.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["trace", "window"],
            "the observers add exactly the two keys the task used to write"
        );
        let mut trace = WeightTrace::default();
        let mut window = WeightWindow::default();
        window.add(&[1.0, 2.0], &[0, 1], None);
        trace.window = window;
        assert_eq!(json["window"], serde_json::to_value(&trace.window).unwrap());
        assert_eq!(json["trace"][0]["step"], 10);
    }
}
