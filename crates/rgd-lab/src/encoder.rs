//! The transformer encoder of the ViT, the text transformer and MiniLM: burn-nn's
//! `TransformerEncoder` holds the parameters (so records and initialisation are burn's), and
//! `forward` runs its layers with the fused attention, GELU and dense-layer kernels of
//! `rgd_kernels` where they apply, or burn's own forward. Pre-norm (the ViT, the transformer):
//!
//! ```text
//! z' = z + W_o Attention(W_q LN₂(z), W_k LN₂(z), W_v LN₂(z), padding)
//! z  ← z' + W₂ GELU(W₁ LN₁(z'))
//! ```
//!
//! (burn names the attention's norm `norm_2` and the feed-forward's `norm_1`); post-norm
//! (BERT): `z' = LN₁(z + W_o Attention(W_q z, W_k z, W_v z))`, `z ← LN₂(z' + W₂ GELU(W₁ z'))`.
//! Dropout sits where burn's layer has it: on the attention probabilities, after the GELU, and
//! on each residual branch.

use burn::nn::transformer::{
    TransformerEncoder, TransformerEncoderConfig, TransformerEncoderInput, TransformerEncoderLayer,
};
use burn::nn::{Dropout, Initializer, LayerNorm, Linear};
use burn::prelude::*;
use rgd_kernels::EncoderPath;
use rgd_kernels::attention::{Masks, attention};
use rgd_kernels::gelu::gelu;
use rgd_kernels::linear::linear;

use crate::LabError;
use crate::config::EncoderConfig;

/// The initialiser of the ViT's and the text transformer's embeddings and positions: N(0, 0.02).
pub(crate) const SMALL: Initializer = Initializer::Normal {
    mean: 0.0,
    std: 0.02,
};

/// A pre-norm encoder of `config.depth` layers, feed-forward width `2 · config.width`.
pub(crate) fn encoder(
    config: &EncoderConfig,
    device: &Device,
) -> Result<TransformerEncoder, LabError> {
    let width = config.width;
    if config.heads == 0 || !width.is_multiple_of(config.heads) {
        return Err(LabError::Config(format!(
            "model.width = {width} must be a multiple of model.heads = {}",
            config.heads
        )));
    }
    Ok(
        TransformerEncoderConfig::new(width, 2 * width, config.heads, config.depth)
            .with_norm_first(true)
            .with_dropout(config.dropout)
            .init(device),
    )
}

/// The encoder over tokens `x` `[B, T, D]` with an optional padding mask `[B, T]` (true: a
/// padding token, attended by none): the fused kernels on `kernels`' fused path, for pre-norm
/// and post-norm layers with exact GELU and burn's softmax (the attention dropout drawn in
/// burn's order, see `attention_dropout`); burn's `TransformerEncoder::forward` otherwise.
pub(crate) fn forward(
    encoder: &TransformerEncoder,
    x: Tensor<3>,
    padding: Option<Tensor<2, Bool>>,
    kernels: EncoderPath,
) -> Tensor<3> {
    let fusable = |layer: &TransformerEncoderLayer| {
        !layer.mha.quiet_softmax
            && matches!(&layer.pwff.activation, burn::nn::activation::Activation::Gelu(g) if !g.approximate)
    };
    if !kernels.fuses(&x) || !encoder.layers.iter().all(fusable) {
        let input = TransformerEncoderInput::new(x);
        let input = match padding {
            Some(padding) => input.mask_pad(padding),
            None => input,
        };
        return encoder.forward(input);
    }
    // Every linear layer runs on the `[B·T, D]` rows: burn's `linear` keeps a `[B, T, D]` input
    // batched when folding would not make the output squarer (T = 17 rows by D = 128 columns in
    // the ViT), and then packs the shared weight once per example and, in the backward, writes
    // B partial weight gradients to sum (half the ViT step on the Intel Xeon).
    let [b, t, d] = x.dims();
    let rows = (encoder.layers.iter()).fold(x.reshape([b * t, d]), |x, layer| {
        fused_layer(layer, x, [b, t, d], padding.clone(), kernels)
    });
    rows.reshape([b, t, d])
}

/// One encoder layer on rows `[B·T, D]`, as burn's `TransformerEncoderLayer::forward` computes
/// it (pre-norm: `x + f(LN(x))`; post-norm: `LN(x + f(x))`), with the fused kernels.
fn fused_layer(
    layer: &TransformerEncoderLayer,
    x: Tensor<2>,
    [b, t, d]: [usize; 3],
    padding: Option<Tensor<2, Bool>>,
    kernels: EncoderPath,
) -> Tensor<2> {
    let tokens = |rows: Tensor<2>| rows.reshape([b, t, d]);
    let pre = |norm: &LayerNorm, x: &Tensor<2>| match layer.norm_first {
        true => norm.forward(x.clone()),
        false => x.clone(),
    };
    let post = |norm: &LayerNorm, x: Tensor<2>| match layer.norm_first {
        true => x,
        false => norm.forward(x),
    };
    let mha = &layer.mha;
    let h = pre(&layer.norm_2, &x);
    let (q, k, v) = (
        tokens(dense(&mha.query, h.clone(), kernels)),
        tokens(dense(&mha.key, h.clone(), kernels)),
        tokens(dense(&mha.value, h, kernels)),
    );
    let masks = Masks {
        padding,
        min_float: mha.min_float as f32,
        dropout: attention_dropout(&mha.dropout, [b, mha.n_heads, t, t], &x.device()),
    };
    let context = attention(q, k, v, mha.n_heads, masks, kernels);
    let context = dense(&mha.output, context.reshape([b * t, d]), kernels);
    let x = post(&layer.norm_1, x + layer.dropout.forward(context));
    let ff = &layer.pwff;
    let h = dense(&ff.linear_inner, pre(&layer.norm_1, &x), kernels);
    let h = ff.dropout.forward(gelu(h, kernels));
    let h = dense(&ff.linear_outer, h, kernels);
    post(&layer.norm_2, x + layer.dropout.forward(h))
}

/// The attention dropout's scaled keep mask `[B, H, T, T]` (`0` or `1/(1 − p)`), drawn by
/// `dropout` itself on a tensor of ones, when it is active (training, on an autodiff device,
/// `p > 0`: burn's `Dropout::forward` conditions); `None` otherwise.
fn attention_dropout(dropout: &Dropout, shape: [usize; 4], device: &Device) -> Option<Tensor<4>> {
    let active = dropout.prob > 0.0 && dropout.training.is_enabled() && device.is_autodiff();
    active.then(|| dropout.forward(Tensor::ones(shape, device)))
}

/// `layer.forward(x)` on rows `[N, D_in]`, on `kernels`' path: `rgd_kernels::linear`, which
/// writes the products straight into their outputs and computes burn's numbers bit for bit.
pub(crate) fn dense(layer: &Linear, x: Tensor<2>, kernels: EncoderPath) -> Tensor<2> {
    let (weight, bias) = (layer.weight.val(), layer.bias.as_ref().map(|b| b.val()));
    linear(x, weight, bias, kernels)
}
