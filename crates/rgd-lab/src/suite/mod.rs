//! What every suite shares: the tau grid, the records of its runs, the provenance of its
//! results and its block of the results document. `rgd reproduce` ([`crate::reproduce`]) and
//! the meta-learning suite ([`crate::meta::suite`]) build on it.

pub mod catalog;
pub mod doc;
mod parts;
pub mod provenance;
pub mod records;
mod setup;
pub mod tables;
pub mod tidy;

/// The tau grid of method.md.
pub const TAUS: [(&str, f64); 5] = [
    ("1/9", 1.0 / 9.0),
    ("1/3", 1.0 / 3.0),
    ("1", 1.0),
    ("3", 3.0),
    ("10", 10.0),
];
