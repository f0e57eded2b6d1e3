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
use crate::config::ConfigFile;
use crate::run_dir::RunOptions;

/// `rgd meta`: trains (or resumes, or reuses) one meta run and prints its summary.
pub fn cli_train(
    config: Option<&Path>,
    overrides: &[String],
    name: Option<&str>,
    runs_dir: &Path,
    options: RunOptions,
    json: bool,
) -> Result<(), LabError> {
    let config = config::MetaConfig::load(config, overrides)?;
    let name = name.map_or_else(
        || {
            let rule = config.method.rule.init().map_or("rule", |r| r.name());
            format!(
                "meta-{}-{}-{rule}-{}-seed{}",
                config.data.benchmark(),
                config.learner.kind(),
                config.method.level.name(),
                config.seed
            )
        },
        str::to_string,
    );
    let folder = runs_dir.join(name);
    let s = crate::run_dir::Trainable::run_or_reuse(&config, &folder, options)?;
    print_summary(&folder, &s, options, json);
    Ok(())
}

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

/// `rgd resume` of a meta-learning run folder, whose lock the caller holds: continues it from
/// its checkpoint (or trains it from the start when it has none, as a launcher's worker does).
pub fn resume(run: &Path, options: RunOptions, json: bool) -> Result<(), LabError> {
    let config = config::MetaConfig::from_file(&crate::run_dir::RunDir::new(run).config())?;
    let s = crate::run_dir::Trainable::train_in(&config, run, options)?;
    print_summary(run, &s, options, json);
    Ok(())
}

fn print_summary(folder: &Path, s: &train::MetaSummary, options: RunOptions, json: bool) {
    if json {
        crate::cli::print_json(s);
    } else if !options.quiet {
        println!(
            "{}: {} {} ({} level) seed {}, {} meta-steps in {:.1}s; best meta-valid acc {:.4} at \
             step {}; meta-test acc {:.4} (95% CI {:.4}-{:.4}, worst tenth {:.4}) over {} episodes",
            folder.display(),
            s.learner,
            s.rule,
            s.level,
            s.seed,
            s.steps,
            s.wall_secs,
            s.selected.valid_accuracy,
            s.selected.step,
            s.test.mean,
            s.test.ci95_low,
            s.test.ci95_high,
            s.test.worst_tenth,
            s.test.episodes,
        );
    }
}
