//! The lab's ViT and text transformer on the fused attention and GELU kernels
//! (`rgd_kernels::attention`, `rgd_kernels::gelu`, the default) against the same models on
//! burn-nn's encoder layers (`model.kernels = "burn"`): from the same initial parameters, the
//! gradient of every parameter agrees, and RGD steps with AdamW on fixed batches give the same
//! per-example losses and RGD weights up to float tolerance. The text batches are padded
//! sentences of different lengths, so the padding mask is exercised. The packed products
//! (`model.kernels = "packed"`) against the fused path, the same way. A small BERT (post-norm
//! layers, as MiniLM's) on both paths with dropout 0.1 active: the fused path draws its
//! attention-dropout masks through burn's `Dropout` in burn's order, so from the same seed both
//! paths drop the same probabilities and agree as closely.
//!
//! The parameters after the Adam steps are not compared: the key projection's bias adds the
//! same `q · b` to every score of a row, which softmax ignores, so its gradient is zero up to
//! rounding, and Adam turns each path's rounding noise into steps of ±lr.

use burn::prelude::*;
use rgd_kernels::EncoderPath;
use rgd_lab::bert::{BertClassifier, BertConfig};
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

#[test]
fn a_post_norm_bert_with_dropout_trains_the_same_steps_on_every_path() {
    let device = Device::flex().autodiff();
    let _generator = GENERATOR
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let config = BertConfig {
        vocab_size: 50,
        hidden_size: 16,
        num_hidden_layers: 2,
        num_attention_heads: 4,
        intermediate_size: 32,
        max_position_embeddings: 16,
        type_vocab_size: 2,
        layer_norm_eps: 1e-12,
        hidden_dropout_prob: 0.1,
    };
    let max_len = 9;
    let shape = [max_len];
    let ids = move |i: usize, step: usize| {
        let (row, position) = (i / max_len, i % max_len);
        let length = 1 + (row + step) % max_len;
        match position < length {
            true => (1 + (i * 7 + step * 3) % 49) as f32,
            false => 0.0,
        }
    };
    let model = |kernels| {
        device.seed(5);
        let bert = config.init(&device).with_kernels(kernels);
        Model::Bert(BertClassifier::new(bert, 4, 0, &device).unwrap())
    };
    // Seeded before each use, so that every path draws the same dropout masks.
    let run = |kernels| {
        let model = model(kernels);
        device.seed(7);
        let grads = gradients(&model, &shape, &device, ids);
        device.seed(8);
        (grads, train_on(model, &shape, 12, &device, ids))
    };
    let (burn_grads, burn) = run(EncoderPath::Burn);
    let nonzero = burn_grads.iter().filter(|g| g.abs() > 1e-6).count();
    assert!(
        nonzero > 3000,
        "only {nonzero} of {} gradients",
        burn_grads.len()
    );
    for kernels in [EncoderPath::Fused, EncoderPath::Packed] {
        let (grads, ours) = run(kernels);
        assert_close(&grads, &burn_grads, 1e-5, "gradients");
        assert_close(&ours.0, &burn.0, 1e-4, "per-example losses");
        assert_close(&ours.1, &burn.1, 1e-4, "RGD weights");
        // The kernels round differently from burn's ops: equal bits would mean burn's ops ran.
        assert_ne!(
            grads, burn_grads,
            "{kernels:?} computed burn's exact gradients"
        );
    }
    // Dropout is on: the same model and batch give other losses under another seed.
    let model = model(EncoderPath::Fused);
    device.seed(9);
    let other = gradients(&model, &shape, &device, ids);
    assert!(
        other
            .iter()
            .zip(&burn_grads)
            .any(|(a, b)| (a - b).abs() > 1e-3)
    );
}
