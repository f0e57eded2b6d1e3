//! The benchmark models (`rgd bench speed --models`), their synthetic inputs and the matrix
//! products of one training step.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rgd_data::Dataset;
use rgd_kernels::EncoderPath;
use rgd_kernels::conv::ConvPath;

use crate::LabError;
use crate::config::{BertConfig, CnnConfig, MlpConfig, ModelConfig, VitConfig};

/// The benchmark model's config, example shape and default batch size.
pub(super) fn bench_model(name: &str) -> Result<(ModelConfig, Vec<usize>, usize), LabError> {
    // The encoder path of `vit-*` and `minilm-*`.
    let kernels = match name.rsplit_once('-') {
        Some((_, "packed")) => EncoderPath::Packed,
        Some((_, "burn")) => EncoderPath::Burn,
        _ => EncoderPath::Fused,
    };
    match name {
        "mlp" => Ok((ModelConfig::Mlp(MlpConfig::default()), vec![784], 128)),
        "cnn" | "cnn-burn" => Ok((
            ModelConfig::Cnn(CnnConfig {
                channels: vec![32, 64],
                conv: if name == "cnn" {
                    ConvPath::Gemm
                } else {
                    ConvPath::Burn
                },
                head: MlpConfig {
                    hidden: vec![128],
                    ..MlpConfig::default()
                },
            }),
            vec![1, 28, 28],
            64,
        )),
        "vit" | "vit-packed" | "vit-burn" => {
            let mut vit = VitConfig::default();
            vit.encoder.kernels = kernels;
            Ok((ModelConfig::Vit(vit), vec![1, 28, 28], 64))
        }
        "minilm" | "minilm-packed" | "minilm-burn" => {
            let bert = BertConfig {
                freeze_layers: 0,
                kernels,
            };
            Ok((ModelConfig::Bert(bert), vec![MINILM_TOKENS], 32))
        }
        other => Err(LabError::Config(format!(
            "unknown benchmark model \"{other}\" (mlp, cnn, cnn-burn, vit, vit-packed, \
             vit-burn, minilm, minilm-packed, minilm-burn)"
        ))),
    }
}

/// The padded length of the MiniLM benchmark's token rows.
const MINILM_TOKENS: usize = 48;

/// Multiply-accumulates per example of each weight layer (dense and convolution), in order; for
/// the ViT also the two attention products per layer (scores and weighted values), counted as
/// layers with an input gradient.
fn layer_macs(config: &ModelConfig, shape: &[usize], classes: usize) -> Vec<f64> {
    let dense = |mut inputs: usize, hidden: &[usize], macs: &mut Vec<f64>| {
        for &width in hidden.iter().chain(std::iter::once(&classes)) {
            macs.push((inputs * width) as f64);
            inputs = width;
        }
    };
    // `depth` layers of `t` tokens of width `w`, feed-forward width `ff`: query, key and value,
    // scores, weighted values, attention output, feed-forward in and out; then the head.
    let encoder = |(t, w, ff): (f64, f64, f64), depth: usize, macs: &mut Vec<f64>| {
        for _ in 0..depth {
            macs.extend([
                3.0 * t * w * w,
                t * t * w,
                t * t * w,
                t * w * w,
                t * w * ff,
                t * ff * w,
            ]);
        }
        macs.push(w * classes as f64);
    };
    let mut macs = Vec::new();
    match config {
        ModelConfig::Vit(vit) => {
            let p = vit.patch;
            let (c, tokens) = (shape[0], (shape[1] / p) * (shape[2] / p));
            let width = vit.encoder.width;
            let (t, w) = ((tokens + 1) as f64, width as f64);
            macs.push((tokens * c * p * p * width) as f64);
            encoder((t, w, 2.0 * w), vit.encoder.depth, &mut macs);
        }
        ModelConfig::Cnn(cnn) => {
            let [mut c, mut h, mut w] = [shape[0], shape[1], shape[2]];
            for &out in &cnn.channels {
                macs.push((h * w * out * c * 9) as f64);
                (c, h, w) = (out, h / 2, w / 2);
            }
            dense(c * h * w, &cnn.head.hidden, &mut macs);
        }
        ModelConfig::Mlp(mlp) => dense(shape.iter().product(), &mlp.hidden, &mut macs),
        ModelConfig::Bert(_) => {
            // MiniLM-L6 at the padded length; a 0 first: the embedding lookup is no product,
            // and every encoder layer's input has a gradient (the embeddings train).
            macs.push(0.0);
            encoder((shape[0] as f64, 384.0, 1536.0), 6, &mut macs);
        }
        ModelConfig::Transformer(_) => {}
    }
    macs
}

/// Matrix-product FLOPs of one training step on `batch` examples: per weight layer 2 MACs
/// forward, 2 for the weight gradient and 2 for the input gradient (not for the first layer,
/// whose input needs none). Element-wise work (activations, pooling, loss, Adam) not counted.
pub fn step_flops(config: &ModelConfig, shape: &[usize], classes: usize, batch: usize) -> f64 {
    let macs = layer_macs(config, shape, classes);
    let per_example: f64 = (macs.iter().enumerate())
        .map(|(i, m)| if i == 0 { 4.0 * m } else { 6.0 * m })
        .sum();
    per_example * batch as f64
}

/// A fixed-seed pool of synthetic examples of `shape` and 10 classes: uniform [0, 1) values, or
/// for a model that reads token ids, rows of uniform WordPiece ids (`1..30522`) padded with
/// 0 after a length uniform in `8..=L` (every fourth row full, so that a batch pads to `L`).
pub(super) fn synthetic(shape: &[usize], examples: usize, seed: u64, tokens: bool) -> Dataset {
    let width: usize = shape.iter().product();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let features = match tokens {
        false => (0..examples * width).map(|_| rng.random::<f32>()).collect(),
        true => (0..examples)
            .flat_map(|i| {
                let length = if i % 4 == 0 {
                    width
                } else {
                    rng.random_range(8.min(width)..=width)
                };
                (0..width)
                    .map(|j| {
                        if j < length {
                            rng.random_range(1..30522u32) as f32
                        } else {
                            0.0
                        }
                    })
                    .collect::<Vec<f32>>()
            })
            .collect(),
    };
    let labels = (0..examples).map(|_| rng.random_range(0..10u32)).collect();
    let classes = (0..10).map(|k| k.to_string()).collect();
    let mut data = Dataset::from_features("synthetic", features, width, labels, classes);
    data.example_shape = shape.to_vec();
    data
}

#[cfg(test)]
mod tests {
    use burn::prelude::*;

    use super::*;
    use crate::model::Model;

    #[test]
    fn flop_counts_of_the_benchmark_models() {
        let (mlp, shape, batch) = bench_model("mlp").unwrap();
        // 784*256 + 256*256 + 256*10 MACs; the first layer has no input gradient.
        let expected = (4.0 * 200_704.0 + 6.0 * (65_536.0 + 2_560.0)) * 128.0;
        assert_eq!(step_flops(&mlp, &shape, 10, batch), expected);
        let (cnn, shape, _) = bench_model("cnn").unwrap();
        let macs = layer_macs(&cnn, &shape, 10);
        assert_eq!(
            macs,
            vec![
                (28 * 28 * 32 * 9) as f64,
                (14 * 14 * 64 * 32 * 9) as f64,
                (7 * 7 * 64 * 128) as f64,
                1280.0
            ]
        );
        let (vit, shape, _) = bench_model("vit").unwrap();
        let macs = layer_macs(&vit, &shape, 10);
        assert_eq!(macs.len(), 1 + 6 * 4 + 1);
        assert_eq!(macs[0], (16 * 49 * 128) as f64);
        assert_eq!(macs[1], 3.0 * 17.0 * 128.0 * 128.0);
        assert!(bench_model("resnet").is_err());
    }

    #[test]
    fn the_two_cnn_paths_train_the_same_model() {
        let device = Device::flex();
        let (gemm, shape, _) = bench_model("cnn").unwrap();
        let (burn, _, _) = bench_model("cnn-burn").unwrap();
        let [ModelConfig::Cnn(a), ModelConfig::Cnn(b)] = [&gemm, &burn] else {
            panic!("both are CNNs")
        };
        assert_eq!((a.conv, b.conv), (ConvPath::Gemm, ConvPath::Burn));
        assert_eq!(
            CnnConfig {
                conv: ConvPath::Burn,
                ..a.clone()
            },
            b.clone()
        );
        let model = Model::new(&gemm, &shape, 10, &device).unwrap();
        assert_eq!(
            model
                .forward(Tensor::zeros([3, 784], &device), &shape)
                .dims(),
            [3, 10]
        );
    }
}
