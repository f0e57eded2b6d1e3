//! What every grid of runs shares: the catalogue of methods ([`methods`]) and the one rule that
//! selects a setting on validation ([`select`]). `rgd compare`, every `rgd reproduce` suite and
//! the meta-learning suite use them.

pub mod methods;
pub mod select;

pub use methods::Method;
pub use select::{Ties, best};
