//! Where the weight goes during training: per evaluation window, the mean weight of each
//! (observed) class and, under label noise, the share of the total weight on flipped examples.
//!
//! Under ERM every example weighs 1, so the flipped share equals the flipped fraction; a rule
//! that up-weights high losses (RGD, positive-tilt TERM) puts more than its share on flipped
//! labels once the clean ones are fitted, and a negative tilt puts less.

use serde::{Deserialize, Serialize};

/// Running sums of one evaluation window.
///
/// ```
/// use rgd_lab::weight_trace::WeightWindow;
/// let mut w = WeightWindow::default();
/// w.add(&[1.0, 3.0], &[0, 1], Some(&[false, true]));
/// let s = w.take(10).unwrap();
/// assert_eq!(s.flipped_weight_share, Some(0.75)); // 3 of 4
/// assert_eq!(s.flipped_fraction, Some(0.5));
/// assert_eq!(s.class_mean_weight, vec![Some(1.0), Some(3.0)]);
/// assert_eq!(s.class_weight_share, vec![0.25, 0.75]);
/// assert!(w.take(20).is_none(), "the window restarts empty");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WeightWindow {
    total: f64,
    count: u64,
    flipped_weight: f64,
    flipped_count: u64,
    has_flipped: bool,
    class_weight: Vec<f64>,
    class_count: Vec<u64>,
}

/// The weight statistics of one window, recorded in `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightSnapshot {
    /// Steps done at the end of the window.
    pub step: u64,
    /// Mean weight over the window's examples.
    pub mean_weight: f64,
    /// Mean weight of the examples of each observed (possibly noisy) label; `None` for a class
    /// with no example in the window.
    pub class_mean_weight: Vec<Option<f64>>,
    /// Each class's share of the window's total weight (its examples' share under ERM). Records
    /// written before this field existed have none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub class_weight_share: Vec<f64>,
    /// Under label noise: the fraction of the window's examples whose label was flipped.
    pub flipped_fraction: Option<f64>,
    /// Under label noise: the flipped examples' share of the window's total weight.
    pub flipped_weight_share: Option<f64>,
}

impl WeightWindow {
    /// Adds one batch: its weights, observed labels and (under label noise) flipped flags.
    pub fn add(&mut self, weights: &[f32], labels: &[u32], flipped: Option<&[bool]>) {
        for (i, (&w, &label)) in weights.iter().zip(labels).enumerate() {
            let (w, c) = (f64::from(w), label as usize);
            if self.class_weight.len() <= c {
                self.class_weight.resize(c + 1, 0.0);
                self.class_count.resize(c + 1, 0);
            }
            self.class_weight[c] += w;
            self.class_count[c] += 1;
            self.total += w;
            self.count += 1;
            if let Some(f) = flipped {
                self.has_flipped = true;
                if f[i] {
                    self.flipped_weight += w;
                    self.flipped_count += 1;
                }
            }
        }
    }

    /// The window's statistics at `step` (`None` if it saw no example); starts a new window.
    pub fn take(&mut self, step: u64) -> Option<WeightSnapshot> {
        let w = std::mem::take(self);
        if w.count == 0 {
            return None;
        }
        let noisy = |v: f64| w.has_flipped.then_some(v);
        Some(WeightSnapshot {
            step,
            mean_weight: w.total / w.count as f64,
            class_mean_weight: (w.class_weight.iter().zip(&w.class_count))
                .map(|(&s, &n)| (n > 0).then(|| s / n as f64))
                .collect(),
            class_weight_share: (w.class_weight.iter())
                .map(|&s| s / w.total.max(f64::MIN_POSITIVE))
                .collect(),
            flipped_fraction: noisy(w.flipped_count as f64 / w.count as f64),
            flipped_weight_share: noisy(w.flipped_weight / w.total.max(f64::MIN_POSITIVE)),
        })
    }
}
