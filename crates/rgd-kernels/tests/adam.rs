//! The fused Adam and AdamW against burn's `Adam` and `AdamW`: the same parameters bit for bit
//! over steps with a changing learning rate and any weight decay, and checkpoints that move
//! between the two.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{GradientsParams, ModuleOptimizer, OptimizerRecord};
use burn::tensor::{Bytes, Device, Tensor, TensorData};
use rgd_kernels::adam::{AdamParams, FusedAdam, FusedAdamW};

mod common;
use common::uniform as values;

#[derive(Module, Debug)]
struct Net {
    first: Linear,
    /// 40960 weights, so that a parameter spans many SIMD widths and cache lines.
    second: Linear,
    third: Linear,
}

impl Net {
    fn new(device: &Device) -> Self {
        Net {
            first: LinearConfig::new(7, 256).init(device),
            second: LinearConfig::new(256, 160).init(device),
            third: LinearConfig::new(160, 3).init(device),
        }
    }

    fn parameters(&self) -> Vec<u32> {
        [
            self.first.weight.val().flatten::<1>(0, 1),
            self.first.bias.as_ref().unwrap().val(),
            self.second.weight.val().flatten::<1>(0, 1),
            self.second.bias.as_ref().unwrap().val(),
            self.third.weight.val().flatten::<1>(0, 1),
            self.third.bias.as_ref().unwrap().val(),
        ]
        .into_iter()
        .flat_map(|t| t.into_data().try_to_vec::<f32>().unwrap())
        .map(f32::to_bits)
        .collect()
    }
}

/// `steps` steps from step `from` on a loss with large and tiny gradients (a squared output
/// and a linear one), at a learning rate that changes every step.
fn train(mut net: Net, optimizer: &mut ModuleOptimizer, from: u64, steps: u64) -> Net {
    let device = Device::flex().autodiff();
    for step in from..from + steps {
        let x = Tensor::<2>::from_data(TensorData::new(values(4 * 7, step), [4, 7]), &device);
        let r = Tensor::<2>::from_data(TensorData::new(values(4 * 3, step + 99), [4, 3]), &device);
        let hidden = net.second.forward(net.first.forward(x).tanh()).tanh();
        let y = net.third.forward(hidden);
        let loss = (y.clone().powi_scalar(2) * 3.0 + y * r * 1e-4).sum();
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        let lr = 1e-2 * (1.0 + step as f64) / 7.0;
        net = optimizer.step(lr, net, grads);
    }
    net
}

fn params(weight_decay: f32) -> AdamParams {
    AdamParams {
        beta_1: 0.9,
        beta_2: 0.999,
        epsilon: 1e-8,
        weight_decay,
    }
}

/// The fused optimizer and burn's, both with `params` (Adam or AdamW).
type Pair = (
    fn(AdamParams) -> ModuleOptimizer,
    fn(AdamParams) -> ModuleOptimizer,
);

const OPTIMIZERS: [(&str, Pair); 2] = [
    ("AdamW", (|p| FusedAdamW::new(p).into(), FusedAdamW::burn)),
    ("Adam", (|p| FusedAdam::new(p).into(), FusedAdam::burn)),
];

#[test]
fn every_step_equals_burns_bit_for_bit() {
    let device = Device::flex().autodiff();
    for (name, (fused, burn)) in OPTIMIZERS {
        for weight_decay in [0.0, 0.01, 0.5] {
            device.seed(7);
            let net = Net::new(&device);
            let theirs = train(net.clone(), &mut burn(params(weight_decay)), 0, 12);
            let ours = train(net.clone(), &mut fused(params(weight_decay)), 0, 12);
            assert_ne!(
                theirs.parameters(),
                net.parameters(),
                "the steps moved the parameters"
            );
            assert_eq!(
                ours.parameters(),
                theirs.parameters(),
                "{name}, weight decay {weight_decay}"
            );
        }
    }
}

#[test]
fn a_checkpoint_of_either_optimizer_resumes_in_the_other() {
    let device = Device::flex().autodiff();
    device.seed(3);
    let net = Net::new(&device);
    for (name, (fused, burn)) in OPTIMIZERS {
        let reference = train(net.clone(), &mut burn(params(0.01)), 0, 6);
        let resumed = |mut first: ModuleOptimizer, second: ModuleOptimizer| {
            let half = train(net.clone(), &mut first, 0, 3);
            let bytes = first.to_record().into_bytes().unwrap();
            let record =
                OptimizerRecord::from_bytes(Bytes::from_bytes_vec(bytes.to_vec())).unwrap();
            train(half, &mut second.load_record(record), 3, 3)
        };
        let (ours, theirs) = (|| fused(params(0.01)), || burn(params(0.01)));
        assert_eq!(
            resumed(theirs(), ours()).parameters(),
            reference.parameters(),
            "{name}"
        );
        assert_eq!(
            resumed(ours(), theirs()).parameters(),
            reference.parameters(),
            "{name}"
        );
    }
}
