//! The dense layer and its gradients on Flex tensors, each product one `gemm` call made as
//! burn-flex makes it.

use burn::backend::Flex;
use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn::tensor::Shape;
use rayon::prelude::*;

use crate::flex_data::{elements, tensor};
use crate::matmul::{Threads, View, matmul};

/// Output rows per rayon task of the bias pass.
const ROWS: usize = 64;

/// The `[rows, cols]` of a 2-D tensor.
fn dims(t: &FloatTensor<Flex>) -> [usize; 2] {
    let shape = t.layout().shape();
    [shape[0], shape[1]]
}

/// `lhs · rhs`, row-major, threaded by burn-flex's rule for the product's size.
fn product(lhs: View<'_>, rhs: View<'_>) -> Vec<f32> {
    let mut out = vec![0.0f32; lhs.rows * rhs.cols];
    let threads = Threads::like_burn_flex(lhs.rows, rhs.cols, lhs.cols);
    matmul(&mut out, lhs, rhs, false, threads);
    out
}

/// `x W + b`: `[N, D_out]`.
pub(crate) fn forward(
    x: &FloatTensor<Flex>,
    weight: &FloatTensor<Flex>,
    bias: &FloatTensor<Flex>,
) -> FloatTensor<Flex> {
    let ([n, d_in], [_, d_out]) = (dims(x), dims(weight));
    let (x, weight, bias) = (
        x.to_contiguous(),
        weight.to_contiguous(),
        bias.to_contiguous(),
    );
    let (xs, ws, bs) = (elements(&x), elements(&weight), elements(&bias));
    let mut out = product(View::rows(xs, n, d_in), View::rows(ws, d_in, d_out));
    // The bias as burn-flex's broadcast add computes it: one rounding of `y + b` per element.
    (out.par_chunks_mut(ROWS * d_out)).for_each(|rows| {
        for row in rows.chunks_exact_mut(d_out) {
            for (y, &b) in row.iter_mut().zip(bs) {
                *y += b;
            }
        }
    });
    tensor(out, [n, d_out])
}

/// `∂x = ∂y Wᵀ`: `[N, D_in]`.
pub(crate) fn input_grad(
    weight: &FloatTensor<Flex>,
    grad: &FloatTensor<Flex>,
) -> FloatTensor<Flex> {
    let ([d_in, d_out], [n, _]) = (dims(weight), dims(grad));
    let (weight, grad) = (weight.to_contiguous(), grad.to_contiguous());
    let (gs, ws) = (elements(&grad), elements(&weight));
    let dx = product(View::rows(gs, n, d_out), View::transposed(ws, d_out, d_in));
    tensor(dx, [n, d_in])
}

/// `∂W = xᵀ ∂y`: `[D_in, D_out]`.
pub(crate) fn weight_grad(x: &FloatTensor<Flex>, grad: &FloatTensor<Flex>) -> FloatTensor<Flex> {
    let ([n, d_in], [_, d_out]) = (dims(x), dims(grad));
    let (x, grad) = (x.to_contiguous(), grad.to_contiguous());
    let (xs, gs) = (elements(&x), elements(&grad));
    let dw = product(View::transposed(xs, d_in, n), View::rows(gs, n, d_out));
    tensor(dw, [d_in, d_out])
}

/// `∂b = Σ_rows ∂y`: `[D_out]`, by burn's own reduction, as its `linear_bias_backward`.
pub(crate) fn bias_grad(grad: FloatTensor<Flex>) -> FloatTensor<Flex> {
    let [_, d_out] = dims(&grad);
    Flex::float_reshape(Flex::float_sum_dim(grad, 0), Shape::new([d_out]))
}
