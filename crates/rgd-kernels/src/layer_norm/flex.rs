//! Layer normalisation and its gradients on contiguous Flex f32 rows, one pass per row, blocks
//! of rows across rayon's pool.

use burn::backend::Flex;
use burn::backend::tensor::FloatTensor;
use rayon::prelude::*;

use crate::flex_data::{elements, tensor};

/// Rows per rayon task; also the block whose parameter-gradient partial sums are added in
/// order, so the numbers do not depend on the thread count.
const ROWS: usize = 32;

/// What the backward needs of the forward: each row's mean and deviation `√(σ² + ε)`.
#[derive(Debug, Clone)]
pub(crate) struct RowStats {
    mean: Vec<f64>,
    sd: Vec<f64>,
}

/// The `[rows, cols]` of a 2-D tensor.
fn dims(t: &FloatTensor<Flex>) -> [usize; 2] {
    let shape = t.layout().shape();
    [shape[0], shape[1]]
}

/// `μ` and `√(σ² + ε)` of one row, in f64 (two passes: the centred sum of squares), so that a
/// row far from zero mean or of small spread loses no more than its own rounding to f32.
fn row_stats(x: &[f32], epsilon: f32) -> (f64, f64) {
    let d = x.len() as f64;
    let mean = x.iter().map(|&v| f64::from(v)).sum::<f64>() / d;
    let var = x
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / d;
    (mean, (var + f64::from(epsilon)).sqrt())
}

/// `y = γ ⊙ x̂ + β` for `x` `[N, D]`, with the row statistics for the backward.
pub(crate) fn forward(
    x: &FloatTensor<Flex>,
    gamma: &FloatTensor<Flex>,
    beta: &FloatTensor<Flex>,
    epsilon: f32,
) -> (FloatTensor<Flex>, RowStats) {
    let [n, d] = dims(x);
    let (x, gamma, beta) = (
        x.to_contiguous(),
        gamma.to_contiguous(),
        beta.to_contiguous(),
    );
    let (xs, gs, bs) = (elements(&x), elements(&gamma), elements(&beta));
    let mut y = vec![0.0f32; n * d];
    let (mut mean, mut sd) = (vec![0.0f64; n], vec![0.0f64; n]);
    (y.par_chunks_mut(ROWS * d))
        .zip(xs.par_chunks(ROWS * d))
        .zip(mean.par_chunks_mut(ROWS).zip(sd.par_chunks_mut(ROWS)))
        .for_each(|((y, x), (mean, sd))| {
            let rows = y.chunks_exact_mut(d).zip(x.chunks_exact(d));
            for (((y, x), mu), s) in rows.zip(mean.iter_mut()).zip(sd.iter_mut()) {
                (*mu, *s) = row_stats(x, epsilon);
                let r = 1.0 / *s;
                for (((y, &x), &g), &b) in y.iter_mut().zip(x).zip(gs).zip(bs) {
                    *y = ((f64::from(x) - *mu) * r) as f32 * g + b;
                }
            }
        });
    (tensor(y, [n, d]), RowStats { mean, sd })
}

/// The input gradient `[N, D]` and the gradients of `γ` and `β` (`[D]` each), accumulated in
/// f64 per block of rows and the blocks in order.
pub(crate) fn backward(
    x: &FloatTensor<Flex>,
    gamma: &FloatTensor<Flex>,
    stats: &RowStats,
    grad: &FloatTensor<Flex>,
) -> [FloatTensor<Flex>; 3] {
    let [n, d] = dims(x);
    let (x, gamma, grad) = (
        x.to_contiguous(),
        gamma.to_contiguous(),
        grad.to_contiguous(),
    );
    let (xs, gs, dys) = (elements(&x), elements(&gamma), elements(&grad));
    let mut dx = vec![0.0f32; n * d];
    let partials: Vec<(Vec<f64>, Vec<f64>)> = (dx.par_chunks_mut(ROWS * d))
        .zip(xs.par_chunks(ROWS * d).zip(dys.par_chunks(ROWS * d)))
        .zip(stats.mean.par_chunks(ROWS).zip(stats.sd.par_chunks(ROWS)))
        .map(|((dx, (x, dy)), (mean, sd))| {
            let (mut dgamma, mut dbeta) = (vec![0.0f64; d], vec![0.0f64; d]);
            let mut xhat = vec![0.0f64; d];
            let rows = dx
                .chunks_exact_mut(d)
                .zip(x.chunks_exact(d).zip(dy.chunks_exact(d)));
            for ((dx, (x, dy)), (&mu, &s)) in rows.zip(mean.iter().zip(sd)) {
                let r = 1.0 / s;
                let (mut sum_g, mut sum_gx) = (0.0f64, 0.0f64);
                for (i, (&x, &dy)) in x.iter().zip(dy).enumerate() {
                    let (dy, h) = (f64::from(dy), (f64::from(x) - mu) * r);
                    let g = dy * f64::from(gs[i]);
                    (sum_g, sum_gx) = (sum_g + g, sum_gx + g * h);
                    dgamma[i] += dy * h;
                    dbeta[i] += dy;
                    xhat[i] = h;
                }
                let (mean_g, mean_gx) = (sum_g / d as f64, sum_gx / d as f64);
                for (i, dx) in dx.iter_mut().enumerate() {
                    let g = f64::from(dy[i]) * f64::from(gs[i]);
                    *dx = ((g - mean_g - xhat[i] * mean_gx) * r) as f32;
                }
            }
            (dgamma, dbeta)
        })
        .collect();
    let (mut dgamma, mut dbeta) = (vec![0.0f64; d], vec![0.0f64; d]);
    for (pg, pb) in &partials {
        dgamma.iter_mut().zip(pg).for_each(|(s, v)| *s += v);
        dbeta.iter_mut().zip(pb).for_each(|(s, v)| *s += v);
    }
    let f32s = |v: Vec<f64>| v.into_iter().map(|v| v as f32).collect::<Vec<_>>();
    [
        tensor(dx, [n, d]),
        tensor(f32s(dgamma), [d]),
        tensor(f32s(dbeta), [d]),
    ]
}
