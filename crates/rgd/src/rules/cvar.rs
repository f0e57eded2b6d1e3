//! CVaR: the exact worst case over the hardest `alpha` fraction of each batch.

use crate::error::invalid;
use crate::{RgdError, Rule, RuleState};

/// Configuration of [`Cvar`]: the exact CVaR at level `alpha` of the batch's empirical loss
/// distribution (Levy, Carmon, Duchi, Sidford, "Large-Scale Methods for Distributionally Robust
/// Optimization", NeurIPS 2020).
///
/// The weights are `w_i = B q_i`, with `q` the worst case
/// `max_q Σ q_i l_i` over distributions on the batch with `q_i <= 1/(alpha B)`:
///
/// - `1/alpha` on the `m = floor(alpha B)` largest losses,
/// - the remaining mass `B (1 - m/(alpha B))` on the next one,
/// - 0 elsewhere,
///
/// so the batch mean is 1 and `(1/B) Σ w_i l_i` is the CVaR of the batch. When `alpha B` is an
/// integer `k` the rule puts `B / k` (computed as exactly that) on the `k` largest losses; `alpha
/// B` counts as an integer up to a relative `1e-9` of float noise, so `alpha = 0.3, B = 10` gives
/// weight `10/3` on 3 examples. When `alpha B < 1` all mass `B` goes on the largest loss.
/// `alpha = 1` is ERM. Ties are broken by batch position (a stable sort by descending loss,
/// earlier examples first), so the rule is deterministic. Used on minibatches this is the biased
/// minibatch estimator of CVaR of Levy et al. (their `RobustLoss`, geometry cvar, reg 0). It is
/// not top-k / OHEM (`B/k` on `k = ceil(alpha B)`), which differs from it when `alpha B` is
/// fractional.
///
/// ```
/// use rgd::{CvarConfig, Rule};
/// // alpha B = 0.4 * 5 = 2: weight B/2 = 2.5 on the two largest losses.
/// let mut cvar = CvarConfig::new(0.4).init().unwrap();
/// let w = cvar.reweight(&[0.1_f64, 3.0, 0.2, 2.0, 1.0]).unwrap().weights;
/// assert_eq!(w, vec![0.0, 2.5, 0.0, 2.5, 0.0]);
///
/// // alpha B = 0.1 * 64 = 6.4: weight 10 on the six largest, the rest (4) on the seventh.
/// let mut cvar = CvarConfig::new(0.1).init().unwrap();
/// let losses: Vec<f64> = (0..64).map(|i| i as f64).collect();
/// let w = cvar.reweight(&losses).unwrap().weights;
/// assert!(w[58..].iter().all(|&w| w == 10.0));
/// assert_eq!(w[57], 4.0);
/// assert!(w[..57].iter().all(|&w| w == 0.0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields, default))]
pub struct CvarConfig {
    /// Level: the fraction of the batch the worst case spreads over (each `q_i <= 1/(alpha B)`),
    /// in `(0, 1]`.
    pub alpha: f64,
}

/// CVaR at alpha 0.5. Also what a config naming the rule alone gets.
impl Default for CvarConfig {
    fn default() -> Self {
        CvarConfig { alpha: 0.5 }
    }
}

impl CvarConfig {
    /// CVaR at level `alpha`.
    pub fn new(alpha: f64) -> Self {
        CvarConfig { alpha }
    }

    /// Validates the configuration and builds the rule.
    pub fn init(self) -> Result<Cvar, RgdError> {
        if !(self.alpha > 0.0 && self.alpha <= 1.0) {
            return Err(invalid(
                "CVaR",
                "alpha",
                self.alpha,
                "alpha must lie in (0, 1] (the fraction of each batch kept; try 0.5)",
            ));
        }
        Ok(Cvar {
            config: self,
            steps: 0,
        })
    }
}

/// The CVaR rule built by [`CvarConfig::init`].
#[derive(Debug, Clone, PartialEq)]
pub struct Cvar {
    config: CvarConfig,
    steps: u64,
}

impl Cvar {
    /// How many examples of a batch of `batch` get a nonzero weight: `ceil(alpha * batch)`
    /// (at least 1), with `alpha * batch` within a relative `1e-9` of an integer counting as
    /// that integer. All but the last of them get the full weight `1/alpha` unless `alpha *
    /// batch` is an integer, in which case all of them get `batch / kept`.
    ///
    /// ```
    /// let cvar = rgd::CvarConfig::new(0.3).init().unwrap();
    /// assert_eq!(cvar.kept(10), 3);
    /// assert_eq!(cvar.kept(11), 4);
    /// assert_eq!(cvar.kept(1), 1);
    /// ```
    pub fn kept(&self, batch: usize) -> usize {
        self.split(batch).0
    }

    /// `(k, m)`: `k` examples get a nonzero weight, the first `m` of them (in descending loss
    /// order) the full weight. `m == k` exactly when `alpha * batch` is an integer up to float
    /// noise; otherwise `m == k - 1 == floor(alpha * batch)`.
    fn split(&self, batch: usize) -> (usize, usize) {
        let exact = self.config.alpha * batch as f64;
        // Round up after removing float noise (the historical top-k count) and round down after
        // adding it: the two agree exactly when `exact` is an integer up to noise.
        let k = ((exact * (1.0 - 1e-9)).ceil() as usize).clamp(1, batch);
        let m = ((exact * (1.0 + 1e-9)).floor() as usize).min(k);
        (k, m)
    }
}

impl Rule for Cvar {
    fn name(&self) -> &'static str {
        "cvar"
    }

    fn compute(
        &mut self,
        losses: &[f64],
        _groups: Option<&[usize]>,
        weights: &mut [f64],
    ) -> Result<usize, RgdError> {
        self.steps += 1;
        let n = losses.len();
        let (k, m) = self.split(n);
        let mut order: Vec<usize> = (0..n).collect();
        // Stable sort: equal losses keep batch order, so earlier examples win ties.
        order.sort_by(|&a, &b| losses[b].total_cmp(&losses[a]));
        weights.fill(0.0);
        if m == k {
            // alpha B is the integer k: B/k on the k largest (bit for bit the top-k weight).
            let weight = n as f64 / k as f64;
            for &i in &order[..k] {
                weights[i] = weight;
            }
        } else {
            // alpha B is fractional: the cap 1/alpha on the m = floor(alpha B) largest, the
            // remaining mass B - m/alpha = B (1 - m/(alpha B)) on the next one.
            let cap = 1.0 / self.config.alpha;
            for &i in &order[..m] {
                weights[i] = cap;
            }
            weights[order[m]] = (n as f64 - m as f64 * cap).clamp(0.0, cap);
        }
        Ok(0)
    }

    fn state(&self) -> RuleState {
        RuleState::steps_only(self.steps)
    }

    fn load_state(&mut self, state: &RuleState) -> Result<(), RgdError> {
        self.steps = state.expect_steps_only("CVaR")?;
        Ok(())
    }
}
