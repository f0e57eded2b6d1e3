//! A small transformer text classifier trained from scratch: word embeddings with learned
//! positions, pre-norm transformer layers with the padding mask, masked mean pooling and a
//! linear head.
//!
//! ```text
//! z_0 = E_word[ids] + E_pos[0..T]
//! z_l = z' + FFN(LN(z')),  z' = z_{l-1} + MHA(LN(z_{l-1}), mask)      (l = 1..L)
//! logits = W LN(sum_t m_t z_L[t] / sum_t m_t) + b
//! ```
//!
//! Its rows are word ids stored as `f32` (exact below 2^24), padded with 0 (`[PAD]`) to the data
//! set's longest sentence; each batch is cut to its own longest sentence before the encoder.

use burn::module::Param;
use burn::nn::transformer::TransformerEncoder;
use burn::nn::{Embedding, EmbeddingConfig, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::prelude::*;

use rgd_kernels::EncoderPath;

use crate::LabError;
use crate::config::EncoderConfig;
use crate::encoder::SMALL;

/// Size of the word vocabulary (ids `0..WORD_VOCAB`, `[PAD]` = 0, `[UNK]` = 1) of the
/// from-scratch text data (`sentiment-words`).
pub const WORD_VOCAB: usize = 8192;

/// The from-scratch text classifier.
#[derive(Module, Debug)]
pub struct TextTransformer {
    embedding: Embedding,
    positions: Param<Tensor<3>>,
    encoder: TransformerEncoder,
    norm: LayerNorm,
    head: Linear,
    #[module(skip)]
    kernels: EncoderPath,
}

impl TextTransformer {
    /// A classifier of sequences up to `max_len` words, its encoder as `config` says.
    pub fn new(
        max_len: usize,
        classes: usize,
        config: &EncoderConfig,
        device: &Device,
    ) -> Result<Self, LabError> {
        let width = config.width;
        Ok(TextTransformer {
            embedding: (EmbeddingConfig::new(WORD_VOCAB, width))
                .with_initializer(SMALL)
                .init(device),
            positions: SMALL.init([1, max_len, width], device),
            encoder: crate::encoder::encoder(config, device)?,
            norm: LayerNormConfig::new(width).init(device),
            head: LinearConfig::new(width, classes).init(device),
            kernels: config.kernels,
        })
    }

    /// Logits `[B, classes]` of word-id rows `[B, max_len]` (0 = padding).
    pub fn forward(&self, rows: Tensor<2>) -> Tensor<2> {
        let ids = token_ids(rows);
        let t = ids.dims()[1];
        let mask = ids.clone().not_equal_elem(0);
        // Read before the embedding: burn initialises parameters on first use, in that order.
        let positions = self.positions.val();
        let x = self.embedding.forward(ids) + positions.narrow(1, 0, t);
        let padding = Some(mask.clone().bool_not());
        let z = crate::encoder::forward(&self.encoder, x, padding, self.kernels);
        let pooled = masked_mean(z, mask.float());
        self.head.forward(self.norm.forward(pooled))
    }
}

/// The mean of `hidden` `[B, T, H]` over the positions where `mask` `[B, T]` is 1, `[B, H]`.
pub(crate) fn masked_mean(hidden: Tensor<3>, mask: Tensor<2>) -> Tensor<2> {
    let [b, t, h] = hidden.dims();
    let m = mask.reshape([b, t, 1]);
    (hidden * m.clone()).sum_dim(1).reshape([b, h]) / m.sum_dim(1).reshape([b, 1]).clamp_min(1.0)
}

/// Token-id rows (`f32`, 0 = padding) as ids cut to the batch's longest sentence (at least one
/// position).
pub fn token_ids(rows: Tensor<2>) -> Tensor<2, Int> {
    let ids = rows.int();
    let longest: i64 = ids
        .clone()
        .not_equal_elem(0)
        .int()
        .sum_dim(1)
        .max()
        .into_scalar::<i64>();
    ids.narrow(1, 0, longest.max(1) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> EncoderConfig {
        EncoderConfig {
            width: 32,
            depth: 2,
            heads: 4,
            dropout: 0.0,
            kernels: EncoderPath::Fused,
        }
    }

    fn rows(device: &Device) -> Tensor<2> {
        // Two sentences of 3 and 1 words, padded to 6.
        Tensor::from_data(
            TensorData::new(
                vec![
                    5.0f32, 9.0, 2.0, 0.0, 0.0, 0.0, 7.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                ],
                [2, 6],
            ),
            device,
        )
    }

    #[test]
    fn shapes_and_padding_is_ignored() {
        let device = Device::flex();
        let model = TextTransformer::new(6, 3, &config(), &device).unwrap();
        let both = model.forward(rows(&device));
        assert_eq!(both.dims(), [2, 3]);
        // The one-word sentence alone gives the same logits as inside the padded batch.
        let alone = model.forward(Tensor::from_data(
            TensorData::new(vec![7.0f32, 0.0, 0.0, 0.0, 0.0, 0.0], [1, 6]),
            &device,
        ));
        let diff: f32 = (alone - both.narrow(0, 1, 1)).abs().max().into_scalar();
        assert!(diff < 1e-5, "padding leaked: {diff}");
    }

    #[test]
    fn a_few_steps_lower_the_loss_on_a_tiny_batch() {
        let device = Device::flex().autodiff();
        device.seed(2);
        let model = TextTransformer::new(6, 2, &config(), &device).unwrap();
        let y = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, 1], [2]), &device);
        let (before, after) =
            crate::test_support::loss_before_and_after(model, 10, 1e-3, |m: &TextTransformer| {
                rgd_burn::loss::cross_entropy(m.forward(rows(&device)), y.clone(), 0.0)
                    .unwrap()
                    .into_tensor()
                    .mean()
            });
        assert!(after < before, "loss {before} -> {after}");
    }
}
