//! The numerics version: what changes the numbers a run produces under an unchanged config.
//!
//! Bump [`NUMERICS`] with any change to a kernel, a rule's definition, a loss, the optimizer's
//! arithmetic or the order of random draws: every record (`summary.json`) carries the version
//! it was computed with, a finished run is reused only at the same version, and no table pairs
//! runs of different versions. Records written before the field existed are version 1.

/// The numerics of this build.
pub const NUMERICS: u32 = 1;

/// The version of a record that does not name one (written before versions existed).
pub(crate) fn unversioned() -> u32 {
    1
}

/// A run's final record, which names the numerics it was computed with.
pub trait Versioned {
    /// The numerics version of the record.
    fn numerics(&self) -> u32;
}

/// Checks that `records` were all computed with one numerics version.
///
/// ```
/// struct R(u32);
/// impl rgd_lab::numerics::Versioned for R { fn numerics(&self) -> u32 { self.0 } }
/// assert!(rgd_lab::numerics::one_version([&R(1), &R(1)], "x").is_ok());
/// assert!(rgd_lab::numerics::one_version([&R(1), &R(2)], "x").is_err());
/// ```
pub fn one_version<'a, R: Versioned + 'a>(
    records: impl IntoIterator<Item = &'a R>,
    place: &str,
) -> Result<(), crate::LabError> {
    let mut versions: Vec<u32> = records.into_iter().map(Versioned::numerics).collect();
    versions.sort_unstable();
    versions.dedup();
    crate::config::check(versions.len() <= 1, || {
        format!(
            "{place} holds runs of numerics versions {versions:?}: a table would pair results \
             computed differently; rerun the older runs (delete their folders) with this build \
             (version {NUMERICS})"
        )
    })
}
