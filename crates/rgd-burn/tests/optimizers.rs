//! RGD composes with burn's optimizers unchanged: a small model trained a few steps under RGD
//! lowers its loss with SGD, SGD with momentum, Adam and AdamW.

mod common;

use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, AdamWConfig, GradientsParams, ModuleOptimizer, SgdConfig};
use burn::prelude::*;
use common::*;
use rgd::{RgdConfig, RuleConfig};
use rgd_burn::{Reweighter, loss};

fn train(mut optim: ModuleOptimizer, lr: f64) -> (f64, f64) {
    let device = Device::flex().autodiff();
    let mut model = linear(&params(), &device);
    let (x, y) = inputs(&device);
    let mut rgd = Reweighter::new(&RuleConfig::Rgd(RgdConfig::new())).unwrap();
    let mut first = None;
    let mut last = 0.0;
    for _ in 0..30 {
        let out = rgd
            .apply(loss::cross_entropy(model.forward(x.clone()), y.clone(), 0.0).unwrap())
            .unwrap();
        first.get_or_insert(out.mean_loss());
        last = out.mean_loss();
        let grads = GradientsParams::from_grads(out.loss.backward(), &model);
        model = optim.step(lr, model, grads);
    }
    (first.unwrap(), last)
}

#[test]
fn rgd_lowers_the_loss_with_every_optimizer() {
    let runs = [
        ("sgd", train(SgdConfig::new().init(), 0.1)),
        (
            "sgd+momentum",
            train(
                SgdConfig::new()
                    .with_momentum(Some(MomentumConfig::new().with_dampening(0.0)))
                    .init(),
                0.05,
            ),
        ),
        (
            "adam",
            train(AdamConfig::new().with_epsilon(1e-8).init(), 0.05),
        ),
        (
            "adamw",
            train(AdamWConfig::new().with_epsilon(1e-8).init(), 0.05),
        ),
    ];
    for (name, (first, last)) in runs {
        assert!(last < 0.7 * first, "{name}: loss {first} -> {last}");
    }
}
