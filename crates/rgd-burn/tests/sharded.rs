//! Data-parallel reweighting: the batch split into shards (each with its own model replica)
//! gives the unsharded batch's weights, rule state and summed gradient, for every rule.

mod common;

use burn::nn::Linear;
use burn::optim::GradientsParams;
use burn::prelude::*;
use common::*;
use rgd::{
    AbsgdConfig, ChiSquareConfig, CvarConfig, GroupDroConfig, RgdConfig, RuleConfig, TermConfig,
};
use rgd_burn::{PerExampleLoss, Reweighter, loss};

fn rules() -> Vec<RuleConfig> {
    vec![
        RuleConfig::Erm,
        RuleConfig::Rgd(RgdConfig::new().with_tau(1.0)),
        RuleConfig::Term(TermConfig::new(2.0)),
        RuleConfig::Absgd(AbsgdConfig::new(1.0)),
        RuleConfig::Cvar(CvarConfig::new(0.5)),
        RuleConfig::ChiSquare(ChiSquareConfig::new(1.0)),
        RuleConfig::GroupDro(GroupDroConfig::new(2, 1.0)),
    ]
}

/// The per-example losses of rows `rows` of the fixture under `model`.
fn losses(model: &Linear, rows: std::ops::Range<usize>, device: &Device) -> PerExampleLoss {
    let (x, y) = inputs(device);
    let n = rows.len();
    let x = x.slice([rows.clone(), 0..D_IN]);
    let y = y.slice([rows]);
    let l = loss::cross_entropy(model.forward(x), y, 0.0).unwrap();
    assert_eq!(l.batch_size(), n);
    l
}

fn flat(model: &Linear, grads: &GradientsParams) -> Vec<f64> {
    let w: Tensor<2> = grads.get(model.weight.id).expect("a weight gradient");
    let b: Tensor<1> = grads
        .get(model.bias.as_ref().unwrap().id)
        .expect("a bias gradient");
    let mut v: Vec<f64> = w.into_data().iter::<f64>().collect();
    v.extend(b.into_data().iter::<f64>());
    v
}

#[test]
fn a_sharded_batch_gives_the_unsharded_weights_state_and_gradient_for_every_rule() {
    let device = Device::flex().autodiff();
    let groups = [0, 1, 1, 0];
    for rule in rules() {
        let grouped = matches!(rule, RuleConfig::GroupDro(_));
        // Two steps, so that stateful rules (ABSGD's normaliser, Group DRO's group weights)
        // also carry their state across a sharded step.
        let (mut whole, mut sharded) = (
            Reweighter::new(&rule).unwrap(),
            Reweighter::new(&rule).unwrap(),
        );
        for step in 0..2 {
            let model = linear(
                &params()
                    .iter()
                    .map(|p| p * (1.0 + step as f64))
                    .collect::<Vec<_>>(),
                &device,
            );
            let all = losses(&model, 0..4, &device);
            let reference = if grouped {
                whole.apply_grouped(all, &groups).unwrap()
            } else {
                whole.apply(all).unwrap()
            };
            let unsharded = flat(
                &model,
                &GradientsParams::from_grads(reference.loss.backward(), &model),
            );

            // Two replicas of the model, shards of 1 and 3 examples.
            let replicas = [model.clone().fork(&device), model.clone().fork(&device)];
            let shards = vec![
                losses(&replicas[0], 0..1, &device),
                losses(&replicas[1], 1..4, &device),
            ];
            let (shard_losses, out) = sharded
                .apply_sharded(shards, grouped.then_some(&groups[..]))
                .unwrap();
            assert_eq!(
                out.weights, reference.weights,
                "{rule:?} step {step}: weights"
            );
            assert_eq!(out.losses, reference.losses, "{rule:?} step {step}: losses");
            assert_eq!(
                whole.state(),
                sharded.state(),
                "{rule:?} step {step}: rule state"
            );
            let total: f32 = out.loss.clone().into_scalar();
            let expected: f32 = reference.loss.clone().into_scalar();
            assert!(
                (total - expected).abs() < 1e-6,
                "{rule:?}: loss {total} vs {expected}"
            );
            let summed: Vec<f64> = (shard_losses.into_iter().zip(&replicas))
                .map(|(l, replica)| {
                    flat(replica, &GradientsParams::from_grads(l.backward(), replica))
                })
                .reduce(|a, b| a.iter().zip(&b).map(|(x, y)| x + y).collect())
                .unwrap();
            for (s, u) in summed.iter().zip(&unsharded) {
                assert!(
                    (s - u).abs() < 1e-6,
                    "{rule:?} step {step}: gradient {summed:?} vs {unsharded:?}"
                );
            }
        }
    }
}

#[test]
fn no_shard_is_an_error() {
    let mut rgd = Reweighter::new(&RuleConfig::Rgd(RgdConfig::new())).unwrap();
    let err = rgd.apply_sharded(Vec::new(), None).unwrap_err();
    assert!(err.to_string().contains("at least one shard"), "{err}");
}
