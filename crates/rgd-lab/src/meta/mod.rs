//! Meta-learning (issue 8): few-shot episodes with RGD on the query losses (example level) or
//! on the episode losses of a meta-batch (task level), ProtoNet or first-order MAML.
//!
//! Episodes come from `rgd_data::EpisodeSampler` over disjoint class splits
//! (`rgd_data::LETTER_SPLIT`, `rgd_data::IMAGE_SPLIT`).

pub mod config;
pub mod episodes;
pub mod maml;
pub mod protonet;
pub mod suite;
pub mod train;

use std::path::Path;

use crate::LabError;

/// Whether the run folder `run` holds a meta-learning run (its `config.toml` has a `[learner]`
/// or an `[episode]` table, which a supervised config never has).
pub fn is_meta_run(run: &Path) -> Result<bool, LabError> {
    let path = crate::run_dir::RunDir::new(run).config();
    let text = std::fs::read_to_string(&path).map_err(|e| LabError::io(&path, e))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e| LabError::corrupt(path.clone(), format!("not TOML ({e})")))?;
    Ok(table.contains_key("learner") || table.contains_key("episode"))
}
