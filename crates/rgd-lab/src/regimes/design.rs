//! The regime map's design as data: its parts (a base config, its data regimes, methods, the
//! tau grid, seeds and metrics, as in every suite), the tau every seed also trains at, and the
//! training lengths at which every run is evaluated.

use crate::config::RunConfig;
use crate::suite::TAUS;
use crate::suite::catalog::{DataSpec, Grid, Metric, Part, base_config, spec};

/// The regime map's design (see the module).
#[derive(Debug, Clone)]
pub(crate) struct Design {
    /// Each part's methods: ERM, RGD, then the peers (each trains on seed 0; the best on
    /// validation trains on every seed).
    pub(crate) parts: Vec<Part>,
    /// Training lengths in epochs, increasing: the evaluations of every run.
    pub(crate) lengths: Vec<u64>,
}

/// The suite's own method name for RGD at the fixed tau in tables (its runs are `rgd`'s).
pub(crate) const FIXED: &str = "rgd-fixed";
/// The grid label of the tau every seed trains at besides the selected one.
pub(crate) const FIXED_TAU: &str = "3";

const LENGTHS: [u64; 5] = [1, 3, 10, 30, 100];
const QUICK_LENGTHS: [u64; 3] = [1, 3, 10];
const PEERS: [&str; 3] = ["term", "term-neg", "focal"];

fn base(head: &str, lengths: &[u64], schedule_head: &str) -> RunConfig {
    let epochs = lengths.last().expect("at least one length");
    let list: Vec<String> = lengths.iter().map(u64::to_string).collect();
    base_config(&format!(
        r#"{head}
[optim]
name = "adamw"
weight_decay = 0.01
schedule = "constant"
{schedule_head}
[train]
batch_size = 128
epochs = {epochs}
eval_epochs = [{}]
eval_train = true
checkpoint_every = 1000
"#,
        list.join(", ")
    ))
}

/// A part of the map, titled `[title, slug]`: ERM, RGD and the peers on `data`.
fn part(titles: [&'static str; 2], base: RunConfig, data: Vec<DataSpec>, notes: &str) -> Part {
    Part {
        title: titles[0],
        slug: titles[1],
        methods: [&["erm", "rgd"][..], &PEERS].concat(),
        ..Part::new(false, base, data, notes.into())
    }
}

/// The design of `rgd reproduce regimes [--quick]`.
pub(crate) fn design(quick: bool) -> Design {
    if quick {
        return quick_design();
    }
    Design {
        parts: vec![clean_noisy(), long_tailed(), tabular()],
        lengths: LENGTHS.to_vec(),
    }
}

/// The Fashion-MNIST parts' base: 10000 training images, the official test set, MLP 256-256.
fn fashion(lengths: &[u64]) -> RunConfig {
    base(
        r#"[data]
source = "fashion-mnist"
test_source = "fashion-mnist-test"
max_train = 10000
[model]
hidden = [256, 256]"#,
        lengths,
        "warmup_steps = 100",
    )
}

/// `<name>-sym<percent>`: the data set with `percent`% of its labels flipped symmetrically.
fn symmetric(name: &str, percent: u32) -> DataSpec {
    let rate = format!("data.noise_rate={}", f64::from(percent) / 100.0);
    let label = format!("{name}-sym{percent}");
    spec(&label, &["data.label_noise=symmetric", &rate])
}

/// Fashion-MNIST clean, and with 20% and 40% symmetric label noise.
fn clean_noisy() -> Part {
    part(
        ["Fashion-MNIST: clean and with symmetric label noise", ""],
        fashion(&LENGTHS),
        vec![
            spec("fashion-mnist-clean", &[]),
            symmetric("fashion-mnist", 20),
            symmetric("fashion-mnist", 40),
        ],
        "Fashion-MNIST: a fixed subsample of 10000 training images (split seed 0; \
        under label noise flipped to a uniformly chosen other class, in the training and \
        validation splits alike), the validation split of 9000 images, the official \
        10000-image test set (clean); MLP 256-256 on the pixels, AdamW (weight decay 0.01) at a \
        constant lr 1e-3 after 100 warm-up steps, batch 128, 100 epochs (7800 steps), evaluated \
        after 1, 3, 10, 30 and 100 epochs: one run per seed gives every length, since the rate \
        does not depend on the total",
    )
}

/// Fashion-MNIST long-tailed to ratios 10 and 100, selected on balanced accuracy.
fn long_tailed() -> Part {
    let notes = "the same model and schedule; the training split long-tailed with an \
        exponential profile to ratios 10 and 100 before the 10000-image subsample (which keeps \
        the profile), balanced validation and test splits; selected on validation balanced \
        accuracy";
    Part {
        select: Metric::BalancedAccuracy,
        report: vec![Metric::BalancedAccuracy, Metric::WorstClass],
        ..part(
            ["Fashion-MNIST: long-tailed", "lt"],
            fashion(&LENGTHS),
            vec![
                spec("fashion-mnist-LT10", &["data.long_tail_ratio=10"]),
                spec("fashion-mnist-LT100", &["data.long_tail_ratio=100"]),
            ],
            notes,
        )
    }
}

/// Two sets of the tabular suite with its MLP and split.
fn tabular() -> Part {
    let tabular = |source: &str| format!("data.source={source}");
    part(
        ["Tabular", "tabular"],
        base(
            r#"[model]
hidden = [256, 256]
norm = "batch"
dropout = 0.1"#,
            &LENGTHS,
            "warmup_steps = 20",
        ),
        vec![
            spec("magic", &[&tabular("magic")]),
            spec("phoneme", &[&tabular("keel/phoneme")]),
        ],
        "two sets of the tabular suite with its MLP (256-256, batch norm, \
        dropout 0.1) and split (70/15/15 stratified, split seed 0), at a constant lr 1e-3 after \
        20 warm-up steps, batch 128, 100 epochs, evaluated after 1, 3, 10, 30 and 100 epochs",
    )
}

fn quick_design() -> Design {
    let mut quick = part(
        ["", ""],
        base(
            r#"[data]
source = "magic"
max_train = 1000
[model]
hidden = [64, 64]
norm = "batch""#,
            &QUICK_LENGTHS,
            "warmup_steps = 5",
        ),
        vec![spec("magic-clean", &[]), symmetric("magic", 20)],
        "quick mode: magic subsampled to 1000 training rows, clean and with 20% symmetric label \
         noise, MLP 64-64, tau in {1, 3}, TERM with tilt -1 as the only peer, 10 epochs \
         evaluated after 1, 3 and 10, 5 seeds",
    );
    quick.methods = vec!["erm", "rgd", "term-neg"];
    quick.grids = vec![Grid::tau(&TAUS[2..4])];
    Design {
        parts: vec![quick],
        lengths: QUICK_LENGTHS.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigFile;
    use crate::suite::catalog::{config_for, runs, settings};

    #[test]
    fn every_run_of_the_design_is_a_valid_config_evaluated_at_its_lengths() {
        for quick in [true, false] {
            let d = design(quick);
            let mut labels = Vec::new();
            for part in &d.parts {
                assert_eq!(part.methods[..2], ["erm", "rgd"]);
                let rgd = settings("rgd", part);
                assert!(
                    rgd.iter()
                        .any(|(l, _)| l.starts_with(&format!("tau{FIXED_TAU}-"))),
                    "the fixed tau is on the grid"
                );
                for data in &part.data {
                    labels.push(data.label.clone());
                    for &method in &part.methods {
                        for (label, overrides) in settings(method, part) {
                            let c = config_for(part, data, method, &overrides, 0).unwrap();
                            c.validate().unwrap_or_else(|e| panic!("{label}: {e}"));
                            assert_eq!(c.train.eval_epochs, d.lengths);
                            assert_eq!(c.train.epochs, *d.lengths.last().unwrap());
                            assert!(matches!(
                                c.optim.schedule,
                                crate::config::Schedule::Constant
                            ));
                        }
                    }
                }
            }
            let n = labels.len();
            labels.sort();
            labels.dedup();
            assert_eq!(labels.len(), n, "two regimes share a folder");
        }
    }

    #[test]
    fn every_committed_record_is_what_the_design_builds_now() {
        // A committed run is reused only if its config equals what the design builds.
        let d = design(false);
        let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../results/regimes");
        let committed = crate::suite::records::committed_configs("regimes");
        let mut matched = 0;
        for part in &d.parts {
            for data in &part.data {
                for &method in &part.methods {
                    for setting in settings(method, part) {
                        let seeds = 0..part.seeds;
                        for run in runs(&out, part, data, method, &setting, seeds).unwrap() {
                            let path = run.folder.join("config.toml");
                            if path.exists() {
                                let committed = RunConfig::from_file(&path).unwrap();
                                assert_eq!(committed, run.config, "{}", path.display());
                                matched += 1;
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(
            matched,
            committed.len(),
            "records that no point of the design builds"
        );
    }
}
