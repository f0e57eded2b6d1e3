//! `rgd status DIR`: how many points of a grid are done, running, pending and failed, whichever
//! launcher ran them.
//!
//! A point is *done* when its folder has `summary.json`, *running* while a process holds its
//! lock, *failed* when its worker left `failed.txt` (the reason and the log), else *pending*.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{FAILED, Manifest};
use crate::LabError;
use crate::run_dir::read_json;

/// The state of every point of a grid.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GridStatus {
    /// Points with a summary.
    pub done: usize,
    /// Points a process is training.
    pub running: usize,
    /// Points not started, or interrupted and waiting to resume.
    pub pending: usize,
    /// Failed points with their reasons.
    pub failed: Vec<(PathBuf, String)>,
}

/// Reads the status of the grid in `dir` (its `points.json`).
pub fn of(dir: &Path) -> Result<GridStatus, LabError> {
    let manifest = dir.join("points.json");
    if !manifest.is_file() {
        return Err(LabError::Config(format!(
            "{} has no points.json: it is not the folder of an `rgd compare` or `rgd reproduce` \
             grid (or the grid was run by an older rgd)",
            dir.display()
        )));
    }
    let manifest: Manifest = read_json(&manifest)?;
    let mut status = GridStatus::default();
    for folder in manifest.points.into_iter().map(|p| dir.join(p)) {
        if folder.join("summary.json").exists() {
            status.done += 1;
        } else if held(&folder) {
            status.running += 1;
        } else if let Ok(reason) = std::fs::read_to_string(folder.join(FAILED)) {
            status.failed.push((folder, reason.trim().to_string()));
        } else {
            status.pending += 1;
        }
    }
    Ok(status)
}

/// Whether another process holds the folder's lock.
fn held(folder: &Path) -> bool {
    std::fs::File::open(folder.join(".lock"))
        .is_ok_and(|f| matches!(f.try_lock_shared(), Err(std::fs::TryLockError::WouldBlock)))
}

impl GridStatus {
    /// One line of counts, then one line per failed point.
    pub fn render(&self) -> String {
        let total = self.done + self.running + self.pending + self.failed.len();
        let mut text = format!(
            "{total} points: {} done, {} running, {} pending, {} failed\n",
            self.done,
            self.running,
            self.pending,
            self.failed.len()
        );
        for (folder, reason) in &self.failed {
            text += &format!("  failed: {}: {reason}\n", folder.display());
        }
        text
    }
}
