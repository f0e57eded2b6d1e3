//! The transformer encoder of the ViT and the text transformer: burn-nn's `TransformerEncoder`
//! holds the parameters (so records and initialisation are burn's), and [`forward`] runs its
//! pre-norm layers with the fused attention, GELU and dense-layer kernels of `rgd_kernels`
//! where they apply, or burn's own forward:
//!
//! ```text
//! z' = z + W_o Attention(W_q LN₂(z), W_k LN₂(z), W_v LN₂(z), padding)
//! z  ← z' + W₂ GELU(W₁ LN₁(z'))
//! ```
//!
//! (burn names the attention's norm `norm_2` and the feed-forward's `norm_1`.)

use burn::nn::Linear;
use burn::nn::transformer::{
    TransformerEncoder, TransformerEncoderConfig, TransformerEncoderInput, TransformerEncoderLayer,
};
use burn::prelude::*;
use rgd_kernels::EncoderPath;
use rgd_kernels::attention::attention;
use rgd_kernels::gelu::gelu;
use rgd_kernels::linear::linear;

use crate::LabError;
use crate::config::EncoderConfig;

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
/// layers with GELU and without attention dropout; burn's `TransformerEncoder::forward`
/// otherwise (op for op as before the kernels).
pub(crate) fn forward(
    encoder: &TransformerEncoder,
    x: Tensor<3>,
    padding: Option<Tensor<2, Bool>>,
    kernels: EncoderPath,
) -> Tensor<3> {
    let fusable = |layer: &TransformerEncoderLayer| {
        layer.norm_first
            && layer.mha.dropout.prob == 0.0
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
    let tokens = |rows: Tensor<2>| rows.reshape([b, t, d]);
    let rows = encoder
        .layers
        .iter()
        .fold(x.reshape([b * t, d]), |x, layer| {
            let h = layer.norm_2.forward(x.clone());
            let mha = &layer.mha;
            let (q, k, v) = (
                tokens(dense(&mha.query, h.clone(), kernels)),
                tokens(dense(&mha.key, h.clone(), kernels)),
                tokens(dense(&mha.value, h, kernels)),
            );
            let min_float = mha.min_float as f32;
            let context = attention(q, k, v, mha.n_heads, padding.clone(), min_float, kernels);
            let x =
                x + layer
                    .dropout
                    .forward(dense(&mha.output, context.reshape([b * t, d]), kernels));
            let ff = &layer.pwff;
            let h = dense(&ff.linear_inner, layer.norm_1.forward(x.clone()), kernels);
            let h = dense(
                &ff.linear_outer,
                ff.dropout.forward(gelu(h, kernels)),
                kernels,
            );
            x + layer.dropout.forward(h)
        });
    tokens(rows)
}

/// `layer.forward(x)` on rows `[N, D_in]`, on `kernels`' path: `rgd_kernels::linear`, which
/// writes the products straight into their outputs and computes burn's numbers bit for bit.
pub(crate) fn dense(layer: &Linear, x: Tensor<2>, kernels: EncoderPath) -> Tensor<2> {
    linear(
        x,
        layer.weight.val(),
        layer.bias.as_ref().map(|b| b.val()),
        kernels,
    )
}
