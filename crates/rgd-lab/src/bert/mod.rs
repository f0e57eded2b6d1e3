//! A BERT encoder: token, position and segment embeddings with layer norm, post-norm
//! transformer layers (multi-head self-attention with the padding mask, exact GELU feed-forward)
//! and the `tanh` pooler, loadable from the all-MiniLM-L6-v2 safetensors by tensor name.
//!
//! ```text
//! h_0 = LayerNorm(E_word[ids] + E_pos[0..T] + E_type[0])
//! h_l = LN(a + FFN(a)),   a = LN(h_{l-1} + MHA(h_{l-1}, mask))      (l = 1..L)
//! pooled = tanh(W_p h_L[:, 0] + b_p)
//! sentence = normalize(sum_t m_t h_L[:, t] / sum_t m_t)             (masked mean, L2)
//! ```
//!
//! Batches are padded only to their longest sentence; padded positions get `-1e4` attention
//! scores (BERT's own value) and are left out of the mean pooling. `weights.rs` reads the
//! pretrained tensors.

use std::path::Path;

use burn::nn::transformer::{TransformerEncoder, TransformerEncoderConfig};
use burn::nn::{Dropout, DropoutConfig, Embedding, EmbeddingConfig, LayerNorm, LayerNormConfig};
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use rgd_kernels::EncoderPath;
use serde::Deserialize;

use crate::LabError;
use crate::transformer::masked_mean;

mod weights;
pub(crate) use weights::f32_values;

/// The architecture, read from a Hugging Face `config.json` (field names as there).
///
/// ```
/// let c = rgd_lab::bert::BertConfig::minilm_l6();
/// assert_eq!((c.hidden_size, c.num_hidden_layers, c.num_attention_heads), (384, 6, 12));
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BertConfig {
    /// Token vocabulary size.
    pub vocab_size: usize,
    /// Width of every hidden state.
    pub hidden_size: usize,
    /// Encoder layers.
    pub num_hidden_layers: usize,
    /// Attention heads per layer.
    pub num_attention_heads: usize,
    /// Width of the feed-forward layer.
    pub intermediate_size: usize,
    /// Longest sequence the position embeddings cover.
    pub max_position_embeddings: usize,
    /// Segment (token type) vocabulary size.
    pub type_vocab_size: usize,
    /// Layer-norm epsilon.
    pub layer_norm_eps: f64,
    /// Dropout on embeddings, attention outputs and feed-forward outputs.
    pub hidden_dropout_prob: f64,
}

impl BertConfig {
    /// all-MiniLM-L6-v2: 6 layers, hidden 384, 12 heads, feed-forward 1536.
    pub fn minilm_l6() -> Self {
        BertConfig {
            vocab_size: 30522,
            hidden_size: 384,
            num_hidden_layers: 6,
            num_attention_heads: 12,
            intermediate_size: 1536,
            max_position_embeddings: 512,
            type_vocab_size: 2,
            layer_norm_eps: 1e-12,
            hidden_dropout_prob: 0.1,
        }
    }

    /// Reads `config.json`.
    pub fn from_file(path: &Path) -> Result<Self, LabError> {
        let config: BertConfig = serde_json::from_slice(&crate::run_dir::read(path)?)
            .map_err(|e| LabError::corrupt(path, format!("not a BERT config.json: {e}")))?;
        let (hidden, heads) = (config.hidden_size, config.num_attention_heads);
        if heads == 0 || !hidden.is_multiple_of(heads) {
            return Err(LabError::corrupt(
                path,
                format!("hidden_size {hidden} is not a multiple of num_attention_heads {heads}"),
            ));
        }
        Ok(config)
    }

    /// A randomly initialised encoder of this architecture, on burn's ops
    /// ([`Bert::with_kernels`] switches).
    pub fn init(&self, device: &Device) -> Bert {
        let h = self.hidden_size;
        Bert {
            word_embeddings: EmbeddingConfig::new(self.vocab_size, h).init(device),
            position_embeddings: EmbeddingConfig::new(self.max_position_embeddings, h).init(device),
            token_type_embeddings: EmbeddingConfig::new(self.type_vocab_size, h).init(device),
            embeddings_norm: LayerNormConfig::new(h)
                .with_epsilon(self.layer_norm_eps)
                .init(device),
            dropout: DropoutConfig::new(self.hidden_dropout_prob).init(),
            encoder: TransformerEncoderConfig::new(
                h,
                self.intermediate_size,
                self.num_attention_heads,
                self.num_hidden_layers,
            )
            .with_dropout(self.hidden_dropout_prob)
            .with_layer_norm_eps(self.layer_norm_eps)
            .init(device),
            pooler: LinearConfig::new(h, h).init(device),
            kernels: EncoderPath::Burn,
        }
    }
}

/// The encoder (see the module docs for the formulas).
#[derive(Module, Debug)]
pub struct Bert {
    word_embeddings: Embedding,
    position_embeddings: Embedding,
    token_type_embeddings: Embedding,
    embeddings_norm: LayerNorm,
    dropout: Dropout,
    encoder: TransformerEncoder,
    pooler: Linear,
    /// The encoder layers' implementation (`crate::encoder::forward`).
    #[module(skip)]
    kernels: EncoderPath,
}

impl Bert {
    /// This encoder with its layers on `kernels`' path: the fused attention (with its dropout),
    /// GELU and dense-layer kernels, or burn's own ops (what [`BertConfig::init`] gives, and what
    /// the sentence embeddings of the `sentiment-minilm` data are computed with).
    pub fn with_kernels(self, kernels: EncoderPath) -> Self {
        Bert { kernels, ..self }
    }

    /// Loads all-MiniLM-L6-v2 (or any BERT) from a folder holding `config.json` and
    /// `model.safetensors`.
    pub fn from_pretrained(folder: &Path, device: &Device) -> Result<Bert, LabError> {
        let config = BertConfig::from_file(&folder.join("config.json"))?;
        config
            .init(device)
            .load_safetensors(&folder.join("model.safetensors"), &config)
    }

    /// Hidden states `[B, T, H]` of token ids `[B, T]`; `mask` is 1 for real tokens, 0 for
    /// padding.
    pub fn forward(&self, ids: Tensor<2, Int>, mask: Tensor<2, Int>) -> Tensor<3> {
        let [_, t] = ids.dims();
        let positions = self.position_embeddings.weight.val().narrow(0, 0, t);
        let segment = self.token_type_embeddings.weight.val().narrow(0, 0, 1);
        let x = self.word_embeddings.forward(ids)
            + positions.unsqueeze::<3>()
            + segment.unsqueeze::<3>();
        let x = self.dropout.forward(self.embeddings_norm.forward(x));
        let pad = mask.equal_elem(0);
        crate::encoder::forward(&self.encoder, x, Some(pad), self.kernels)
    }

    /// The sentence embedding of sentence-transformers: the mean of the hidden states over the
    /// real tokens, L2-normalised, `[B, H]`.
    pub fn sentence_embedding(hidden: Tensor<3>, mask: Tensor<2, Int>) -> Tensor<2> {
        let mean = masked_mean(hidden, mask.float());
        let norm = mean
            .clone()
            .powi_scalar(2)
            .sum_dim(1)
            .sqrt()
            .clamp_min(1e-12);
        mean / norm
    }
}

/// A sentence classifier on the encoder: masked mean of the last hidden states, then a linear
/// head. `frozen_layers = k` freezes the embeddings and the bottom `k` encoder layers (`k` =
/// all layers: only the head trains); 0 fine-tunes everything.
#[derive(Module, Debug)]
pub struct BertClassifier {
    bert: Bert,
    head: Linear,
    #[module(skip)]
    frozen_layers: usize,
}

impl BertClassifier {
    /// The encoder's weights from `folder` (`config.json`, which must describe this
    /// architecture, and `model.safetensors`); the head keeps its weights.
    pub fn with_pretrained(self, folder: &Path) -> Result<Self, LabError> {
        let path = folder.join("config.json");
        let config = BertConfig::from_file(&path)?;
        if config != BertConfig::minilm_l6() {
            return Err(LabError::Corrupt {
                path,
                reason: format!(
                    "describes {config:?}, not all-MiniLM-L6-v2 ({:?}), the encoder model.kind = \
                     \"bert\" builds; fetch it again with scripts/fetch-data.sh minilm",
                    BertConfig::minilm_l6()
                ),
            });
        }
        let bert = self
            .bert
            .load_safetensors(&folder.join("model.safetensors"), &config)?;
        Ok(BertClassifier { bert, ..self }.freeze_bottom())
    }

    /// A classifier on `bert` with a fresh head for `classes`, bottom layers frozen.
    pub fn new(
        bert: Bert,
        classes: usize,
        frozen_layers: usize,
        device: &Device,
    ) -> Result<Self, LabError> {
        let hidden = bert.pooler.weight.dims()[0];
        let layers = bert.encoder.layers.len();
        if frozen_layers > layers {
            return Err(LabError::Config(format!(
                "model.freeze_layers = {frozen_layers} but the encoder has {layers} layers"
            )));
        }
        Ok(BertClassifier {
            bert,
            head: LinearConfig::new(hidden, classes).init(device),
            frozen_layers,
        }
        .freeze_bottom())
    }

    /// Applies the freezing again (after loading a checkpoint record, whose tensors arrive
    /// without the gradient flags).
    pub fn freeze_bottom(mut self) -> Self {
        if self.frozen_layers == 0 {
            return self;
        }
        let (b, frozen) = (self.bert, self.frozen_layers);
        let mut encoder = b.encoder;
        encoder.layers = (encoder.layers.into_iter().enumerate())
            .map(|(i, l)| if i < frozen { l.freeze() } else { l })
            .collect();
        self.bert = Bert {
            word_embeddings: b.word_embeddings.freeze(),
            position_embeddings: b.position_embeddings.freeze(),
            token_type_embeddings: b.token_type_embeddings.freeze(),
            embeddings_norm: b.embeddings_norm.freeze(),
            encoder,
            ..b
        };
        self
    }

    /// Logits `[B, classes]` of token-id rows `[B, L]` (`f32` ids, 0 = `[PAD]`); the batch is
    /// cut to its longest sentence.
    pub fn forward(&self, rows: Tensor<2>) -> Tensor<2> {
        let ids = crate::transformer::token_ids(rows);
        let mask = ids.clone().not_equal_elem(0).int();
        let hidden = self.bert.forward(ids, mask.clone());
        self.head.forward(masked_mean(hidden, mask.float()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn tiny() -> BertConfig {
        BertConfig {
            vocab_size: 50,
            hidden_size: 16,
            num_hidden_layers: 2,
            num_attention_heads: 4,
            intermediate_size: 32,
            max_position_embeddings: 20,
            type_vocab_size: 2,
            layer_norm_eps: 1e-12,
            hidden_dropout_prob: 0.0,
        }
    }

    /// The pooler output `tanh(W h[:, 0] + b)` `[B, H]` (the `[CLS]` position).
    fn pooled(bert: &Bert, hidden: Tensor<3>) -> Tensor<2> {
        let [b, _, h] = hidden.dims();
        let cls = hidden.slice([0..b, 0..1]).reshape([b, h]);
        burn::tensor::activation::tanh(bert.pooler.forward(cls))
    }

    fn batch(device: &Device) -> (Tensor<2, Int>, Tensor<2, Int>) {
        let ids = Tensor::from_data(
            TensorData::new(vec![2i64, 7, 9, 3, 4, 0, 0, 0], [2, 4]),
            device,
        );
        let mask = Tensor::from_data(
            TensorData::new(vec![1i64, 1, 1, 1, 1, 0, 0, 0], [2, 4]),
            device,
        );
        (ids, mask)
    }

    #[test]
    fn shapes_and_padding_does_not_change_real_tokens() {
        let device = Device::flex();
        let bert = tiny().init(&device);
        let (ids, mask) = batch(&device);
        let hidden = bert.forward(ids, mask.clone());
        assert_eq!(hidden.dims(), [2, 4, 16]);
        assert_eq!(pooled(&bert, hidden.clone()).dims(), [2, 16]);
        let e = Bert::sentence_embedding(hidden, mask);
        assert_eq!(e.dims(), [2, 16]);
        let norms: Vec<f32> = e
            .powi_scalar(2)
            .sum_dim(1)
            .into_data()
            .try_into_vec_as::<f32>()
            .unwrap();
        assert!(norms.iter().all(|n| (n - 1.0).abs() < 1e-5), "{norms:?}");
        // The one-token sentence alone, unpadded, gives the same embedding as padded.
        let alone = bert.forward(
            Tensor::from_data(TensorData::new(vec![4i64], [1, 1]), &device),
            Tensor::from_data(TensorData::new(vec![1i64], [1, 1]), &device),
        );
        let (ids, mask) = batch(&device);
        let padded = bert.forward(ids, mask).slice([1..2, 0..1]);
        let diff: f32 = (alone - padded).abs().max().into_scalar();
        assert!(diff < 1e-5, "padding leaked into a real token: {diff}");
    }

    #[test]
    fn a_training_step_lowers_the_loss_on_a_tiny_batch() {
        let device = Device::flex().autodiff();
        device.seed(0);
        let bert = tiny().init(&device);
        let target = Tensor::<2>::ones([2, 16], &device);
        let (before, after) =
            crate::test_support::loss_before_and_after(bert, 5, 1e-2, |bert: &Bert| {
                let (ids, mask) = batch(&device);
                (pooled(bert, bert.forward(ids, mask)) - target.clone())
                    .powi_scalar(2)
                    .mean()
            });
        assert!(after < before, "loss {before} -> {after}");
    }

    #[test]
    fn frozen_layers_get_no_gradient_even_after_a_checkpoint_reload() {
        use burn::module::Module;
        use burn::optim::GradientsParams;
        let device = Device::flex().autodiff();
        let rows = || {
            Tensor::<2>::from_data(
                TensorData::new(vec![2.0f32, 7.0, 9.0, 3.0, 4.0, 0.0, 0.0, 0.0], [2, 4]),
                &device,
            )
        };
        let grads_of = |m: &BertClassifier| {
            let loss = m.forward(rows()).powi_scalar(2).mean();
            let grads = GradientsParams::from_grads(loss.backward(), m);
            let layer = |i: usize| {
                let w = &m.bert.encoder.layers[i].pwff.linear_inner.weight;
                grads.get::<2>(w.id).is_some()
            };
            let word = grads.get::<2>(m.bert.word_embeddings.weight.id).is_some();
            (
                word,
                layer(0),
                layer(1),
                grads.get::<2>(m.head.weight.id).is_some(),
            )
        };
        let model = BertClassifier::new(tiny().init(&device), 3, 1, &device).unwrap();
        assert_eq!(grads_of(&model), (false, false, true, true));
        let bytes = model.clone().into_record().into_bytes().unwrap();
        let fresh = BertClassifier::new(tiny().init(&device), 3, 1, &device).unwrap();
        let record = burn::store::ModuleRecord::from_bytes(bytes).unwrap();
        let reloaded = fresh.try_load_record(record).unwrap().freeze_bottom();
        assert_eq!(grads_of(&reloaded), (false, false, true, true));
        assert!(BertClassifier::new(tiny().init(&device), 3, 3, &device).is_err());
    }

    #[test]
    fn pretrained_weights_of_another_architecture_are_refused_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"vocab_size": 50, "hidden_size": 8, "num_hidden_layers": 2,
                "num_attention_heads": 2, "intermediate_size": 16,
                "max_position_embeddings": 16, "type_vocab_size": 2,
                "layer_norm_eps": 1e-12, "hidden_dropout_prob": 0.1}"#,
        )
        .unwrap();
        let device = Device::flex();
        let e = BertClassifier::new(BertConfig::minilm_l6().init(&device), 2, 6, &device)
            .unwrap()
            .with_pretrained(dir.path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("config.json") && e.contains("MiniLM"), "{e}");
    }
}
