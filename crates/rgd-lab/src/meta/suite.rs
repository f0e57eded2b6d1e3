//! `rgd reproduce meta`: few-shot classification on letter and on Fashion-MNIST + MNIST classes,
//! ERM against RGD at the example and the task level and the task-level peers.
//!
//! Protocol: for each benchmark and episode shape (5-way 1-shot, 5-way 5-shot), every method
//! trains the same network for the same number of meta-steps on the meta-training classes; its
//! learning rate (and tau for RGD) is selected on the meta-validation accuracy (classes disjoint
//! from meta-test) with seed 0; then seeds 1-4 at the selected setting. Every run is evaluated
//! on the same meta-test episodes (a fixed evaluation seed) with the model of its best
//! meta-validation accuracy. The records (`runs/**/{config.toml,summary.json}`) are all
//! [`render`] reads.

use std::path::Path;

use super::config::{LearnerConfig, MamlConfig, MetaConfig};
use super::train::MetaSummary;
use crate::LabError;
use crate::report::{
    DIFFERENCE_COLUMNS, Table, difference_cells, fmt_diff_ci, fmt_mean_std, fmt_wtl, mean_sd_cells,
};
use crate::stats::{PairedDifference, paired_difference, summarize};
use crate::suite::TAUS;
use crate::suite::catalog::{Grid, Part, SuiteConfig, base_config, knob, spec};
use crate::suite::provenance::Provenance;
use crate::suite::records::{RecordsOf, load_records, summaries};
use crate::suite::tables::selected;
use crate::sweep::Method;

/// Methods of the suite, in table order; ERM first (the baseline).
pub const METHODS: [&str; 5] = ["erm", "rgd-example", "rgd-task", "term-task", "cvar-task"];

impl SuiteConfig for MetaConfig {
    fn set(&mut self, method: &Method, seed: u64) -> Result<(), LabError> {
        self.seed = seed;
        method.apply_meta(self)
    }

    /// Meta-validation accuracy; no loss breaks its ties.
    fn score(_: &Part<Self>, run: &MetaSummary) -> (f64, f64) {
        (run.selected.valid_accuracy, 0.0)
    }

    fn secs(run: &MetaSummary) -> f64 {
        run.wall_secs + run.test_secs
    }
}

fn letter_base(quick: bool) -> MetaConfig {
    base_config(&format!(
        r#"
[data]
benchmark = "letter"
[episode]
ways = 5
queries = 15
[learner]
kind = "protonet"
embedding = 64
[model]
kind = "mlp"
hidden = [64, 64]
[optim]
name = "adam"
weight_decay = 0.0
schedule = "cosine"
[train]
meta_steps = {}
meta_batch = 4
eval_every = 100
valid_episodes = 200
test_episodes = 600
"#,
        if quick { 200 } else { 1000 }
    ))
}

fn images_base() -> MetaConfig {
    base_config(
        r#"
[data]
benchmark = "images"
per_class = 600
[episode]
ways = 5
queries = 10
[learner]
kind = "protonet"
embedding = 64
[model]
kind = "cnn"
# Its records ran on burn's convolution path, before the gemm kernel.
conv = "burn"
channels = [8, 16]
hidden = []
[optim]
name = "adam"
weight_decay = 0.0
schedule = "cosine"
[train]
meta_steps = 150
meta_batch = 4
eval_every = 50
valid_episodes = 100
test_episodes = 600
"#,
    )
}

/// One benchmark at one episode shape: a part whose one data set is the setting, with the
/// learning rates `lrs` for every method and `taus` for RGD at both levels.
fn setting(
    label: &str,
    base: MetaConfig,
    lrs: &[f64],
    taus: &[(&'static str, f64)],
    seeds: u64,
) -> Part<MetaConfig> {
    let tau = |method| Grid {
        method,
        ..Grid::tau(taus)
    };
    Part {
        base,
        data: vec![spec(label, &[])],
        methods: METHODS.to_vec(),
        lrs: lrs.to_vec(),
        grids: vec![tau("rgd-example"), tau("rgd-task")],
        seeds,
        ..Part::default()
    }
}

/// The suite's settings and its notes.
pub(crate) fn suite(quick: bool) -> (Vec<Part<MetaConfig>>, &'static str) {
    let with_shots = |mut c: MetaConfig, shots| {
        c.episode.shots = shots;
        c
    };
    if quick {
        let base = with_shots(letter_base(true), 1);
        return (
            vec![setting("letter-5way-1shot", base, &[1e-3], &TAUS[2..4], 2)],
            "quick mode: letter 5-way 1-shot only, ProtoNet MLP 64-64, 200 meta-steps, lr 1e-3, \
             tau in {1, 3}, 2 seeds, 600 meta-test episodes",
        );
    }
    let mut parts = Vec::new();
    for shots in [1, 5] {
        let base = with_shots(letter_base(false), shots);
        let label = format!("letter-5way-{shots}shot");
        parts.push(setting(&label, base, &[1e-3, 3e-3], &TAUS, 5));
    }
    // First-order MAML on letter 5-way 5-shot: the same MLP as a 5-way classifier, 5 inner SGD
    // steps at 0.5 (0.5 beat 0.1 on meta-validation accuracy with ERM, seed 0).
    let mut maml = with_shots(letter_base(false), 5);
    maml.learner = LearnerConfig::Maml(MamlConfig {
        inner_steps: 5,
        inner_lr: 0.5,
    });
    let maml = setting("letter-5way-5shot-maml", maml, &[1e-3], &TAUS[2..4], 5);
    parts.push(maml);
    for shots in [1, 5] {
        let base = with_shots(images_base(), shots);
        let label = format!("images-5way-{shots}shot");
        parts.push(setting(&label, base, &[1e-3], &TAUS[2..4], 5));
    }
    (
        parts,
        "ProtoNet (squared Euclidean distance to class means) trained with Adam (no weight \
         decay) on a cosine schedule, meta-batch 4 episodes; the model of the best \
         meta-validation accuracy is evaluated on 600 meta-test episodes (the same episodes \
         for every run). Letter (keel/letter, standardised with meta-training classes \
         only; classes 16/5/5): MLP 16-64-64-64, 1000 meta-steps, 15 queries per class, \
         evaluation every 100 steps on 200 meta-validation episodes; lr in {1e-3, 3e-3} \
         for every method and tau in {1/9, 1/3, 1, 3, 10} for RGD. Images (10 \
         Fashion-MNIST classes + 10 MNIST digits, 600 images per class; classes 10/5/5): \
         CNN with 8 and 16 channels and a linear 784-64 embedding, 150 meta-steps, 10 \
         queries per class, evaluation every 50 steps on 100 meta-validation episodes; \
         reduced to fit 2 cores: lr 1e-3 only and tau in {1, 3}. TERM tilt 1 and CVaR \
         alpha 0.5 (the 2 hardest of 4 episodes) act on episode losses; RGD-example \
         reweights the query losses within each episode. Letter 5-way 5-shot is also run \
         with first-order MAML (the same MLP as a 5-way classifier, 5 inner SGD steps at \
         0.5, chosen over 0.1 on meta-validation with ERM and seed 0; lr 1e-3, tau in \
         {1, 3}). Settings selected on \
         meta-validation accuracy with seed 0, then seeds 1-4",
    )
}

/// `results.csv` of the suite at `out` (run `--quick` or not), from its records.
pub(crate) fn tidy(out: &Path, quick: bool) -> Result<String, LabError> {
    Ok(tables(&load_records(out)?, &suite(quick).0).1.to_csv())
}

/// setting -> method -> grid label -> seed -> summary.
type Records = RecordsOf<MetaSummary>;

/// The two tables of [`tables`], empty: the markdown one and `results.csv`'s.
fn headers() -> (Table, Table) {
    let table = Table::new([
        "episodes",
        "method",
        "selected (seed 0)",
        "valid acc (%)",
        "test acc (%)",
        "± 95% CI (episodes)",
        "worst tenth (%)",
        "Δ acc vs ERM (pts, 95% CI)",
        "W/T/L",
        "Δ worst tenth vs ERM",
    ]);
    let head = [
        "data_set",
        "method",
        "setting",
        "optim.lr",
        "method.rule.tau",
        "seeds",
        "valid_seed0",
        "test_mean",
        "test_sd",
    ];
    let tail = [
        "worst_tenth_mean",
        "worst_tenth_sd",
        "worst_tenth_diff_vs_erm",
        "worst_tenth_diff_ci_low",
        "worst_tenth_diff_ci_high",
    ];
    let tidy = Table::new(head.into_iter().chain(DIFFERENCE_COLUMNS).chain(tail));
    (table, tidy)
}

/// The suite's table and `results.csv` (tidy, numbers as numbers, the columns named below): a
/// row per (episode setting, method) at the method's selected setting, once all its seeds have
/// finished (the table marks the others).
fn tables(records: &Records, parts: &[Part<MetaConfig>]) -> (Table, Table) {
    let (mut table, mut tidy) = headers();
    let diff = |x: &[f64], base: &[f64]| paired_difference(x, base, 1e-9, 0.95);
    let show = |d: Option<PairedDifference>| d.map_or("-".into(), |d| fmt_diff_ci(&d, 100.0, 2));
    for part in parts {
        let data_set = &part.data[0].label;
        let Some(by_method) = records.get(data_set) else {
            continue;
        };
        let mut erm: Option<(Vec<f64>, Vec<f64>)> = None;
        for method in METHODS {
            let chosen = selected(by_method, method, part);
            let Some(((label, overrides), runs)) =
                chosen.filter(|(_, runs)| runs.len() as u64 >= part.seeds)
            else {
                let cells = [data_set.as_str(), method, "not finished"];
                table.push_row(cells.into_iter().chain([""; 7]));
                continue;
            };
            let acc: Vec<f64> = runs.iter().map(|r| r.test.mean).collect();
            let worst: Vec<f64> = runs.iter().map(|r| r.test.worst_tenth).collect();
            // The paired differences of both to ERM's (`None` for ERM itself, or without ERM).
            let diffs = (erm.as_ref()).map(|(a, w)| (diff(&acc, a), diff(&worst, w)));
            let (d_acc, wtl, d_worst) = match diffs {
                Some((a, w)) => (show(a), a.map_or("-".into(), |d| fmt_wtl(&d)), show(w)),
                None => Default::default(),
            };
            let half: Vec<f64> = (runs.iter())
                .map(|s| (s.test.ci95_high - s.test.ci95_low) / 2.0)
                .collect();
            let valid = runs[0].selected.valid_accuracy;
            table.push_row([
                data_set.clone(),
                method.to_string(),
                label.clone(),
                format!("{:.2}", valid * 100.0),
                fmt_mean_std(&acc, 100.0, 2),
                format!(
                    "± {:.2}",
                    summarize(&half).map_or(f64::NAN, |s| s.mean) * 100.0
                ),
                fmt_mean_std(&worst, 100.0, 2),
                d_acc,
                wtl,
                d_worst,
            ]);
            let (d_acc, d_worst) = diffs.unwrap_or_default();
            let mut row = vec![
                data_set.clone(),
                method.to_string(),
                label,
                knob(&overrides, "optim.lr"),
                knob(&overrides, "method.rule.tau"),
                runs.len().to_string(),
                valid.to_string(),
            ];
            row.extend(mean_sd_cells(summarize(&acc).as_ref()));
            row.extend(difference_cells(d_acc.as_ref()));
            row.extend(mean_sd_cells(summarize(&worst).as_ref()));
            row.extend(difference_cells(d_worst.as_ref()).into_iter().take(3));
            tidy.push_row(row);
            if method == "erm" {
                erm = Some((acc, worst));
            }
        }
    }
    (table, tidy)
}

/// Renders the suite's results (table and provenance) from its records and `meta.json` alone.
pub fn render(out: &Path, meta: &Provenance) -> Result<String, LabError> {
    let (parts, _) = suite(meta.quick);
    let records: Records = load_records(out)?;
    crate::numerics::one_version(summaries(&records), &out.display().to_string())?;
    let what = "meta-training and meta-test time";
    let line = meta.line("", what, summaries(&records).count(), meta.training_secs);
    Ok(format!(
        "{line}\n\nSetup: {}.\n\nEach method at the setting selected on \
         meta-validation accuracy (seed 0); test accuracy and worst tenth (the mean accuracy of \
         the 10% hardest of the 600 meta-test episodes) as mean ± sd over {} seeds; \"± 95% CI \
         (episodes)\" is the half-width of the per-run t-interval over the 600 episodes, averaged \
         over seeds; Δ columns are paired per-seed differences to ERM with a 95% t-interval over \
         seeds, W/T/L counts seeds.\n\n{}",
        meta.notes,
        parts[0].seeds,
        tables(&records, &parts).0.to_markdown(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigFile;
    use crate::suite::catalog::{config_for, runs, settings};

    #[test]
    fn every_committed_record_is_what_the_suite_builds_now() {
        let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../results/meta");
        let mut matched = 0;
        for part in suite(false).0 {
            let data = &part.data[0];
            for method in METHODS {
                for setting in settings(method, &part) {
                    for run in runs(&out, &part, data, method, &setting, 0..part.seeds).unwrap() {
                        let path = run.folder.join("config.toml");
                        if !path.exists() {
                            continue;
                        }
                        let committed = MetaConfig::from_file(&path).unwrap();
                        assert_eq!(committed, run.config, "{}", path.display());
                        matched += 1;
                    }
                }
            }
        }
        let committed = crate::suite::records::committed_configs("meta").len();
        assert!(committed > 0);
        assert_eq!(matched, committed, "records that no suite point builds");
    }

    #[test]
    fn the_grids_are_valid_configs_and_label_their_settings_uniquely() {
        for quick in [true, false] {
            for part in suite(quick).0 {
                for method in METHODS {
                    let g = settings(method, &part);
                    let mut labels: Vec<&String> = g.iter().map(|(l, _)| l).collect();
                    labels.sort();
                    labels.dedup();
                    assert_eq!(labels.len(), g.len());
                    for (_, overrides) in &g {
                        config_for(&part, &part.data[0], method, overrides, 0)
                            .unwrap()
                            .validate()
                            .unwrap();
                    }
                }
            }
        }
    }
}
