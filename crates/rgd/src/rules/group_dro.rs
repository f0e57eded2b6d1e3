//! Group distributionally robust optimisation (Sagawa, Koh, Hashimoto, Liang, ICLR 2020).

use crate::error::invalid;
use crate::{RgdError, Rule, RuleState};

/// Configuration of [`GroupDro`]: exponentiated-gradient group weights kept across steps.
///
/// ```text
/// q_g <- q_g exp(eta * mean loss of group g in the batch), then q <- q / Σ q
/// w_i  = B q_g / (n_g Σ_{h present} q_h)      for example i of group g
/// ```
///
/// Groups absent from a batch keep their weight. The batch mean of the weights is 1, so the
/// loss `(1/B) Σ w_i l_i = Σ_g q_g mean_g(l) / Σ_present q`. The state is the vector of log group
/// weights (kept in the log domain so long runs cannot underflow). Reference: S. Sagawa, P. W.
/// Koh, T. B. Hashimoto, P. Liang, "Distributionally Robust Neural Networks", ICLR 2020.
///
/// ```
/// use rgd::{GroupDroConfig, Rule};
/// let mut dro = GroupDroConfig::new(2, 1.0).init().unwrap();
/// let r = dro.reweight_grouped(&[1.0_f64, 1.0, 3.0], &[0, 0, 1]).unwrap();
/// // q = softmax([1, 3]); group 1 has one example carrying most of the weight.
/// let q1 = 1.0 / (1.0 + (-2.0_f64).exp());
/// assert!((r.weights[2] - 3.0 * q1).abs() < 1e-12);
/// assert!((r.stats.mean - 1.0).abs() < 1e-12);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields, default))]
pub struct GroupDroConfig {
    /// Number of groups; ids run `0..n_groups`. At least 1.
    pub n_groups: usize,
    /// Step size `eta` of the group-weight update: finite, `> 0`.
    pub eta: f64,
}

/// Group DRO over 1 group (the lab raises it to the number of groups of the data) with eta 0.01. Also what a config naming the rule alone gets.
impl Default for GroupDroConfig {
    fn default() -> Self {
        GroupDroConfig {
            n_groups: 1,
            eta: 0.01,
        }
    }
}

impl GroupDroConfig {
    /// Group DRO over `n_groups` groups with step size `eta`.
    pub fn new(n_groups: usize, eta: f64) -> Self {
        GroupDroConfig { n_groups, eta }
    }

    /// Validates the configuration and builds the rule, with uniform group weights.
    pub fn init(self) -> Result<GroupDro, RgdError> {
        if self.n_groups == 0 {
            return Err(invalid(
                "Group DRO",
                "n_groups",
                self.n_groups,
                "n_groups must be at least 1 (the number of distinct group ids)",
            ));
        }
        if !(self.eta.is_finite() && self.eta > 0.0) {
            return Err(invalid(
                "Group DRO",
                "eta",
                self.eta,
                "eta must be a finite number > 0 (the group-weight step size; try 0.01)",
            ));
        }
        let uniform = -(self.n_groups as f64).ln();
        Ok(GroupDro {
            config: self,
            steps: 0,
            log_q: vec![uniform; self.n_groups],
        })
    }
}

/// The Group DRO rule built by [`GroupDroConfig::init`].
#[derive(Debug, Clone, PartialEq)]
pub struct GroupDro {
    config: GroupDroConfig,
    steps: u64,
    log_q: Vec<f64>,
}

impl GroupDro {
    /// The current group weights `q` (they sum to 1).
    pub fn group_weights(&self) -> Vec<f64> {
        self.log_q.iter().map(|l| l.exp()).collect()
    }
}

impl Rule for GroupDro {
    fn name(&self) -> &'static str {
        "groupdro"
    }

    fn compute(
        &mut self,
        losses: &[f64],
        groups: Option<&[usize]>,
        weights: &mut [f64],
    ) -> Result<usize, RgdError> {
        let groups = groups.ok_or(RgdError::MissingGroups { rule: "Group DRO" })?;
        let n_groups = self.config.n_groups;
        let mut count = vec![0usize; n_groups];
        let mut sum = vec![0.0; n_groups];
        for (index, (&g, &l)) in groups.iter().zip(losses).enumerate() {
            if g >= n_groups {
                return Err(RgdError::GroupOutOfRange {
                    index,
                    group: g,
                    n_groups,
                });
            }
            count[g] += 1;
            sum[g] += l;
        }
        self.steps += 1;
        for g in 0..n_groups {
            if count[g] > 0 {
                self.log_q[g] += self.config.eta * sum[g] / count[g] as f64;
            }
        }
        let log_total =
            crate::math::log_mean_exp(self.log_q.iter().copied()) + (n_groups as f64).ln();
        self.log_q.iter_mut().for_each(|l| *l -= log_total);
        let present: f64 = (0..n_groups)
            .filter(|&g| count[g] > 0)
            .map(|g| self.log_q[g].exp())
            .sum();
        let batch = losses.len() as f64;
        for (w, &g) in weights.iter_mut().zip(groups) {
            *w = batch * self.log_q[g].exp() / (count[g] as f64 * present);
        }
        Ok(0)
    }

    fn state(&self) -> RuleState {
        RuleState {
            steps: self.steps,
            values: self.log_q.clone(),
        }
    }

    fn load_state(&mut self, state: &RuleState) -> Result<(), RgdError> {
        if state.values.len() != self.config.n_groups || state.values.iter().any(|v| !v.is_finite())
        {
            return Err(RgdError::StateMismatch {
                rule: "Group DRO",
                reason: format!(
                    "expected {} finite log group weights, got {:?}",
                    self.config.n_groups, state.values
                ),
            });
        }
        self.log_q.clone_from(&state.values);
        self.steps = state.steps;
        Ok(())
    }
}
