//! One enum naming every rule and its configuration, for config files and command lines.

use crate::{
    AbsgdConfig, ChiSquareConfig, CvarConfig, Erm, GroupDroConfig, RgdConfig, RgdError, Rule,
    TermConfig,
};

/// Any rule's configuration; [`RuleConfig::init`] validates it and builds the rule.
///
/// With the `serde` feature it reads from a tagged table, e.g. TOML
/// `rule = { name = "rgd", tau = 1.0 }`.
///
/// ```
/// use rgd::{RgdConfig, RuleConfig, reweight_dyn};
/// let mut rule = RuleConfig::Rgd(RgdConfig::new().with_tau(3.0)).init().unwrap();
/// assert_eq!(rule.name(), "rgd");
/// let r = reweight_dyn(rule.as_mut(), &[10.0_f32], None).unwrap();
/// assert!((r.weights[0] - 2.117).abs() < 1e-3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "name", rename_all = "lowercase"))]
pub enum RuleConfig {
    /// Plain training.
    Erm,
    /// Re-weighted gradient descent.
    Rgd(RgdConfig),
    /// Tilted ERM.
    Term(TermConfig),
    /// Attentional-biased SGD.
    Absgd(AbsgdConfig),
    /// Exact CVaR (Levy et al.).
    Cvar(CvarConfig),
    /// Chi-square DRO.
    #[cfg_attr(feature = "serde", serde(rename = "chi2"))]
    ChiSquare(ChiSquareConfig),
    /// Group DRO.
    #[cfg_attr(feature = "serde", serde(rename = "groupdro"))]
    GroupDro(GroupDroConfig),
}

impl RuleConfig {
    /// Validates the configuration and builds the rule.
    pub fn init(&self) -> Result<Box<dyn Rule>, RgdError> {
        Ok(match *self {
            RuleConfig::Erm => Box::new(Erm::default()),
            RuleConfig::Rgd(c) => Box::new(c.init()?),
            RuleConfig::Term(c) => Box::new(c.init()?),
            RuleConfig::Absgd(c) => Box::new(c.init()?),
            RuleConfig::Cvar(c) => Box::new(c.init()?),
            RuleConfig::ChiSquare(c) => Box::new(c.init()?),
            RuleConfig::GroupDro(c) => Box::new(c.init()?),
        })
    }

    /// Whether the rule needs a group id per example.
    pub fn needs_groups(&self) -> bool {
        matches!(self, RuleConfig::GroupDro(_))
    }
}
