//! The model section of a config: one variant per model family, each with only its own keys.

use rgd_kernels::EncoderPath;
use rgd_kernels::conv::ConvPath;
use serde::{Deserialize, Serialize};
use smart_default::SmartDefault;

use super::check;
use crate::LabError;

/// The model: `[model] kind = "mlp"` (or `cnn`, `vit`, `transformer`, `bert`) and its own keys.
///
/// ```
/// use rgd_lab::config::{ConfigFile, ModelConfig, RunConfig};
/// let c = RunConfig::default()
///     .with_overrides(&["model.kind=cnn".into(), "model.channels=[8]".into()])
///     .unwrap();
/// let ModelConfig::Cnn(cnn) = &c.model else { panic!() };
/// assert_eq!((cnn.channels.as_slice(), cnn.head.hidden.as_slice()), (&[8][..], &[256, 256][..]));
/// ```
#[derive(Debug, Clone, PartialEq, SmartDefault, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ModelConfig {
    /// A multi-layer perceptron on flat features.
    #[default]
    Mlp(MlpConfig),
    /// A small CNN on images `[C, H, W]`.
    Cnn(CnnConfig),
    /// A Vision Transformer on images, as patch tokens.
    Vit(VitConfig),
    /// A transformer encoder trained from scratch on word ids (e.g. `sentiment-words`).
    Transformer(EncoderConfig),
    /// The pretrained MiniLM encoder of the data cache on WordPiece ids
    /// (`sentiment-wordpiece`), with a linear head.
    Bert(BertConfig),
}

/// The MLP (and the CNN's dense head).
#[derive(Debug, Clone, PartialEq, SmartDefault, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MlpConfig {
    /// Hidden widths.
    #[default(vec![256, 256])]
    pub hidden: Vec<usize>,
    /// Dropout probability after each hidden layer.
    pub dropout: f64,
    /// Normalisation after each hidden linear layer.
    pub norm: Norm,
}

/// Normalisation after each hidden linear layer of an MLP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Norm {
    /// None.
    #[default]
    None,
    /// Batch normalisation.
    Batch,
    /// Layer normalisation.
    Layer,
}

/// The CNN: output channels of its convolution blocks, then the MLP head's keys.
#[derive(Debug, Clone, PartialEq, SmartDefault, Serialize, Deserialize)]
#[serde(default)]
pub struct CnnConfig {
    /// Output channels of the 3x3 convolution blocks (each followed by 2x2 max pooling).
    #[default(vec![32, 64])]
    pub channels: Vec<usize>,
    /// Which implementation computes the convolutions ([`ConvPath`]): `"gemm"` (default) or
    /// `"burn"` (what records made before the gemm kernel name).
    pub conv: ConvPath,
    /// The dense head on the flattened feature maps.
    #[serde(flatten)]
    pub head: MlpConfig,
}

/// The ViT: its patch size, then the encoder's keys.
#[derive(Debug, Clone, PartialEq, SmartDefault, Serialize, Deserialize)]
#[serde(default)]
pub struct VitConfig {
    /// Patch size (must divide the image height and width).
    #[default = 7]
    pub patch: usize,
    /// The encoder over the patch tokens.
    #[serde(flatten)]
    pub encoder: EncoderConfig,
}

/// A pre-norm transformer encoder: `depth` layers of `width`, `heads` heads, feed-forward
/// width `2 * width`.
#[derive(Debug, Clone, PartialEq, SmartDefault, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EncoderConfig {
    /// Token width.
    #[default = 128]
    pub width: usize,
    /// Layers.
    #[default = 4]
    pub depth: usize,
    /// Attention heads (must divide `width`).
    #[default = 4]
    pub heads: usize,
    /// Dropout probability in the layers.
    pub dropout: f64,
    /// Which implementation computes attention, GELU and the dense layers ([`EncoderPath`]):
    /// `"fused"` (default), `"packed"` or `"burn"` (what records made before the fused kernels
    /// name).
    pub kernels: EncoderPath,
}

/// The pretrained encoder.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BertConfig {
    /// Freeze the embeddings and this many bottom encoder layers (0: fine-tune all; 6 for
    /// MiniLM: train the head only).
    pub freeze_layers: usize,
    /// Which implementation computes the encoder layers, as [`EncoderConfig::kernels`]
    /// (`"burn"`: the records made before the fused MiniLM).
    pub kernels: EncoderPath,
}

impl ModelConfig {
    /// The family's name, as `model.kind` spells it.
    pub fn kind(&self) -> &'static str {
        match self {
            ModelConfig::Mlp(_) => "mlp",
            ModelConfig::Cnn(_) => "cnn",
            ModelConfig::Vit(_) => "vit",
            ModelConfig::Transformer(_) => "transformer",
            ModelConfig::Bert(_) => "bert",
        }
    }

    /// The folder of the pretrained weights the model starts from: the registry's MiniLM
    /// (`<cache>/minilm`, `scripts/fetch-data.sh minilm`) for `bert`, none for the others.
    pub fn pretrained(&self) -> Option<std::path::PathBuf> {
        match self {
            ModelConfig::Bert(_) => Some(rgd_data::registry::cache_dir().join("minilm")),
            _ => None,
        }
    }

    /// Whether the model reads token ids (which must not be standardised).
    pub fn reads_token_ids(&self) -> bool {
        matches!(self, ModelConfig::Transformer(_) | ModelConfig::Bert(_))
    }

    /// Checks the model's own keys.
    pub fn validate(&self) -> Result<(), LabError> {
        match self {
            ModelConfig::Mlp(mlp) => mlp.validate(),
            ModelConfig::Cnn(cnn) => {
                check(
                    !cnn.channels.is_empty() && cnn.channels.iter().all(|&c| c > 0),
                    || "model.channels must list at least one positive channel count".into(),
                )?;
                cnn.head.validate()
            }
            ModelConfig::Vit(vit) => {
                check(vit.patch > 0, || "model.patch must be > 0".into())?;
                vit.encoder.validate()
            }
            ModelConfig::Transformer(encoder) => encoder.validate(),
            ModelConfig::Bert(_) => Ok(()),
        }
    }
}

fn check_dropout(dropout: f64) -> Result<(), LabError> {
    check((0.0..1.0).contains(&dropout), || {
        format!("model.dropout = {dropout} must lie in [0, 1)")
    })
}

impl MlpConfig {
    fn validate(&self) -> Result<(), LabError> {
        check(self.hidden.iter().all(|&h| h > 0), || {
            "model.hidden widths must be > 0".into()
        })?;
        check_dropout(self.dropout)
    }
}

impl EncoderConfig {
    fn validate(&self) -> Result<(), LabError> {
        check(
            self.depth > 0 && self.heads > 0 && self.width.is_multiple_of(self.heads),
            || {
                format!(
                    "model.depth = {} and model.heads = {} must be > 0, with model.width = {} a \
                     multiple of the heads",
                    self.depth, self.heads, self.width
                )
            },
        )?;
        check_dropout(self.dropout)
    }
}
