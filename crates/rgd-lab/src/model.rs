//! The lab's models: an MLP for tabular data, a small CNN and a ViT ([`crate::vit`]) for images.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{
    BatchNorm, BatchNormConfig, Dropout, DropoutConfig, LayerNorm, LayerNormConfig, Linear,
    LinearConfig, PaddingConfig2d,
};
use burn::prelude::*;
use burn::tensor::activation::relu;
use burn::tensor::ops::ConvOptions;
use rgd_kernels::EncoderPath;
use rgd_kernels::conv::ConvPath;

use crate::LabError;
use crate::config::{CnnConfig, MlpConfig, ModelConfig, Norm};

/// A multi-layer perceptron: `[Linear -> norm -> ReLU -> dropout] x hidden`, then a linear head.
#[derive(Module, Debug)]
pub struct Mlp {
    layers: Vec<Linear>,
    batch_norms: Vec<BatchNorm>,
    layer_norms: Vec<LayerNorm>,
    dropout: Dropout,
    head: Linear,
}

impl Mlp {
    fn new(inputs: usize, classes: usize, config: &MlpConfig, device: &Device) -> Self {
        let mut widths = vec![inputs];
        widths.extend(&config.hidden);
        let layers = (widths.windows(2))
            .map(|w| LinearConfig::new(w[0], w[1]).init(device))
            .collect();
        let norm = |kind: Norm| (widths[1..].iter().copied()).filter(move |_| config.norm == kind);
        let batch_norms =
            (norm(Norm::Batch).map(|w| BatchNormConfig::new(w).init(device))).collect();
        let layer_norms =
            (norm(Norm::Layer).map(|w| LayerNormConfig::new(w).init(device))).collect();
        Mlp {
            layers,
            batch_norms,
            layer_norms,
            dropout: DropoutConfig::new(config.dropout).init(),
            head: LinearConfig::new(*widths.last().expect("widths start with inputs"), classes)
                .init(device),
        }
    }

    /// Logits `[B, classes]` of flat inputs `[B, features]`.
    pub fn forward(&self, mut x: Tensor<2>) -> Tensor<2> {
        // `rgd_kernels::linear` computes burn's numbers bit for bit, so it needs no switch.
        let dense = |layer: &Linear, x| crate::encoder::dense(layer, x, EncoderPath::Fused);
        for (i, layer) in self.layers.iter().enumerate() {
            x = dense(layer, x);
            if let Some(norm) = self.batch_norms.get(i) {
                x = norm.forward(x);
            }
            if let Some(norm) = self.layer_norms.get(i) {
                x = norm.forward(x);
            }
            x = self.dropout.forward(relu(x));
        }
        dense(&self.head, x)
    }
}

/// A small CNN: `[Conv 3x3 (same) -> ReLU -> MaxPool 2x2] x channels`, flatten, the MLP head.
/// The convolutions compute on the path the config names ([`ConvPath`]).
#[derive(Module, Debug)]
pub struct Cnn {
    convs: Vec<Conv2d>,
    pool: MaxPool2d,
    head: Mlp,
    #[module(skip)]
    conv: ConvPath,
}

impl Cnn {
    fn new(shape: [usize; 3], classes: usize, config: &CnnConfig, device: &Device) -> Self {
        let [mut channels, mut height, mut width] = shape;
        let mut convs = Vec::new();
        for &out in &config.channels {
            convs.push(
                Conv2dConfig::new([channels, out], [3, 3])
                    .with_padding(PaddingConfig2d::Same)
                    .init(device),
            );
            (channels, height, width) = (out, height / 2, width / 2);
        }
        Cnn {
            convs,
            pool: MaxPool2dConfig::new([2, 2]).init(),
            head: Mlp::new(channels * height * width, classes, &config.head, device),
            conv: config.conv,
        }
    }

    /// `relu(conv.forward(x))` on the configured path: burn's own forward and ReLU, or the gemm
    /// kernel with the same options, its bias and ReLU fused. Every convolution is 3x3, `Same`
    /// and of stride 1 (`Cnn::new`): burn pads it by one pixel on each side.
    fn conv_relu(&self, conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
        if self.conv == ConvPath::Burn {
            return relu(conv.forward(x));
        }
        let options = ConvOptions::new(conv.stride, [1, 1], conv.dilation, conv.groups);
        let bias = conv.bias.as_ref().map(|b| b.val());
        rgd_kernels::conv::conv2d_relu(x, conv.weight.val(), bias, options, self.conv)
    }

    /// Logits `[B, classes]` of images `[B, C, H, W]`. The pool is `self.pool`, non-overlapping
    /// 2x2 windows without padding: `rgd_kernels::pool`'s on the Gemm path, burn's otherwise.
    pub fn forward(&self, mut x: Tensor<4>) -> Tensor<2> {
        for conv in &self.convs {
            let activated = self.conv_relu(conv, x);
            x = rgd_kernels::pool::max_pool2d(activated, self.pool.kernel_size, self.conv);
        }
        let [batch, c, h, w] = x.dims();
        self.head.forward(x.reshape([batch, c * h * w]))
    }
}

/// Any model of the lab.
// The ViT's handles are larger than the others'; a model is moved once per step, next to
// tensor work of milliseconds, so boxing it would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Model {
    /// Flat inputs.
    Mlp(Mlp),
    /// Images.
    Cnn(Cnn),
    /// Images, as patch tokens.
    Vit(crate::vit::Vit),
    /// Word ids.
    Transformer(crate::transformer::TextTransformer),
    /// WordPiece ids through the pretrained encoder.
    Bert(crate::bert::BertClassifier),
}

impl Model {
    /// Builds the model for examples of `example_shape` (`[features]` or `[C, H, W]`) and
    /// `classes` outputs. Initialisation draws from the device's RNG: seed it first. Reads no
    /// file: a pretrained encoder's weights load with [`Model::with_pretrained`].
    pub fn new(
        config: &ModelConfig,
        example_shape: &[usize],
        classes: usize,
        device: &Device,
    ) -> Result<Self, LabError> {
        Ok(match (config, example_shape) {
            (ModelConfig::Mlp(mlp), shape) => {
                Model::Mlp(Mlp::new(shape.iter().product(), classes, mlp, device))
            }
            (ModelConfig::Cnn(cnn), &[c, h, w]) => {
                Model::Cnn(Cnn::new([c, h, w], classes, cnn, device))
            }
            (ModelConfig::Vit(vit), &[c, h, w]) => {
                Model::Vit(crate::vit::Vit::new([c, h, w], classes, vit, device)?)
            }
            (ModelConfig::Transformer(encoder), &[max_len]) => Model::Transformer(
                crate::transformer::TextTransformer::new(max_len, classes, encoder, device)?,
            ),
            (ModelConfig::Bert(bert), &[_]) => {
                // MiniLM-L6 with fresh weights, what pretrained weights or a checkpoint load into.
                let encoder = crate::bert::BertConfig::minilm_l6().init(device);
                let encoder = encoder.with_kernels(bert.kernels);
                let classifier =
                    crate::bert::BertClassifier::new(encoder, classes, bert.freeze_layers, device)?;
                Model::Bert(classifier)
            }
            (ModelConfig::Cnn(_) | ModelConfig::Vit(_), shape) => {
                return Err(LabError::Config(format!(
                    "model.kind = \"{}\" needs image data [channels, height, width], but the data \
                     set's examples have shape {shape:?}; use model.kind = \"mlp\"",
                    config.kind()
                )));
            }
            (ModelConfig::Transformer(_) | ModelConfig::Bert(_), shape) => {
                return Err(LabError::Config(format!(
                    "model.kind = \"{}\" needs token-id rows [length], but the data set's examples \
                     have shape {shape:?}; use a text source (sentiment-words, \
                     sentiment-wordpiece) or model.kind = \"mlp\"",
                    config.kind()
                )));
            }
        })
    }

    /// The model for the examples and classes of `data`.
    pub fn for_data(
        config: &ModelConfig,
        data: &rgd_data::Dataset,
        device: &Device,
    ) -> Result<Self, LabError> {
        Self::new(config, &data.example_shape, data.n_classes(), device)
    }

    /// This freshly built model with the pretrained weights `config` names
    /// ([`ModelConfig::pretrained`]: the MiniLM encoder of a `bert` model); other models as
    /// they are.
    pub fn with_pretrained(self, config: &ModelConfig) -> Result<Self, LabError> {
        match (self, config.pretrained()) {
            (Model::Bert(bert), Some(folder)) => Ok(Model::Bert(bert.with_pretrained(&folder)?)),
            (model, _) => Ok(model),
        }
    }

    /// Logits `[B, classes]` of a batch of flat rows `[B, prod(example_shape)]`.
    pub fn forward(&self, rows: Tensor<2>, example_shape: &[usize]) -> Tensor<2> {
        match self {
            Model::Mlp(mlp) => mlp.forward(rows),
            Model::Cnn(cnn) => cnn.forward(images(rows, example_shape)),
            Model::Vit(vit) => vit.forward(images(rows, example_shape)),
            Model::Transformer(t) => t.forward(rows),
            Model::Bert(b) => b.forward(rows),
        }
    }
}

/// Re-applies what a checkpoint record does not carry: the frozen layers of a `bert` model.
pub fn after_load(model: Model) -> Model {
    match model {
        Model::Bert(b) => Model::Bert(b.freeze_bottom()),
        other => other,
    }
}

/// Flat rows `[B, C*H*W]` as images `[B, C, H, W]`.
fn images(rows: Tensor<2>, example_shape: &[usize]) -> Tensor<4> {
    let batch = rows.dims()[0];
    rows.reshape([batch, example_shape[0], example_shape[1], example_shape[2]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_of_mlp_and_cnn() {
        let device = Device::flex();
        let mlp = Model::new(&ModelConfig::default(), &[10], 3, &device).unwrap();
        assert_eq!(
            mlp.forward(Tensor::zeros([4, 10], &device), &[10]).dims(),
            [4, 3]
        );
        let config = ModelConfig::Cnn(CnnConfig {
            head: MlpConfig {
                norm: Norm::Batch,
                ..MlpConfig::default()
            },
            ..CnnConfig::default()
        });
        let cnn = Model::new(&config, &[1, 28, 28], 10, &device).unwrap();
        let out = cnn.forward(Tensor::zeros([2, 784], &device), &[1, 28, 28]);
        assert_eq!(out.dims(), [2, 10]);
        assert!(Model::new(&config, &[10], 3, &device).is_err());
    }
}
