//! The one selection rule of every grid: the candidate with the highest validation score.

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
