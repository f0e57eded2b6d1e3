//! Attention and its gradients on Flex tensors, one batch element per rayon task, every head
//! of it in turn. Queries, keys and values stay in the `[B, T, H·Dh]` layout the projections
//! write (head `h` is columns `h·Dh..(h+1)·Dh`), and so does the output, so no head is ever
//! copied out. With `c = 1/√Dh`, for each batch element and head:
//!
//! ```text
//! S = c · Q Kᵀ   (masked keys: S = min_float)      P = softmax_rows(S)      O = (P ⊙ M) V
//! ∂V = (P ⊙ M)ᵀ ∂O     ∂P = M ⊙ (∂O Vᵀ)     ∂S = P ⊙ (∂P − rowsum(P ⊙ ∂P))   (0 at masked keys)
//! ∂Q = c · ∂S K                 ∂K = c · ∂Sᵀ Q
//! ```
//!
//! `M` is the attention dropout's scaled keep mask (`0` or `1 / (1 − p)` per probability), all
//! ones without dropout.

use burn::backend::Flex;
use burn::backend::tensor::FloatTensor;
use rayon::prelude::*;

use pulp::{Simd, WithSimd};

use crate::flex_data::{elements, tensor};
use crate::simd::{axpy, dot, exp, vectorized};

/// The shapes of one attention: batch, tokens, heads and the width of a head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Heads {
    pub(crate) batch: usize,
    pub(crate) tokens: usize,
    pub(crate) heads: usize,
    pub(crate) head_dim: usize,
}

impl Heads {
    /// The shapes of queries `[B, T, D]` split into `heads` heads; `None` unless `heads`
    /// divides `D` and there is at least one element.
    pub(crate) fn of(shape: &[usize], heads: usize) -> Option<Heads> {
        let &[batch, tokens, width] = shape else {
            return None;
        };
        let fits = heads > 0 && width > 0 && tokens > 0 && width.is_multiple_of(heads);
        fits.then_some(Heads {
            batch,
            tokens,
            heads,
            head_dim: width / heads.max(1),
        })
    }

    fn width(&self) -> usize {
        self.heads * self.head_dim
    }

    /// Elements of one batch element's `[T, D]` rows.
    fn rows(&self) -> usize {
        self.tokens * self.width()
    }

    /// Elements of one batch element's `[H, T, T]` probabilities.
    pub(crate) fn probs(&self) -> usize {
        self.heads * self.tokens * self.tokens
    }

    fn scale(&self) -> f32 {
        1.0 / (self.head_dim as f32).sqrt()
    }
}

/// The softmax probabilities `[B, H, T, T]` a forward pass saves for its backward.
pub(crate) type Probs = Vec<f32>;

/// A `[B, T, D]` tensor of the values.
fn token_rows(values: Vec<f32>, s: &Heads) -> FloatTensor<Flex> {
    tensor(values, [s.batch, s.tokens, s.width()])
}

/// Head `h` of row `t` in a batch element's `[T, D]` rows.
#[inline(always)]
fn head<'a>(rows: &'a [f32], s: &Heads, t: usize, h: usize) -> &'a [f32] {
    let start = t * s.width() + h * s.head_dim;
    &rows[start..start + s.head_dim]
}

#[inline(always)]
fn head_mut<'a>(rows: &'a mut [f32], s: &Heads, t: usize, h: usize) -> &'a mut [f32] {
    let start = t * s.width() + h * s.head_dim;
    &mut rows[start..start + s.head_dim]
}

/// The masks of one attention: the padding flags `[B, T]` (true: a padding key) and the
/// dropout's scaled keep mask `[B, H, T, T]`, each optional.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct MaskSlices<'a> {
    pub(crate) padding: Option<&'a [bool]>,
    pub(crate) dropout: Option<&'a [f32]>,
}

/// One batch element's queries, keys and values (`[T, D]` rows each), its padding flags and
/// its `[H, T, T]` dropout mask.
#[derive(Clone, Copy)]
struct Element<'a> {
    s: Heads,
    q: &'a [f32],
    k: &'a [f32],
    v: &'a [f32],
    padding: Option<&'a [bool]>,
    dropout: Option<&'a [f32]>,
}

impl<'a> Element<'a> {
    fn of(s: &Heads, b: usize, [q, k, v]: [&'a [f32]; 3], masks: MaskSlices<'a>) -> Self {
        let rows = b * s.rows()..(b + 1) * s.rows();
        Element {
            s: *s,
            q: &q[rows.clone()],
            k: &k[rows.clone()],
            v: &v[rows],
            padding: masks.padding.map(|m| &m[b * s.tokens..(b + 1) * s.tokens]),
            dropout: masks
                .dropout
                .map(|m| &m[b * s.probs()..(b + 1) * s.probs()]),
        }
    }

    #[inline(always)]
    fn masked(&self, j: usize) -> bool {
        matches!(self.padding, Some(m) if m[j])
    }

    /// The dropout's keep factors of head `h`, query `i` (`[T]`), if any.
    #[inline(always)]
    fn keep(&self, h: usize, i: usize) -> Option<&'a [f32]> {
        let t = self.s.tokens;
        let start = (h * t + i) * t;
        self.dropout.map(|m| &m[start..start + t])
    }
}

/// `O = (softmax(c·QKᵀ, masked keys at min_float) ⊙ M) V` for queries, keys and values
/// `[B, T, D]` and the optional masks; returns `O` `[B, T, D]` and the probabilities before
/// the dropout.
pub(crate) fn forward(
    q: &FloatTensor<Flex>,
    k: &FloatTensor<Flex>,
    v: &FloatTensor<Flex>,
    s: &Heads,
    masks: MaskSlices,
    min_float: f32,
) -> (FloatTensor<Flex>, Probs) {
    let (q, k, v) = (q.to_contiguous(), k.to_contiguous(), v.to_contiguous());
    let inputs = [elements(&q), elements(&k), elements(&v)];
    let mut out = vec![0.0f32; s.batch * s.rows()];
    let mut probs = vec![0.0f32; s.batch * s.probs()];
    (out.par_chunks_exact_mut(s.rows()))
        .zip(probs.par_chunks_exact_mut(s.probs()))
        .enumerate()
        .for_each(|(b, (out, probs))| {
            let element = Element::of(s, b, inputs, masks);
            vectorized(Forward {
                element,
                min_float,
                out,
                probs,
            })
        });
    (token_rows(out, s), probs)
}

/// The forward of one batch element: its output rows and its `[H, T, T]` probabilities.
struct Forward<'a> {
    element: Element<'a>,
    min_float: f32,
    out: &'a mut [f32],
    probs: &'a mut [f32],
}

impl WithSimd for Forward<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        let Forward {
            element: e,
            min_float,
            out,
            probs,
        } = self;
        let (s, t) = (&e.s, e.s.tokens);
        let scale = s.scale();
        for h in 0..s.heads {
            let p_h = &mut probs[h * t * t..(h + 1) * t * t];
            for (i, row) in p_h.chunks_exact_mut(t).enumerate() {
                let q_i = head(e.q, s, i, h);
                for (j, p) in row.iter_mut().enumerate() {
                    *p = if e.masked(j) {
                        min_float
                    } else {
                        dot(q_i, head(e.k, s, j, h)) * scale
                    };
                }
                softmax(row);
                let o_i = head_mut(out, s, i, h);
                match e.keep(h, i) {
                    None => {
                        for (j, &p) in row.iter().enumerate() {
                            axpy(o_i, p, head(e.v, s, j, h));
                        }
                    }
                    Some(keep) => {
                        for (j, (&p, &m)) in row.iter().zip(keep).enumerate() {
                            axpy(o_i, p * m, head(e.v, s, j, h));
                        }
                    }
                }
            }
        }
    }
}

/// `row = exp(row − max) / Σ exp(row − max)`, as burn's softmax computes it, with the
/// vectorised [`exp`] (within 2 ulp of libm's on its arguments, which are ≤ 0).
#[inline(always)]
fn softmax(row: &mut [f32]) {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    for x in row.iter_mut() {
        *x = exp(*x - max);
    }
    let sum: f32 = row.iter().sum();
    for x in row.iter_mut() {
        *x /= sum;
    }
}

/// The gradients `(∂Q, ∂K, ∂V)`, each `[B, T, D]`, of `Σ grad · O` from the forward's inputs
/// and probabilities.
pub(crate) fn backward(
    q: &FloatTensor<Flex>,
    k: &FloatTensor<Flex>,
    v: &FloatTensor<Flex>,
    probs: &[f32],
    s: &Heads,
    masks: MaskSlices,
    grad: &FloatTensor<Flex>,
) -> [FloatTensor<Flex>; 3] {
    let (q, k, v) = (q.to_contiguous(), k.to_contiguous(), v.to_contiguous());
    let grad = grad.to_contiguous();
    let inputs = [elements(&q), elements(&k), elements(&v)];
    let gs = elements(&grad);
    let (rows, n) = (s.rows(), s.batch * s.rows());
    let (mut dq, mut dk, mut dv) = (vec![0.0f32; n], vec![0.0f32; n], vec![0.0f32; n]);
    (dq.par_chunks_exact_mut(rows))
        .zip(dk.par_chunks_exact_mut(rows))
        .zip(dv.par_chunks_exact_mut(rows))
        .enumerate()
        .for_each_init(
            || vec![0.0f32; s.tokens * s.tokens],
            |ds, (b, ((dq, dk), dv))| {
                vectorized(Backward {
                    element: Element::of(s, b, inputs, masks),
                    probs: &probs[b * s.probs()..(b + 1) * s.probs()],
                    grad: &gs[b * rows..(b + 1) * rows],
                    ds,
                    out: [dq, dk, dv],
                })
            },
        );
    [token_rows(dq, s), token_rows(dk, s), token_rows(dv, s)]
}

/// The backward of one batch element: `∂Q`, `∂K`, `∂V` rows from its probabilities and output
/// gradient, with a `T x T` scratch for `∂S`.
struct Backward<'a> {
    element: Element<'a>,
    probs: &'a [f32],
    grad: &'a [f32],
    ds: &'a mut [f32],
    out: [&'a mut [f32]; 3],
}

impl WithSimd for Backward<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        let Backward {
            element: e,
            probs,
            grad,
            ds,
            out: [dq, dk, dv],
        } = self;
        let (s, t) = (&e.s, e.s.tokens);
        let scale = s.scale();
        for h in 0..s.heads {
            let p_h = &probs[h * t * t..(h + 1) * t * t];
            for (i, (p, ds)) in p_h.chunks_exact(t).zip(ds.chunks_exact_mut(t)).enumerate() {
                let g_i = head(grad, s, i, h);
                // ∂V_j += P_ij M_ij ∂O_i;  ∂P_ij = M_ij ∂O_i · V_j;
                // ∂S_i = P_i ⊙ (∂P_i − P_i · ∂P_i).
                let keep = e.keep(h, i);
                let mut weighted = 0.0;
                for (j, (&p, ds)) in p.iter().zip(ds.iter_mut()).enumerate() {
                    let m = keep.map_or(1.0, |keep| keep[j]);
                    axpy(head_mut(dv, s, j, h), p * m, g_i);
                    *ds = m * dot(g_i, head(e.v, s, j, h));
                    weighted += p * *ds;
                }
                for (j, (&p, ds)) in p.iter().zip(ds.iter_mut()).enumerate() {
                    *ds = if e.masked(j) {
                        0.0
                    } else {
                        p * (*ds - weighted) * scale
                    };
                }
                // ∂Q_i = Σ_j ∂S_ij K_j;  ∂K_j += ∂S_ij Q_i (the scale is in ∂S).
                let q_i = head(e.q, s, i, h);
                for (j, &ds) in ds.iter().enumerate() {
                    axpy(head_mut(dq, s, i, h), ds, head(e.k, s, j, h));
                    axpy(head_mut(dk, s, j, h), ds, q_i);
                }
            }
        }
    }
}
