//! Classification metrics from predicted and true labels.

use serde::{Deserialize, Serialize};

/// Metrics of one evaluation of one split.
///
/// ```
/// use rgd_lab::metrics::Metrics;
/// let m = Metrics::compute(&[0, 1, 1, 1], &[0, 1, 0, 1], 2, None);
/// assert_eq!(m.accuracy, 0.75);
/// assert_eq!(m.worst_class_accuracy, 0.5); // class 0: one of two right
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Fraction of correct predictions.
    pub accuracy: f64,
    /// Mean per-class recall.
    pub balanced_accuracy: f64,
    /// Smallest per-class recall (over classes present in the split).
    pub worst_class_accuracy: f64,
    /// Mean per-class F1 score.
    pub macro_f1: f64,
    /// Smallest per-domain accuracy, if the data has domains.
    pub worst_domain_accuracy: Option<f64>,
    /// Mean cross-entropy of the split.
    pub loss: f64,
}

impl Metrics {
    /// Computes the metrics of `predicted` against `truth` (loss left at 0).
    pub fn compute(
        predicted: &[u32],
        truth: &[u32],
        classes: usize,
        domains: Option<&[u32]>,
    ) -> Self {
        let mut tp = vec![0usize; classes];
        let mut support = vec![0usize; classes];
        let mut predicted_count = vec![0usize; classes];
        for (&p, &t) in predicted.iter().zip(truth) {
            support[t as usize] += 1;
            predicted_count[p as usize] += 1;
            tp[t as usize] += usize::from(p == t);
        }
        let present: Vec<usize> = (0..classes).filter(|&c| support[c] > 0).collect();
        // Both of present classes only (support > 0): no division by zero.
        let recall = |c: usize| tp[c] as f64 / support[c] as f64;
        let f1 = |c: usize| 2.0 * tp[c] as f64 / (support[c] + predicted_count[c]) as f64;
        let n_present = present.len().max(1) as f64;
        let worst_domain_accuracy = domains.map(|domains| {
            let n_domains = domains.iter().max().map_or(0, |&d| d as usize + 1);
            let mut right = vec![0usize; n_domains];
            let mut total = vec![0usize; n_domains];
            for ((&p, &t), &d) in predicted.iter().zip(truth).zip(domains) {
                total[d as usize] += 1;
                right[d as usize] += usize::from(p == t);
            }
            (0..n_domains)
                .filter(|&d| total[d] > 0)
                .map(|d| right[d] as f64 / total[d] as f64)
                .fold(f64::INFINITY, f64::min)
        });
        Metrics {
            accuracy: tp.iter().sum::<usize>() as f64 / truth.len().max(1) as f64,
            balanced_accuracy: present.iter().map(|&c| recall(c)).sum::<f64>() / n_present,
            worst_class_accuracy: present.iter().map(|&c| recall(c)).fold(1.0, f64::min),
            macro_f1: present.iter().map(|&c| f1(c)).sum::<f64>() / n_present,
            worst_domain_accuracy,
            loss: 0.0,
        }
    }
}

/// Evaluation results at one step.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Steps done when evaluated.
    pub step: u64,
    /// Validation metrics.
    pub valid: Metrics,
    /// Test metrics.
    pub test: Metrics,
    /// Training-split metrics, against the training labels (noisy ones under label noise),
    /// when `train.eval_train` asks for them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train: Option<Metrics>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macro_f1_and_domains() {
        // class 0: tp 1, support 2, predicted 1 -> f1 = 2/3; class 1: tp 2, support 2, pred 3 -> 0.8
        let m = Metrics::compute(&[0, 1, 1, 1], &[0, 0, 1, 1], 2, Some(&[0, 0, 1, 1]));
        assert!((m.macro_f1 - (2.0 / 3.0 + 0.8) / 2.0).abs() < 1e-12);
        assert_eq!(m.balanced_accuracy, 0.75);
        assert_eq!(m.worst_domain_accuracy, Some(0.5));
    }
}
