//! Applies any rule to per-example losses with the weights detached.

use burn::prelude::*;
use rgd::{Rule, RuleConfig, RuleState, WeightStats, reweight_dyn};

use crate::{PerExampleLoss, RgdBurnError};

/// The result of reweighting one batch.
#[derive(Debug, Clone)]
pub struct WeightedLoss {
    /// `(1/B) Σ w_i l_i`, shape `[1]`: call `backward()` on it. The weights are constants.
    pub loss: Tensor<1>,
    /// The weights, in batch order (host copy).
    pub weights: Vec<f32>,
    /// The unweighted per-example losses (host copy).
    pub losses: Vec<f32>,
    /// Weight statistics for monitoring.
    pub stats: WeightStats,
}

impl WeightedLoss {
    /// The unweighted (ERM) mean loss of the batch.
    pub fn mean_loss(&self) -> f64 {
        self.losses.iter().map(|&l| f64::from(l)).sum::<f64>() / self.losses.len() as f64
    }

    /// The weighted mean loss `(1/B) Σ w_i l_i`, computed on the host.
    pub fn weighted_mean_loss(&self) -> f64 {
        let total: f64 = self
            .losses
            .iter()
            .zip(&self.weights)
            .map(|(&l, &w)| f64::from(l) * f64::from(w))
            .sum();
        total / self.losses.len() as f64
    }
}

/// Applies a reweighting rule inside a burn training loop.
///
/// Per step: read the per-example losses back (a `[B]` copy), compute the weights with the
/// rule, and return `mean(w * l)` where `w` is a constant tensor, so autodiff sees
/// `∇ = (1/B) Σ w_i ∇l_i` and never differentiates through the weights. The optimizer is not
/// touched: use any of burn's.
///
/// ```
/// use burn::prelude::*;
/// use rgd::{RgdConfig, RuleConfig};
/// use rgd_burn::{Reweighter, loss};
///
/// let device = Device::flex().autodiff();
/// let logits = Tensor::<2>::from_floats([[2.0, 0.0], [0.0, 3.0]], &device).require_grad();
/// let targets = Tensor::<1, Int>::from_ints([0, 0], &device);
/// let mut reweighter = Reweighter::new(&RuleConfig::Rgd(RgdConfig::new())).unwrap();
/// let out = reweighter.apply(loss::cross_entropy(logits.clone(), targets, 0.0).unwrap()).unwrap();
/// assert!(out.weights[1] > out.weights[0]); // the misclassified example weighs more
/// let grads = out.loss.backward();
/// assert!(logits.grad(&grads).is_some());
/// ```
pub struct Reweighter {
    rule: Box<dyn Rule>,
}

impl std::fmt::Debug for Reweighter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reweighter")
            .field("rule", &self.rule.name())
            .finish()
    }
}

impl Reweighter {
    /// Validates `config` and builds its rule.
    pub fn new(config: &RuleConfig) -> Result<Self, RgdBurnError> {
        Ok(Reweighter {
            rule: config.init()?,
        })
    }

    /// Wraps a rule built elsewhere (a custom one, say).
    pub fn from_rule(rule: Box<dyn Rule>) -> Self {
        Reweighter { rule }
    }

    /// The rule's name.
    pub fn name(&self) -> &'static str {
        self.rule.name()
    }

    /// The rule's state, for a checkpoint.
    pub fn state(&self) -> RuleState {
        self.rule.state()
    }

    /// Restores a state saved with [`Reweighter::state`].
    pub fn load_state(&mut self, state: &RuleState) -> Result<(), RgdBurnError> {
        Ok(self.rule.load_state(state)?)
    }

    /// Reweights one batch of per-example losses.
    pub fn apply(&mut self, losses: PerExampleLoss) -> Result<WeightedLoss, RgdBurnError> {
        self.apply_inner(losses, None)
    }

    /// Reweights one batch whose examples carry group ids (for Group DRO).
    pub fn apply_grouped(
        &mut self,
        losses: PerExampleLoss,
        groups: &[usize],
    ) -> Result<WeightedLoss, RgdBurnError> {
        self.apply_inner(losses, Some(groups))
    }

    /// Reweights one batch split into shards, for data-parallel training: each shard's
    /// per-example losses live on its own device (a model replica's). The rule sees the whole
    /// batch's `B` losses, gathered to the host in shard order, so rules that normalise over the
    /// batch (TERM, CVaR, chi-square DRO, Group DRO) or keep a running normaliser (ABSGD) give the
    /// weights of the unsharded batch. Returns each shard's `(1/B) Σ_{i ∈ shard} w_i l_i`, whose
    /// gradients sum to the whole batch's, and the whole batch's [`WeightedLoss`] (its `loss` is
    /// the sum of the shards' on the first shard's device). `groups` are the whole batch's, in
    /// shard order.
    ///
    /// ```
    /// use burn::prelude::*;
    /// use rgd::{RuleConfig, TermConfig};
    /// use rgd_burn::{PerExampleLoss, Reweighter};
    ///
    /// let device = Device::flex().autodiff();
    /// let shard = |v: &[f32]| PerExampleLoss::new(Tensor::<1>::from_floats(v, &device), v.len()).unwrap();
    /// let term = RuleConfig::Term(TermConfig::new(1.0));
    /// let (whole, mut sharded) = (Reweighter::new(&term).unwrap(), Reweighter::new(&term).unwrap());
    /// let (shards, out) = sharded.apply_sharded(vec![shard(&[0.5, 2.0]), shard(&[1.0])], None).unwrap();
    /// let reference = { let mut w = whole; w.apply(shard(&[0.5, 2.0, 1.0])).unwrap() };
    /// assert_eq!(shards.len(), 2);
    /// assert_eq!(out.weights, reference.weights); // TERM normalises over all three
    /// ```
    pub fn apply_sharded(
        &mut self,
        shards: Vec<PerExampleLoss>,
        groups: Option<&[usize]>,
    ) -> Result<(Vec<Tensor<1>>, WeightedLoss), RgdBurnError> {
        let tensors: Vec<Tensor<1>> = shards
            .into_iter()
            .map(PerExampleLoss::into_tensor)
            .collect();
        let batch: usize = tensors.iter().map(|t| t.dims()[0]).sum();
        if tensors.is_empty() {
            return Err(RgdBurnError::InvalidParameter {
                field: "shards",
                value: 0.0,
                allowed: "at least one shard",
            });
        }
        let mut host = Vec::with_capacity(batch);
        for t in &tensors {
            host.extend(read_back(t)?);
        }
        let reweighted = reweight_dyn(self.rule.as_mut(), &host, groups)?;
        let mut start = 0;
        let shard_losses: Vec<Tensor<1>> = (tensors.into_iter())
            .map(|t| {
                let n = t.dims()[0];
                let w = &reweighted.weights[start..start + n];
                start += n;
                // Constants from host data: no gradient flows into the weights.
                let weights = Tensor::<1>::from_data(TensorData::new(w.to_vec(), [n]), &t.device());
                (t * weights).sum().div_scalar(batch as f64)
            })
            .collect();
        let first = shard_losses[0].device();
        let total = (shard_losses[1..].iter()).fold(shard_losses[0].clone(), |acc, l| {
            acc + l.clone().to_device(&first)
        });
        Ok((
            shard_losses,
            WeightedLoss {
                loss: total,
                weights: reweighted.weights,
                losses: host,
                stats: reweighted.stats,
            },
        ))
    }

    fn apply_inner(
        &mut self,
        losses: PerExampleLoss,
        groups: Option<&[usize]>,
    ) -> Result<WeightedLoss, RgdBurnError> {
        let losses = losses.into_tensor();
        let batch = losses.dims()[0];
        let host = read_back(&losses)?;
        let reweighted = reweight_dyn(self.rule.as_mut(), &host, groups)?;
        let device = losses.device();
        // A tensor created from host data is a constant: no gradient flows into the weights.
        let weights = Tensor::<1>::from_data(
            TensorData::new(reweighted.weights.clone(), [batch]),
            &device,
        );
        Ok(WeightedLoss {
            loss: (losses * weights).mean(),
            weights: reweighted.weights,
            losses: host,
            stats: reweighted.stats,
        })
    }
}

/// A `[B]` tensor's values on the host.
fn read_back(losses: &Tensor<1>) -> Result<Vec<f32>, RgdBurnError> {
    (losses.clone().detach().into_data())
        .try_into_vec_as::<f32>()
        .map_err(|e| RgdBurnError::Readback(format!("{e:?}")))
}
