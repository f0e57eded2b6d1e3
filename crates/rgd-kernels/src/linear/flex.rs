//! The dense layer and its gradients on Flex tensors, each product one `gemm` call made as
//! burn-flex makes it (on the operands' own strides, with its threading rule), or with
//! `packed` one `matrixmultiply` product on the same strides and threading rule.

use burn::backend::Flex;
use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn::tensor::Shape;
use rayon::prelude::*;

use crate::flex_data::{elements, tensor};
use crate::matmul::{Products, Threads, View, matmul_by};

/// Output rows per rayon task of the bias pass.
const ROWS: usize = 64;

/// A 2-D tensor as the strided view burn-flex hands `gemm`: its storage from the view's offset,
/// its own strides, no copy; `None` for a negative stride (a flipped view).
fn view(t: &FloatTensor<Flex>) -> Option<View<'_>> {
    let layout = t.layout();
    let (shape, strides) = (layout.shape(), layout.strides());
    let stride = |s: isize| usize::try_from(s).ok();
    Some(View {
        data: &t.storage::<f32>()[layout.start_offset()..],
        rows: shape[0],
        cols: shape[1],
        row_stride: stride(strides[0])?,
        col_stride: stride(strides[1])?,
    })
}

/// `lhs · rhs`, row-major: the gemm call of burn-flex's `float_matmul` (or with `packed`
/// matrixmultiply's) into a buffer of our own, or (for a flipped view, which gemm reads
/// backwards) burn-flex's product itself.
fn product(lhs: &FloatTensor<Flex>, rhs: &FloatTensor<Flex>, packed: bool) -> Vec<f32> {
    let (Some(l), Some(r)) = (view(lhs), view(rhs)) else {
        let out = Flex::float_matmul(lhs.clone(), rhs.clone()).to_contiguous();
        return elements(&out).to_vec();
    };
    let mut out = vec![0.0f32; l.rows * r.cols];
    let threads = Threads::like_burn_flex(l.rows, r.cols, l.cols);
    let products = if packed {
        Products::Packed
    } else {
        Products::Gemm
    };
    matmul_by(&mut out, l, r, false, threads, products);
    out
}

/// The `[rows, cols]` of a 2-D tensor.
fn dims(t: &FloatTensor<Flex>) -> [usize; 2] {
    let shape = t.layout().shape();
    [shape[0], shape[1]]
}

/// The transpose, a view without a copy.
fn transpose(t: &FloatTensor<Flex>) -> FloatTensor<Flex> {
    Flex::float_transpose(t.clone())
}

/// `x W + b`: `[N, D_out]`.
pub(crate) fn forward(
    x: &FloatTensor<Flex>,
    weight: &FloatTensor<Flex>,
    bias: &FloatTensor<Flex>,
    packed: bool,
) -> FloatTensor<Flex> {
    let ([n, _], [_, d_out]) = (dims(x), dims(weight));
    let bias = bias.to_contiguous();
    let bs = elements(&bias);
    let mut out = product(x, weight, packed);
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
    packed: bool,
) -> FloatTensor<Flex> {
    let ([d_in, _], [n, _]) = (dims(weight), dims(grad));
    tensor(product(grad, &transpose(weight), packed), [n, d_in])
}

/// `∂W = xᵀ ∂y`: `[D_in, D_out]`.
pub(crate) fn weight_grad(
    x: &FloatTensor<Flex>,
    grad: &FloatTensor<Flex>,
    packed: bool,
) -> FloatTensor<Flex> {
    let ([_, d_in], [_, d_out]) = (dims(x), dims(grad));
    tensor(product(&transpose(x), grad, packed), [d_in, d_out])
}

/// `∂b = Σ_rows ∂y`: `[D_out]`, by burn's own reduction, as its `linear_bias_backward`.
pub(crate) fn bias_grad(grad: FloatTensor<Flex>) -> FloatTensor<Flex> {
    let [_, d_out] = dims(&grad);
    Flex::float_reshape(Flex::float_sum_dim(grad, 0), Shape::new([d_out]))
}
