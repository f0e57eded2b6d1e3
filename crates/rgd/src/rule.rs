//! The one interface every reweighting rule implements.

use crate::{RgdError, WeightStats};

/// A floating-point type losses and weights can be given in (`f32` or `f64`).
///
/// Rules compute in `f64` whatever the input type, so `f32` losses get weights as exact as the
/// `f32` result allows.
pub trait Real: Copy + Send + Sync + 'static + private::Sealed {
    /// Widens to `f64`.
    fn to_f64(self) -> f64;
    /// Narrows from `f64` (rounding to nearest).
    fn from_f64(value: f64) -> Self;
}

impl Real for f32 {
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    fn from_f64(value: f64) -> Self {
        value as f32
    }
}

impl Real for f64 {
    fn to_f64(self) -> f64 {
        self
    }
    fn from_f64(value: f64) -> Self {
        value
    }
}

mod private {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// The result of reweighting one minibatch: one weight per example and their statistics.
///
/// The training loss is always the plain mean `(1/B) Σ w_i l_i`
/// ([`Reweighted::weighted_mean`]); the weights are constants for autodiff.
#[derive(Debug, Clone, PartialEq)]
pub struct Reweighted<F> {
    /// One weight per example, in batch order.
    pub weights: Vec<F>,
    /// Minimum, maximum, mean, effective sample size and clipped fraction of the weights.
    pub stats: WeightStats,
}

impl<F: Real> Reweighted<F> {
    /// The weighted training loss `(1/B) Σ w_i l_i` (computed in `f64`).
    ///
    /// ```
    /// use rgd::{Rule, RgdConfig};
    /// let mut rule = RgdConfig::new().init().unwrap();
    /// let losses = [0.0_f64, 2.0];
    /// let r = rule.reweight(&losses).unwrap();
    /// let expected = (1.0 * 0.0 + 0.5_f64.exp() * 2.0) / 2.0;
    /// assert!((r.weighted_mean(&losses) - expected).abs() < 1e-12);
    /// ```
    pub fn weighted_mean(&self, losses: &[F]) -> f64 {
        assert_eq!(losses.len(), self.weights.len(), "one loss per weight");
        let sum: f64 = losses
            .iter()
            .zip(&self.weights)
            .map(|(l, w)| l.to_f64() * w.to_f64())
            .sum();
        sum / losses.len() as f64
    }
}

/// The explicit state of a stateful rule, for checkpoints.
///
/// `steps` counts the batches the rule has seen; `values` holds the rule's own numbers
/// (ABSGD: `[log u]` once initialised; Group DRO: the log group weights). Stateless rules
/// return `steps` only.
///
/// ```
/// use rgd::{AbsgdConfig, Rule};
/// let mut rule = AbsgdConfig::new(1.0).init().unwrap();
/// rule.reweight(&[0.5_f64, 1.5]).unwrap();
/// let saved = rule.state();
/// let mut restored = AbsgdConfig::new(1.0).init().unwrap();
/// restored.load_state(&saved).unwrap();
/// assert_eq!(restored.state(), saved);
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RuleState {
    /// Batches seen so far.
    pub steps: u64,
    /// Rule-specific numbers (see the rule's documentation).
    pub values: Vec<f64>,
}

impl RuleState {
    /// The state of a rule that only counts batches.
    pub(crate) fn steps_only(steps: u64) -> Self {
        RuleState {
            steps,
            values: Vec::new(),
        }
    }

    /// Checks that this is the state of a rule that only counts batches and returns the count.
    pub(crate) fn expect_steps_only(&self, rule: &'static str) -> Result<u64, RgdError> {
        if self.values.is_empty() {
            Ok(self.steps)
        } else {
            Err(RgdError::StateMismatch {
                rule,
                reason: format!("expected no values, got {}", self.values.len()),
            })
        }
    }
}

/// A per-example reweighting rule: per-example losses in, detached weights out.
///
/// Implementors write [`Rule::compute`] on validated `f64` losses; users call
/// [`Rule::reweight`] (or [`Rule::reweight_grouped`] for rules that need group ids), which checks
/// the batch (non-empty, finite, groups consistent), converts, and computes the statistics.
/// Every rule returns weights scaled so that the training loss is the plain batch mean of
/// `w_i * l_i`; normalising rules return weights whose batch mean is 1.
///
/// ```
/// use rgd::{Rule, RgdConfig};
/// let mut rule = RgdConfig::new().with_tau(1.0).init().unwrap();
/// let r = rule.reweight(&[0.1_f32, 0.5, 2.0]).unwrap();
/// // w = exp(min(l, tau) / (tau + 1)): 1.051, 1.284, 1.649 (method.md's worked values)
/// assert!((r.weights[0] - 1.051).abs() < 1e-3);
/// assert!((r.weights[1] - 1.284).abs() < 1e-3);
/// assert!((r.weights[2] - 1.649).abs() < 1e-3);
/// assert!((r.stats.clipped_fraction - 1.0 / 3.0).abs() < 1e-12);
/// ```
pub trait Rule: Send {
    /// Short name of the rule, e.g. `"rgd"`.
    fn name(&self) -> &'static str;

    /// Writes one weight per loss into `weights` and returns how many losses were clipped.
    ///
    /// `losses` are finite and non-empty, `weights` has the same length, and `groups`, when
    /// given, has one id per loss. Rules that ignore groups ignore them.
    fn compute(
        &mut self,
        losses: &[f64],
        groups: Option<&[usize]>,
        weights: &mut [f64],
    ) -> Result<usize, RgdError>;

    /// The rule's state for a checkpoint.
    fn state(&self) -> RuleState;

    /// Restores a state returned by [`Rule::state`] of the same rule and configuration.
    fn load_state(&mut self, state: &RuleState) -> Result<(), RgdError>;

    /// Reweights one minibatch of per-example losses.
    fn reweight<F: Real>(&mut self, losses: &[F]) -> Result<Reweighted<F>, RgdError>
    where
        Self: Sized,
    {
        reweight_dyn(self, losses, None)
    }

    /// Reweights one minibatch whose examples carry group ids (domains, classes).
    fn reweight_grouped<F: Real>(
        &mut self,
        losses: &[F],
        groups: &[usize],
    ) -> Result<Reweighted<F>, RgdError>
    where
        Self: Sized,
    {
        reweight_dyn(self, losses, Some(groups))
    }
}

/// [`Rule::reweight`] for a `dyn Rule` (what [`crate::RuleConfig::init`] returns).
///
/// ```
/// use rgd::{reweight_dyn, RuleConfig};
/// let mut rule = RuleConfig::Erm.init().unwrap();
/// let r = reweight_dyn(rule.as_mut(), &[1.0_f64, 2.0], None).unwrap();
/// assert_eq!(r.weights, vec![1.0, 1.0]);
/// ```
pub fn reweight_dyn<F: Real, R: Rule + ?Sized>(
    rule: &mut R,
    losses: &[F],
    groups: Option<&[usize]>,
) -> Result<Reweighted<F>, RgdError> {
    if losses.is_empty() {
        return Err(RgdError::EmptyBatch);
    }
    if let Some(groups) = groups
        && groups.len() != losses.len()
    {
        return Err(RgdError::LengthMismatch {
            losses: losses.len(),
            groups: groups.len(),
        });
    }
    let wide: Vec<f64> = losses.iter().map(|l| l.to_f64()).collect();
    if let Some((index, &value)) = wide.iter().enumerate().find(|(_, l)| !l.is_finite()) {
        return Err(RgdError::NonFiniteLoss { index, value });
    }
    let mut weights = vec![0.0; wide.len()];
    let clipped = rule.compute(&wide, groups, &mut weights)?;
    let stats = WeightStats::from_weights(&weights, clipped);
    Ok(Reweighted {
        weights: weights.into_iter().map(F::from_f64).collect(),
        stats,
    })
}
