//! The one error type of the `rgd` crate.

use thiserror::Error;

/// Everything that can go wrong when building or applying a reweighting rule.
///
/// Every message names what was wrong and how to fix it.
///
/// ```
/// use rgd::{RgdConfig, RgdError};
/// let err = RgdConfig::new().with_tau(-1.0).init().unwrap_err();
/// assert!(matches!(err, RgdError::InvalidConfig { field: "tau", .. }));
/// assert_eq!(
///     err.to_string(),
///     "invalid RGD config: tau = -1 is out of range; tau must be a finite number > 0 (try 1.0)"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Error)]
pub enum RgdError {
    /// A configuration field is outside its allowed range.
    #[error("invalid {rule} config: {field} = {value} is out of range; {allowed}")]
    InvalidConfig {
        /// The rule whose config was rejected, e.g. `"RGD"`.
        rule: &'static str,
        /// The offending field.
        field: &'static str,
        /// The rejected value, formatted.
        value: String,
        /// The allowed range, phrased as a fix.
        allowed: &'static str,
    },
    /// The batch holds no losses.
    #[error("empty batch: a rule needs at least one per-example loss")]
    EmptyBatch,
    /// A loss is NaN or infinite.
    #[error(
        "loss {index} of the batch is {value}: per-example losses must be finite \
         (check the model output and the learning rate)"
    )]
    NonFiniteLoss {
        /// Position of the loss in the batch.
        index: usize,
        /// The value found.
        value: f64,
    },
    /// A rule that needs group ids (Group DRO) was called without them.
    #[error("{rule} needs a group id for every example; pass them with `reweight_grouped`")]
    MissingGroups {
        /// The rule that needs groups.
        rule: &'static str,
    },
    /// The group ids and the losses differ in length.
    #[error("{groups} group ids for {losses} losses: give exactly one group id per example")]
    LengthMismatch {
        /// Number of losses.
        losses: usize,
        /// Number of group ids.
        groups: usize,
    },
    /// A group id is not below the configured number of groups.
    #[error(
        "group id {group} of example {index} is out of range: the rule was configured \
         with {n_groups} groups (ids 0..{n_groups})"
    )]
    GroupOutOfRange {
        /// Position of the example in the batch.
        index: usize,
        /// The group id found.
        group: usize,
        /// The configured number of groups.
        n_groups: usize,
    },
    /// A saved rule state does not fit the rule it is loaded into.
    #[error("cannot restore {rule} state: {reason}")]
    StateMismatch {
        /// The rule the state was loaded into.
        rule: &'static str,
        /// Why it does not fit.
        reason: String,
    },
}

pub(crate) fn invalid(
    rule: &'static str,
    field: &'static str,
    value: impl std::fmt::Display,
    allowed: &'static str,
) -> RgdError {
    RgdError::InvalidConfig {
        rule,
        field,
        value: value.to_string(),
        allowed,
    }
}
