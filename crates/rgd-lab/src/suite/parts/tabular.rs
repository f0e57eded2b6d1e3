//! The tabular and imbalance suites' parts.

use super::super::catalog::{Metric, Part, base_config, spec};
use super::ADAMW;

/// The KEEL development sets of the tabular suite (issue 5).
const TABULAR_SETS: [&str; 15] = [
    "magic",
    "letter",
    "phoneme",
    "satimage",
    "optdigits",
    "segment",
    "german",
    "chess",
    "splice",
    "marketing",
    "contraceptive",
    "titanic",
    "vehicle",
    "vowel",
    "pima",
];

/// KEEL imbalanced binary sets of the imbalance suite (a sample of those with >= 1000 rows).
const IMBALANCED_SETS: [&str; 12] = [
    "yeast1",
    "yeast3",
    "yeast4",
    "yeast5",
    "yeast6",
    "winequality-red-4",
    "car-good",
    "abalone19",
    "shuttle-2_vs_5",
    "page-blocks0",
    "segment0",
    "poker-8-9_vs_5",
];

pub(crate) fn tabular(quick: bool) -> Part {
    let base = base_config(&format!(
        r#"
[model]
hidden = [256, 256]
norm = "batch"
dropout = 0.1
{ADAMW}
[train]
batch_size = 128
epochs = 20
max_steps = 1000
"#
    ));
    let data = if quick {
        let overrides = ["data.source=magic", "data.max_train=2000"];
        vec![spec("magic (2000 rows)", &overrides)]
    } else {
        // The embedded copy of magic is the KEEL file itself.
        let source = |s: &str| match s {
            "magic" => "data.source=magic".to_string(),
            s => format!("data.source=keel/{s}"),
        };
        (TABULAR_SETS.iter())
            .map(|&s| spec(s, &[&source(s)]))
            .collect()
    };
    let notes = if quick {
        "quick mode: magic subsampled to 2000 training rows".into()
    } else {
        "each set split 70/15/15, stratified, with split seed 0; every method at every \
         learning rate, the rules' knobs on their grids"
            .into()
    };
    Part {
        lrs: if quick { vec![1e-3] } else { vec![1e-3, 3e-3] },
        ..Part::new(quick, base, data, notes)
    }
}

/// Imbalanced binary KEEL sets: selection on validation balanced accuracy at the last step,
/// reporting worst-class and balanced accuracy, macro-F1 and accuracy.
pub(crate) fn imbalance(quick: bool) -> Part {
    let mut part = tabular(quick);
    part.base.train.selection = crate::config::Selection::Last;
    if !quick {
        let keel = |s: &str| spec(s, &[&format!("data.source=keel-imb/{s}")]);
        part.data = IMBALANCED_SETS.iter().map(|&s| keel(s)).collect();
        for ratio in [10, 100] {
            let overrides = [
                "data.source=fashion-mnist",
                "data.test_source=fashion-mnist-test",
                &format!("data.long_tail_ratio={ratio}"),
            ];
            let label = format!("fashion-mnist-LT{ratio}");
            part.data.push(spec(&label, &overrides));
        }
        part.lrs = vec![1e-3];
        part.notes = "the tabular suite's recipe on 12 imbalanced binary KEEL sets (minority \
                       1-35%) and on long-tailed Fashion-MNIST (training split of the 60000 \
                       training images, less 15% for validation, long-tailed with an exponential \
                       profile to ratios 10 and 100; balanced validation split and the official \
                       10000-image test set; the MLP on the 784 pixels). Minority test classes of \
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
