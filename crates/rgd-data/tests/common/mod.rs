//! The data cache of the real-data tests, and how they skip when it lacks a file.
//!
//! A test skips with a printed reason when its files are absent (`scripts/fetch-data.sh`
//! fetches them), and fails instead when `RGD_REQUIRE_DATA=1` (CI, after the fetch step).

use std::fmt::Display;
use std::path::PathBuf;

use rgd_data::registry::{cache_dir, load_named};
use rgd_data::{DataError, Dataset};

/// The cache folder; a relative one sits at the workspace root (tests run in the crate folder).
pub fn cache() -> PathBuf {
    let c = cache_dir();
    if c.is_absolute() {
        c
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(c)
    }
}

/// Prints why the check of `what` is skipped, or fails when the data is required.
pub fn skip(what: &str, why: impl Display) {
    assert!(
        std::env::var("RGD_REQUIRE_DATA").as_deref() != Ok("1"),
        "RGD_REQUIRE_DATA=1 but {why}"
    );
    eprintln!("skipping real-data check of {what}: {why}");
}

/// Loads the named data set, or returns `None` after [`skip`] when it has not been fetched.
pub fn load_or_skip(name: &str) -> Option<Dataset> {
    match load_named(name, &cache()) {
        Ok(ds) => Some(ds),
        Err(e @ DataError::NotFetched { .. }) => {
            skip(name, e);
            None
        }
        Err(e) => panic!("{name}: {e}"),
    }
}
