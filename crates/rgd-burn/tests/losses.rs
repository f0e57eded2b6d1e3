//! Per-example losses against an f64 host reference, and the shape checks that make reweighting
//! a batch mean impossible.

mod common;

use burn::prelude::*;
use common::*;
use rgd::{GroupDroConfig, RgdError, RuleConfig};
use rgd_burn::{PerExampleLoss, Reweighter, RgdBurnError, loss};

fn close(got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < tol, "got {got:?}, want {want:?}");
    }
}

#[test]
fn cross_entropy_with_and_without_label_smoothing() {
    let device = Device::flex();
    let model = linear(&params(), &device);
    let (x, y) = inputs(&device);
    let logp = host_log_softmax(&params());
    for eps in [0.0, 0.1, 0.3] {
        let want: Vec<f64> = logp
            .iter()
            .zip(Y)
            .map(|(lp, t)| -(1.0 - eps) * lp[t] - eps * lp.iter().sum::<f64>() / CLASSES as f64)
            .collect();
        let got = loss::cross_entropy(model.forward(x.clone()), y.clone(), eps).unwrap();
        close(&to_vec(got.into_tensor()), &want, 1e-6);
    }
    assert_eq!(
        loss::cross_entropy(model.forward(x), y, 1.0)
            .unwrap_err()
            .to_string(),
        "invalid label_smoothing = 1: label smoothing must lie in [0, 1) (0 disables it)"
    );
}

#[test]
fn focal_matches_reference_and_its_factor_carries_gradient() {
    let device = Device::flex().autodiff();
    let model = linear(&params(), &device);
    let (x, y) = inputs(&device);
    let gamma = 2.0;
    let focal_host = |p: &[f64]| -> Vec<f64> {
        host_losses(p)
            .iter()
            .map(|&ce| (1.0 - (-ce).exp()).powf(gamma) * ce)
            .collect()
    };
    let got = loss::focal(model.forward(x), y, gamma)
        .unwrap()
        .into_tensor();
    close(&to_vec(got.clone()), &focal_host(&params()), 1e-6);
    let autodiff = flat_grads(&model, &got.mean().backward());
    let h = 1e-6;
    let p0 = params();
    for (k, g) in autodiff.iter().enumerate() {
        let (mut up, mut down) = (p0.clone(), p0.clone());
        up[k] += h;
        down[k] -= h;
        let fd = (focal_host(&up).iter().sum::<f64>() - focal_host(&down).iter().sum::<f64>())
            / (2.0 * h * 4.0);
        assert!((g - fd).abs() < 1e-5, "parameter {k}: {g} vs {fd}");
    }
}

#[test]
fn binary_cross_entropy_and_mse_match_reference() {
    let device = Device::flex();
    let logits = [-30.0, -1.0, 0.0, 2.5, 40.0];
    let targets = [0.0, 1.0, 0.5, 0.0, 1.0];
    let want: Vec<f64> = logits
        .iter()
        .zip(targets)
        .map(|(&x, y): (&f64, f64)| {
            let p = 1.0 / (1.0 + (-x).exp());
            -(y * p.max(1e-300).ln() + (1.0 - y) * (1.0 - p).max(1e-300).ln())
        })
        .collect();
    let got = loss::binary_cross_entropy_with_logits(
        Tensor::<1>::from_floats(logits.map(|v| v as f32), &device),
        Tensor::<1>::from_floats(targets.map(|v| v as f32), &device),
    )
    .unwrap();
    close(&to_vec(got.into_tensor()), &want, 1e-5);

    let p = Tensor::<2>::from_floats([[1.0, -2.0, 0.5], [0.0, 0.0, 3.0]], &device);
    let t = Tensor::<2>::from_floats([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]], &device);
    close(
        &to_vec(loss::mse(p, t).unwrap().into_tensor()),
        &[5.25 / 3.0, 6.0 / 3.0],
        1e-6,
    );
}

#[test]
fn token_losses_ignore_padding() {
    let device = Device::flex();
    let logits = Tensor::<3>::from_floats(
        [
            [[2.0, 0.0], [0.0, 1.0], [9.0, -9.0]],
            [[0.0, 0.0], [5.0, 5.0], [1.0, 1.0]],
        ],
        &device,
    );
    let targets = Tensor::<2, Int>::from_ints([[0, 1, 1], [1, 0, 0]], &device);
    let mask = Tensor::<2, Bool>::from_data([[true, true, false], [true, false, false]], &device);
    let ce = |z: [f64; 2], t: usize| (z[0].exp() + z[1].exp()).ln() - z[t];
    let want = [
        (ce([2.0, 0.0], 0) + ce([0.0, 1.0], 1)) / 2.0,
        ce([0.0, 0.0], 1),
    ];
    let got = loss::token_cross_entropy(logits, targets, mask).unwrap();
    close(&to_vec(got.into_tensor()), &want, 1e-6);
}

#[test]
fn reduced_or_per_token_losses_are_rejected() {
    let device = Device::flex();
    let losses = Tensor::<1>::from_floats([0.3, 0.9, 1.2, 0.1], &device);
    let err = PerExampleLoss::new(losses.mean(), 4).unwrap_err();
    assert_eq!(
        err.to_string(),
        "got 1 losses for a batch of 4 examples; pass one loss per example (reduction 'none'), \
         not the batch mean: reweighting a mean only rescales the learning rate"
    );
    let err = PerExampleLoss::new(Tensor::<2>::zeros([4, 7], &device), 4).unwrap_err();
    assert_eq!(
        err,
        RgdBurnError::NotPerExample {
            rank: 2,
            shape: vec![4, 7]
        }
    );
    let mismatch = loss::cross_entropy(
        Tensor::<2>::zeros([4, 3], &device),
        Tensor::<1, Int>::zeros([5], &device),
        0.0,
    );
    assert!(matches!(
        mismatch,
        Err(RgdBurnError::ShapeMismatch {
            what: "targets",
            ..
        })
    ));
}

#[test]
fn reweighter_reports_rule_errors_and_group_weights() {
    let device = Device::flex();
    let nan = Tensor::<1>::from_floats([0.5, f32::NAN], &device);
    let mut rgd = Reweighter::new(&RuleConfig::Rgd(Default::default())).unwrap();
    let err = rgd.apply(PerExampleLoss::new(nan, 2).unwrap()).unwrap_err();
    assert!(matches!(
        err,
        RgdBurnError::Rule(RgdError::NonFiniteLoss { index: 1, .. })
    ));

    let mut dro = Reweighter::new(&RuleConfig::GroupDro(GroupDroConfig::new(2, 1.0))).unwrap();
    let l = Tensor::<1>::from_floats([1.0, 1.0, 3.0], &device);
    let out = dro
        .apply_grouped(PerExampleLoss::new(l, 3).unwrap(), &[0, 0, 1])
        .unwrap();
    let q1 = 1.0 / (1.0 + (-2.0f64).exp());
    assert!((f64::from(out.weights[2]) - 3.0 * q1).abs() < 1e-6);
    assert!((out.weighted_mean_loss() - to_vec(out.loss.clone())[0]).abs() < 1e-6);
    assert_eq!(dro.state().values.len(), 2);
}
