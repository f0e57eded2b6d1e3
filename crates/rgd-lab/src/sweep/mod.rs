//! What every grid of runs shares: the one catalogue of methods ([`Method`]: a rule, the loss
//! it reweights and, for meta-learning, the level it acts at, each with its default knobs) and
//! the one rule that selects a setting on validation ([`best`]). `rgd compare`, every `rgd
//! reproduce` suite and the meta-learning suite use them.

use rgd::{
    AbsgdConfig, ChiSquareConfig, CvarConfig, GroupDroConfig, RgdConfig, RuleConfig, TermConfig,
};

use crate::LabError;
use crate::config::{FocalConfig, LossConfig, RunConfig};
use crate::meta::config::{Level, MetaConfig};

/// Every method by name: (name, rule, focal loss, meta-learning level).
fn catalogue() -> [(&'static str, RuleConfig, bool, Option<Level>); 15] {
    let rgd = RuleConfig::Rgd(RgdConfig::new());
    let norm = RuleConfig::Rgd(RgdConfig::new().with_normalize(true));
    let term = |tilt| RuleConfig::Term(TermConfig::new(tilt));
    let absgd = |lambda| RuleConfig::Absgd(AbsgdConfig::new(lambda));
    let cvar = RuleConfig::Cvar(CvarConfig::new(0.5));
    let chi2 = RuleConfig::ChiSquare(ChiSquareConfig::new(1.0));
    let dro = RuleConfig::GroupDro(GroupDroConfig::new(1, 0.01));
    let (example, task) = (Some(Level::Example), Some(Level::Task));
    [
        ("erm", RuleConfig::Erm, false, None),
        ("rgd", rgd, false, None),
        ("rgd-norm", norm, false, None),
        ("term", term(1.0), false, None),
        ("term-neg", term(-1.0), false, None),
        ("absgd", absgd(1.0), false, None),
        ("absgd-neg", absgd(-1.0), false, None),
        ("cvar", cvar, false, None),
        ("chi2", chi2, false, None),
        ("focal", RuleConfig::Erm, true, None),
        ("groupdro", dro, false, None),
        ("rgd-example", rgd, false, example),
        ("rgd-task", rgd, false, task),
        ("term-task", term(1.0), false, task),
        ("cvar-task", cvar, false, task),
    ]
}

/// A named method: a rule, the loss it reweights, and for meta-learning the level.
#[derive(Debug, Clone, PartialEq)]
pub struct Method {
    /// Name in tables and folder names (`erm`, `rgd`, `focal`, `rgd-task`, ...).
    pub name: &'static str,
    /// The rule, at its default knobs (a grid sets them, e.g. `method.rule.tau`).
    pub rule: RuleConfig,
    /// Whether it reweights the focal loss (`focal`: ERM on it) instead of cross-entropy.
    pub focal: bool,
    /// The meta-learning level of a meta-only method (`rgd-example`, `rgd-task`, ...); `None`:
    /// a supervised method (at the task level in meta-learning, for `erm`).
    pub level: Option<Level>,
}

impl Method {
    /// A method by name with its default knobs: `erm`, `rgd` (tau 1), `rgd-norm` (normalised
    /// weights), `term` (tilt 1), `absgd` (lambda 1), `cvar` (alpha 0.5), `chi2` (rho 1),
    /// `focal` (ERM on the focal loss), `groupdro` (eta 0.01); `term-neg` (tilt -1) and
    /// `absgd-neg` (lambda -1), the negative tilts that down-weight high losses; and for
    /// meta-learning `rgd-example`, `rgd-task`, `term-task` and `cvar-task`.
    ///
    /// ```
    /// use rgd_lab::sweep::Method;
    /// assert!(Method::parse("focal").unwrap().focal);
    /// let e = Method::parse("sgd").unwrap_err().to_string();
    /// assert!(e.contains("unknown method `sgd`; choose from erm, rgd, "), "{e}");
    /// ```
    pub fn parse(name: &str) -> Result<Self, LabError> {
        let all = catalogue();
        let Some(&(name, rule, focal, level)) = all.iter().find(|m| m.0 == name) else {
            let names: Vec<&str> = all.iter().map(|m| m.0).collect();
            return Err(LabError::Config(format!(
                "unknown method `{name}`; choose from {}",
                names.join(", ")
            )));
        };
        Ok(Method {
            name,
            rule,
            focal,
            level,
        })
    }

    /// Sets the method's rule and loss in a supervised `config`. The loss keeps its own keys
    /// when `config` already has that loss (a focal gamma of the base config), else takes its
    /// defaults. A meta-learning method is an error.
    pub fn apply(&self, config: &mut RunConfig) -> Result<(), LabError> {
        if self.level.is_some() {
            return Err(LabError::Config(format!(
                "method `{}` reweights episodes (meta-learning only): use it with `rgd meta`",
                self.name
            )));
        }
        config.method.rule = self.rule;
        config.method.loss = match (self.focal, config.method.loss) {
            (true, LossConfig::CrossEntropy(_)) => LossConfig::Focal(FocalConfig::default()),
            (false, LossConfig::Focal(_)) => LossConfig::default(),
            (_, same_kind) => same_kind,
        };
        Ok(())
    }

    /// Sets the method's rule and level in a meta-learning `config` (a supervised method acts
    /// at the task level). The focal loss is an error: episodes use cross-entropy.
    pub fn apply_meta(&self, config: &mut MetaConfig) -> Result<(), LabError> {
        if self.focal {
            return Err(LabError::Config(format!(
                "method `{}` changes the loss, which meta-learning does not: choose a rule",
                self.name
            )));
        }
        config.method.rule = self.rule;
        config.method.level = self.level.unwrap_or(Level::Task);
        Ok(())
    }
}

/// Which candidate wins a tie of scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ties {
    /// The earliest in grid order (the suites).
    First,
    /// The latest in grid order (`rgd compare`).
    Last,
}

/// The candidate with the highest score, ties going to the first or the last in the order
/// given; `None` when there is none. The run and the rendering of a suite select with it, so the
/// tables always use the setting whose seeds were trained.
///
/// A score is anything ordered: a validation metric, or a pair `(metric, -loss)` that breaks
/// the metric's ties with the lower validation loss (tuples compare lexicographically).
///
/// ```
/// use rgd_lab::sweep::{Ties, best};
/// let scores = [(0.5, "a"), (0.7, "b"), (0.7, "c"), (0.1, "d")];
/// assert_eq!(best(scores, Ties::First), Some("b"));
/// assert_eq!(best(scores, Ties::Last), Some("c"));
/// assert_eq!(best(Vec::<(f64, &str)>::new(), Ties::First), None);
/// // Ties on accuracy broken by the lower validation loss:
/// let scores = [((0.7, -0.40), "b"), ((0.7, -0.35), "c"), ((0.6, -0.1), "d")];
/// assert_eq!(best(scores, Ties::First), Some("c"));
/// ```
pub fn best<S: PartialOrd, T>(scores: impl IntoIterator<Item = (S, T)>, ties: Ties) -> Option<T> {
    let mut best: Option<(S, T)> = None;
    for (score, candidate) in scores {
        let better = best.as_ref().is_none_or(|b| match ties {
            Ties::First => score > b.0,
            Ties::Last => score >= b.0,
        });
        if better {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}
