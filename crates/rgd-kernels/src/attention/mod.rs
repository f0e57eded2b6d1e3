//! Multi-head scaled dot-product attention in one kernel, forward and backward.
//!
//! burn-nn's `MultiHeadAttention` splits the heads out with a reshape and a transpose (copied
//! before each product), multiplies a `T x Dh` by a `Dh x T` matrix per batch element and head
//! (17 x 32 by 32 x 17 in the ViT, too small for `gemm` to amortise its packing), scales,
//! masks and normalises in separate passes, and transposes back; the backward repeats all of
//! it. Here one pass per batch element computes every head from the projections' `[B, T, D]`
//! rows and writes the output in the same layout:
//!
//! ```text
//! O_h = (softmax(Q_h K_hᵀ / √Dh, padding keys at min_float) ⊙ M_h) V_h          (h = 1..H)
//! ```
//!
//! with `M` the attention dropout's scaled keep mask, drawn by the caller (`0` or `1/(1 − p)`
//! per probability, what burn-nn's `Dropout` multiplies its input by; all ones without dropout).
//!
//! [`attention`] takes this path on the Flex backend (with or without autodiff) for f32
//! tensors, and burn's ops everywhere else.

mod extension;
mod flex;

use burn::backend::Dispatch;
use burn::tensor::activation::softmax;
use burn::tensor::{Bool, Tensor};

use crate::encoder_path::EncoderPath;
use extension::FusedAttention;

/// The masks of an attention: the keys no query attends, and the probabilities dropped.
#[derive(Debug, Clone, Default)]
pub struct Masks {
    /// `[B, T]`, true: a padding key, whose scores are set to `min_float` before the softmax.
    pub padding: Option<Tensor<2, Bool>>,
    /// The score of a padding key (burn-nn's `MultiHeadAttention` uses `-1e4`).
    pub min_float: f32,
    /// The attention dropout's scaled keep mask `[B, H, T, T]` (`0` or `1/(1 − p)` per
    /// probability, a constant); `None`: no dropout.
    pub dropout: Option<Tensor<4>>,
}

/// Attention over `q`, `k`, `v` `[B, T, D]` split into `heads` heads of `D / heads` columns:
/// `O_h = (softmax(Q_h K_hᵀ / √(D/heads)) ⊙ M_h) V_h`, with the scores of the padding keys set
/// to `masks.min_float` first and `M` = `masks.dropout`, as burn-nn's `MultiHeadAttention`
/// does. Output `[B, T, D]`, heads in the same columns. Differentiable on autodiff devices.
///
/// # Panics
///
/// If `heads` does not divide `D`, or the shapes of `k`, `v` and the masks do not match `q`.
///
/// ```
/// use burn::tensor::{Device, Tensor, TensorData};
/// use rgd_kernels::{EncoderPath, attention::{Masks, attention}};
/// let device = Device::flex();
/// // Two tokens with one-hot keys; the first query matches the first key only.
/// let q = Tensor::<3>::from_data(TensorData::new(vec![20.0f32, 0.0, 0.0, 0.0], [1, 2, 2]), &device);
/// let k = Tensor::<3>::from_data(TensorData::new(vec![1.0f32, 0.0, 0.0, 1.0], [1, 2, 2]), &device);
/// let v = Tensor::<3>::from_data(TensorData::new(vec![1.0f32, 2.0, 3.0, 4.0], [1, 2, 2]), &device);
/// let o = attention(q, k, v, 1, Masks::default(), EncoderPath::Fused);
/// let o = o.into_data().try_to_vec::<f32>().unwrap();
/// assert!((o[0] - 1.0).abs() < 1e-5 && (o[1] - 2.0).abs() < 1e-5); // the first value
/// assert!((o[2] - 2.0).abs() < 1e-5 && (o[3] - 3.0).abs() < 1e-5); // the mean of both
/// ```
pub fn attention(
    q: Tensor<3>,
    k: Tensor<3>,
    v: Tensor<3>,
    heads: usize,
    masks: Masks,
    path: EncoderPath,
) -> Tensor<3> {
    let [b, t, d] = q.dims();
    assert!(
        heads > 0 && d % heads == 0,
        "attention: {heads} heads do not divide the width {d}"
    );
    assert_eq!(
        k.dims(),
        [b, t, d],
        "attention: keys of another shape than the queries"
    );
    assert_eq!(
        v.dims(),
        [b, t, d],
        "attention: values of another shape than the queries"
    );
    if let Some(padding) = &masks.padding {
        assert_eq!(
            padding.dims(),
            [b, t],
            "attention: a padding mask of another shape"
        );
    }
    if let Some(dropout) = &masks.dropout {
        assert_eq!(
            dropout.dims(),
            [b, heads, t, t],
            "attention: a dropout mask of another shape"
        );
    }
    if !path.fuses(&q) || b * t == 0 {
        return burn_attention(q, k, v, heads, masks);
    }
    let Masks {
        padding,
        min_float,
        dropout,
    } = masks;
    let mask = padding.map(|m| {
        m.into_data()
            .try_into_vec::<bool>()
            .expect("a bool tensor reads as bools")
    });
    let dropout = dropout.map(|m| {
        m.into_data()
            .try_into_vec_as::<f32>()
            .expect("a float tensor reads as f32")
    });
    let (q, k, v) = (q.into_dispatch(), k.into_dispatch(), v.into_dispatch());
    Tensor::from_dispatch(<Dispatch as FusedAttention>::attention_fused(
        q, k, v, heads, mask, dropout, min_float,
    ))
}

/// burn-nn's `MultiHeadAttention` core, op for op: split the heads, `QKᵀ / √Dh`, mask, softmax,
/// dropout, `· V`, merge the heads.
pub fn burn_attention(
    q: Tensor<3>,
    k: Tensor<3>,
    v: Tensor<3>,
    heads: usize,
    masks: Masks,
) -> Tensor<3> {
    let [b, t, d] = q.dims();
    let split = |x: Tensor<3>| x.reshape([b, t, heads, d / heads]).swap_dims(1, 2);
    let mut scores = split(q)
        .matmul(split(k).transpose())
        .div_scalar(((d / heads) as f32).sqrt());
    if let Some(padding) = masks.padding {
        scores = scores.mask_fill(padding.reshape([b, 1, 1, t]), masks.min_float);
    }
    let weights = softmax(scores, 3);
    let weights = match masks.dropout {
        Some(keep) => weights * keep,
        None => weights,
    };
    weights.matmul(split(v)).swap_dims(1, 2).reshape([b, t, d])
}
