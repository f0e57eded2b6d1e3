//! The tabular and imbalance suites' parts.

use super::super::catalog::{
    DataSpec, Grid, IMBALANCED_SETS, Metric, Part, TABULAR_METHODS, TABULAR_SETS,
};
use crate::config::RunConfig;
use crate::suite::TAUS;

pub(crate) fn tabular(quick: bool) -> Part {
    let base = RunConfig::from_toml(
        r#"
[model]
hidden = [256, 256]
norm = "batch"
dropout = 0.1
[optim]
name = "adamw"
weight_decay = 0.01
schedule = "cosine"
warmup_steps = 20
[train]
batch_size = 128
epochs = 20
max_steps = 1000
"#,
    )
    .expect("the suite's base config is valid");
    let data = if quick {
        vec![DataSpec {
            label: "magic (2000 rows)".into(),
            overrides: vec!["data.source=magic".into(), "data.max_train=2000".into()],
        }]
    } else {
        TABULAR_SETS
            .iter()
            .map(|&s| DataSpec {
                label: s.to_string(),
                // The embedded copy of magic is the KEEL file itself.
                overrides: vec![format!(
                    "data.source={}",
                    if s == "magic" {
                        "magic".into()
                    } else {
                        format!("keel/{s}")
                    }
                )],
            })
            .collect()
    };
    Part {
        title: "",
        slug: "",
        base,
        data,
        methods: TABULAR_METHODS.to_vec(),
        lrs: if quick { vec![1e-3] } else { vec![1e-3, 3e-3] },
        grids: vec![Grid::tau(if quick { &TAUS[2..4] } else { &TAUS })],
        seeds: if quick { 2 } else { 5 },
        families: Vec::new(),
        weight_tables: false,
        select: Metric::Accuracy,
        report: vec![Metric::Accuracy],
        notes: if quick {
            "quick mode: magic subsampled to 2000 training rows, tau in {1, 3}, lr 1e-3, 2 seeds"
                .into()
        } else {
            "MLP 256-256 with batch norm and dropout 0.1, AdamW (weight decay 0.01), cosine schedule \
             with 20 warm-up steps, batch 128, 20 epochs capped at 1000 steps; split 70/15/15 stratified with split seed 0; \
             lr in {1e-3, 3e-3} for every method and tau in {1/9, 1/3, 1, 3, 10} for RGD, selected \
             on validation accuracy with seed 0; TERM tilt 1, ABSGD lambda 1 (gamma 0.9), focal \
             gamma 2; then seeds 0-4 at the selected setting"
                .into()
        },
    }
}

/// Imbalanced binary KEEL sets: selection on validation balanced accuracy at the last step,
/// reporting worst-class and balanced accuracy, macro-F1 and accuracy.
pub(crate) fn imbalance(quick: bool) -> Part {
    let mut part = tabular(quick);
    part.base.train.selection = crate::config::Selection::Last;
    if !quick {
        part.data = IMBALANCED_SETS
            .iter()
            .map(|&s| DataSpec {
                label: s.to_string(),
                overrides: vec![format!("data.source=keel-imb/{s}")],
            })
            .collect();
        for ratio in [10, 100] {
            part.data.push(DataSpec {
                label: format!("fashion-mnist-LT{ratio}"),
                overrides: vec![
                    "data.source=fashion-mnist".into(),
                    "data.test_source=fashion-mnist-test".into(),
                    format!("data.long_tail_ratio={ratio}"),
                ],
            });
        }
        part.lrs = vec![1e-3];
        part.notes = "the tabular suite's MLP and schedule on 12 imbalanced binary KEEL sets \
                       (minority 1-35%) and on long-tailed Fashion-MNIST (training split of the \
                       60000 training images, less 15% for validation, long-tailed with an \
                       exponential profile to ratios 10 and 100; balanced validation split and the \
                       official 10000-image test set; same MLP on the 784 pixels); lr 1e-3 for every \
                       method, tau in {1/9, 1/3, 1, 3, 10} for RGD, selected on validation balanced \
                       accuracy at the last step (seed 0); then seeds 0-4. Minority test classes of \
                       the KEEL sets are small (as few as 6 examples), so worst-class accuracy \
                       moves in large steps"
            .into();
    }
    part.select = Metric::BalancedAccuracy;
    part.report = vec![
        Metric::WorstClass,
        Metric::BalancedAccuracy,
        Metric::MacroF1,
        Metric::Accuracy,
    ];
    part
}
