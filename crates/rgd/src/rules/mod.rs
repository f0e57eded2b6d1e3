//! The reweighting rules, one file each.

pub mod absgd;
pub mod chi_square;
pub mod cvar;
pub mod erm;
pub mod group_dro;
pub mod rgd;
pub mod term;
