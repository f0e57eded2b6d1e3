//! The lab's ViT and text transformer on the fused attention and GELU kernels
//! (`rgd_kernels::attention`, `rgd_kernels::gelu`, the default) against the same models on
//! burn-nn's encoder layers (`model.kernels = "burn"`): from the same initial parameters, the
//! gradient of every parameter agrees, and RGD steps with AdamW on fixed batches give the same
//! per-example losses and RGD weights up to float tolerance. The text batches are padded
//! sentences of different lengths, so the padding mask is exercised. The packed products
//! (`model.kernels = "packed"`) against the fused path, the same way.
//!
//! The parameters after the Adam steps are not compared: the key projection's bias adds the
//! same `q · b` to every score of a row, which softmax ignores, so its gradient is zero up to
//! rounding, and Adam turns each path's rounding noise into steps of ±lr.

use burn::prelude::*;
use rgd_kernels::EncoderPath;
use rgd_lab::config::{EncoderConfig, ModelConfig, VitConfig};
use rgd_lab::model::Model;

mod common;
use common::steps::{assert_close, gradients, parameters, train_on};

fn encoder(kernels: EncoderPath) -> EncoderConfig {
    EncoderConfig {
        width: 16,
        depth: 2,
        heads: 4,
        dropout: 0.0,
        kernels,
    }
}

/// The two comparisons: the fused kernels against burn-nn's layers, and the packed products
/// against the fused path's gemm products.
const FUSED_AND_BURN: [EncoderPath; 2] = [EncoderPath::Fused, EncoderPath::Burn];
const PACKED_AND_FUSED: [EncoderPath; 2] = [EncoderPath::Packed, EncoderPath::Fused];

/// The device's generator, shared by this file's tests, which run in parallel.
static GENERATOR: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The model on both paths from the same seed (seeded before building, for what initialises
/// eagerly, and before first reading the parameters, for what initialises lazily).
fn pair(
    config: impl Fn(EncoderPath) -> ModelConfig,
    paths: [EncoderPath; 2],
    shape: &[usize],
    device: &Device,
) -> [Model; 2] {
    let _generator = GENERATOR
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let init = |kernels| {
        device.seed(5);
        let model = Model::new(&config(kernels), shape, 4, device).unwrap();
        device.seed(6);
        let _ = parameters(&model);
        model
    };
    let models = paths.map(init);
    let (a, b) = (parameters(&models[0]), parameters(&models[1]));
    let first = a.iter().zip(&b).position(|(x, y)| x != y);
    assert_eq!(
        first,
        None,
        "the first parameter that differs, of {}",
        a.len()
    );
    models
}

/// The same gradients at the start, then the same losses and weights over 12 RGD steps.
fn assert_same_training(
    [first, second]: [Model; 2],
    shape: &[usize],
    device: &Device,
    input: impl Fn(usize, usize) -> f32 + Copy,
) {
    let initial = parameters(&first);
    let grads = gradients(&first, shape, device, input);
    assert_close(
        &grads,
        &gradients(&second, shape, device, input),
        1e-5,
        "gradients",
    );
    // The two encoder layers hold 4448 weights and biases (the text model's 8192-word
    // embedding gets gradients only in the rows of the words it saw).
    let nonzero = grads.iter().filter(|g| g.abs() > 1e-6).count();
    assert!(
        nonzero > 4000,
        "only {nonzero} of {} gradients are nonzero",
        grads.len()
    );
    let steps = 12;
    let first = train_on(first, shape, steps, device, input);
    let second = train_on(second, shape, steps, device, input);
    assert_close(&first.0, &second.0, 1e-4, "per-example losses");
    assert_close(&first.1, &second.1, 1e-4, "RGD weights");
    assert!(
        first.2.iter().zip(&initial).any(|(a, b)| a != b),
        "the steps moved the parameters"
    );
}

#[test]
fn the_fused_and_packed_vit_train_the_same_steps_as_burns_layers() {
    let device = Device::flex().autodiff();
    let shape = [1, 14, 14];
    let vit = |kernels| {
        ModelConfig::Vit(VitConfig {
            patch: 7,
            encoder: encoder(kernels),
        })
    };
    let input = |i: usize, step: usize| (((i * 37 + step * 11) % 97) as f32 / 97.0) - 0.5;
    for paths in [FUSED_AND_BURN, PACKED_AND_FUSED] {
        assert_same_training(pair(vit, paths, &shape, &device), &shape, &device, input);
    }
}

#[test]
fn the_fused_and_packed_text_transformer_train_the_same_steps_with_padding() {
    let device = Device::flex().autodiff();
    let max_len = 9;
    let shape = [max_len];
    let text = |kernels| ModelConfig::Transformer(encoder(kernels));
    // Sentence r of a batch has 1 + (r + step) mod 9 word ids in 1..50, then padding (0).
    let ids = move |i: usize, step: usize| {
        let (row, position) = (i / max_len, i % max_len);
        let length = 1 + (row + step) % max_len;
        if position < length {
            (1 + (i * 7 + step * 3) % 49) as f32
        } else {
            0.0
        }
    };
    for paths in [FUSED_AND_BURN, PACKED_AND_FUSED] {
        assert_same_training(pair(text, paths, &shape, &device), &shape, &device, ids);
    }
}
