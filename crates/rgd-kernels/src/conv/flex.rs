//! The convolution and its gradients on Flex tensors, as matrix products over the im2col layout
//! ([`super::im2col`]), threaded over the batch on rayon's pool.
//!
//! With `cols_b = im2col(x_b)` (`K = C·KH·KW` rows, `P = OH·OW` columns), the weight as a
//! `C_out x K` matrix `W` and `relu(z) = z if z > 0 else 0` (or the identity), for every image
//! `b` of the batch:
//!
//! ```text
//! y_b  = relu(W · cols_b + bias 1ᵀ)          forward, C_out x P (bias and ReLU in one pass)
//! g_b  = ∂y_b ⊙ [y_b > 0]                    the output gradient through the ReLU
//! ∂bias = Σ_b g_b 1                          bias gradient, C_out
//! ∂W   = Σ_b g_b · cols_bᵀ                   weight gradient, C_out x K (as (Σ_b cols_b g_bᵀ)ᵀ)
//! ∂x_b = col2im(Wᵀ · g_b)                    input gradient, C x H x W
//! ```

use burn::backend::Flex;
use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn::tensor::Shape;
use burn::tensor::ops::ConvOptions;
use rayon::prelude::*;

use super::im2col::{Geometry, col2im, im2col};
use crate::flex_data::{elements, shape4, tensor};
use crate::matmul::{Threads, View, matmul};

/// The shapes of one convolution: batch, output channels and the per-image geometry.
#[derive(Debug, Clone, Copy)]
struct Shapes {
    batch: usize,
    out_channels: usize,
    geometry: Geometry,
}

impl Shapes {
    /// The shapes of `x` (`[B, C, H, W]`) convolved with `weight` (`[C_out, C, KH, KW]`); `None`
    /// where the kernel does not apply (grouped, mismatched channels, no output).
    fn of(x: &[usize], weight: &[usize], options: &ConvOptions<2>) -> Option<Shapes> {
        let (&[batch, channels, h, w], &[out_channels, weight_channels, kh, kw]) = (x, weight)
        else {
            return None;
        };
        let geometry = Geometry {
            channels,
            size: [h, w],
            kernel: [kh, kw],
            stride: options.stride,
            padding: options.padding,
            dilation: options.dilation,
        };
        let fits =
            options.groups == 1 && weight_channels == channels && geometry.output().is_some();
        fits.then_some(Shapes {
            batch,
            out_channels,
            geometry,
        })
    }

    fn patch(&self) -> usize {
        self.geometry.patch()
    }

    fn positions(&self) -> usize {
        self.geometry.positions()
    }

    fn input_shape(&self) -> [usize; 4] {
        let [h, w] = self.geometry.size;
        [self.batch, self.geometry.channels, h, w]
    }

    fn weight_shape(&self) -> [usize; 4] {
        let [kh, kw] = self.geometry.kernel;
        [self.out_channels, self.geometry.channels, kh, kw]
    }

    fn output_shape(&self) -> [usize; 4] {
        let [oh, ow] = self.geometry.output().expect("checked in Shapes::of");
        [self.batch, self.out_channels, oh, ow]
    }
}

/// Whether [`forward`] and its gradients handle this convolution: `x` `[B, C, H, W]`, `weight`
/// `[C_out, C, KH, KW]` (no groups), a kernel that fits the padded input; any stride, padding
/// and dilation.
pub(crate) fn supports(x: &[usize], weight: &[usize], options: &ConvOptions<2>) -> bool {
    Shapes::of(x, weight, options).is_some()
}

fn shapes(x: &FloatTensor<Flex>, weight: &FloatTensor<Flex>, options: &ConvOptions<2>) -> Shapes {
    Shapes::of(x.layout().shape(), weight.layout().shape(), options)
        .expect("a convolution the kernel supports (the router checks `supports`)")
}

/// Splits `0..batch` into one contiguous range of images per rayon thread (at most `batch`).
fn per_thread(batch: usize) -> usize {
    batch.div_ceil(rayon::current_num_threads().max(1)).max(1)
}

/// The convolution `y = conv2d(x, weight) + bias`, then the ReLU where `relu`:
/// `[B, C_out, OH, OW]`.
pub(crate) fn forward(
    x: &FloatTensor<Flex>,
    weight: &FloatTensor<Flex>,
    bias: &FloatTensor<Flex>,
    options: &ConvOptions<2>,
    relu: bool,
) -> FloatTensor<Flex> {
    let s = shapes(x, weight, options);
    let (x_data, w_data, b_data) = (
        x.to_contiguous(),
        weight.to_contiguous(),
        bias.to_contiguous(),
    );
    let (xs, ws, bs) = (elements(&x_data), elements(&w_data), elements(&b_data));
    let (k, p, co) = (s.patch(), s.positions(), s.out_channels);
    assert_eq!(
        bs.len(),
        co,
        "conv2d: a bias of {} for {co} channels",
        bs.len()
    );
    let mut out = vec![0.0; s.batch * co * p];
    let image = |cols: &mut Vec<f32>, y: &mut [f32], x: &[f32], threads| {
        im2col(&s.geometry, x, cols);
        matmul(
            y,
            View::rows(ws, co, k),
            View::rows(cols, k, p),
            false,
            threads,
        );
        for (row, &b) in y.chunks_exact_mut(p).zip(bs) {
            match relu {
                // burn's ReLU: 0 where `z <= 0` (so a NaN stays NaN).
                true => row
                    .iter_mut()
                    .for_each(|v| *v = if *v + b <= 0.0 { 0.0 } else { *v + b }),
                false => row.iter_mut().for_each(|v| *v += b),
            }
        }
    };
    each_image(&mut out, co * p, xs, s.geometry.image(), k * p, image);
    tensor(out, s.output_shape())
}

/// The output gradient through the ReLU whose output is `y`: `grad` where `y > 0`, else 0 (as
/// burn's `relu_backward`: zero where `y <= 0`). Masks `grad` in place where it owns its
/// contiguous storage (the usual case in the backward), so no new buffer is faulted in.
pub(crate) fn relu_grad(y: &FloatTensor<Flex>, mut grad: FloatTensor<Flex>) -> FloatTensor<Flex> {
    let y_data = y.to_contiguous();
    let ys = elements(&y_data);
    let own_storage = grad.is_contiguous() && grad.layout().start_offset() == 0;
    if let Some(gs) = own_storage.then(|| grad.try_storage_mut::<f32>()).flatten() {
        // Row-major from offset 0: storage element i is element i (a longer buffer's tail is
        // not part of the tensor, and the zip stops before it).
        for (g, &y) in gs.iter_mut().zip(ys) {
            *g = if y <= 0.0 { 0.0 } else { *g };
        }
        return grad;
    }
    let g_data = grad.to_contiguous();
    let masked = (ys.iter().zip(elements(&g_data)))
        .map(|(&y, &g)| if y <= 0.0 { 0.0 } else { g })
        .collect();
    tensor(masked, shape4(y))
}

/// The bias gradient `Σ_{b, p} grad[b, o, p]` of an output gradient `[B, C_out, OH, OW]`, summed
/// by the ops burn's autodiff uses for the broadcast add `y + bias` (`float_sum_dims` over the
/// dimensions of size above 1), so that the fused kernel's numbers are bit for bit those of the
/// unfused convolution, add and ReLU.
pub(crate) fn bias_grad(grad: &FloatTensor<Flex>) -> FloatTensor<Flex> {
    let shape = grad.layout().shape();
    let (dims, channels): (Vec<usize>, usize) = (
        [0, 2, 3].into_iter().filter(|&d| shape[d] != 1).collect(),
        shape[1],
    );
    let summed = match dims.as_slice() {
        [] => grad.clone(),
        [dim] => Flex::float_sum_dim(grad.clone(), *dim),
        dims => Flex::float_sum_dims(grad.clone(), dims),
    };
    Flex::float_reshape(summed, Shape::new([channels]))
}

/// The gradient of `Σ grad · conv2d(x, weight)` with respect to `x`: `[B, C, H, W]`.
pub(crate) fn input_grad(
    x: &FloatTensor<Flex>,
    weight: &FloatTensor<Flex>,
    grad: &FloatTensor<Flex>,
    options: &ConvOptions<2>,
) -> FloatTensor<Flex> {
    let s = shapes(x, weight, options);
    let (w_data, g_data) = (weight.to_contiguous(), grad.to_contiguous());
    let (ws, gs) = (elements(&w_data), elements(&g_data));
    let (k, p, co) = (s.patch(), s.positions(), s.out_channels);
    let mut dx = vec![0.0; s.batch * s.geometry.image()];
    let image = |dcols: &mut Vec<f32>, dx: &mut [f32], g: &[f32], threads| {
        // ∂cols = Wᵀ · ∂y_b (K x P), folded back onto the image.
        matmul(
            dcols,
            View::transposed(ws, k, co),
            View::rows(g, co, p),
            false,
            threads,
        );
        col2im(&s.geometry, dcols, dx);
    };
    each_image(&mut dx, s.geometry.image(), gs, co * p, k * p, image);
    tensor(dx, s.input_shape())
}

/// The gradient of `Σ grad · conv2d(x, weight)` with respect to `weight`: `[C_out, C, KH, KW]`.
pub(crate) fn weight_grad(
    x: &FloatTensor<Flex>,
    weight: &FloatTensor<Flex>,
    grad: &FloatTensor<Flex>,
    options: &ConvOptions<2>,
) -> FloatTensor<Flex> {
    let s = shapes(x, weight, options);
    let (x_data, g_data) = (x.to_contiguous(), grad.to_contiguous());
    let (xs, gs) = (elements(&x_data), elements(&g_data));
    let (k, p, co) = (s.patch(), s.positions(), s.out_channels);
    let (image, out) = (s.geometry.image(), co * p);
    // One partial sum per thread over its own images, then their sum: no shared accumulator.
    // Each image adds ∂Wᵀ_b = cols_b · g_bᵀ (K x C_out): the same dot products over the P
    // positions as g_b · cols_bᵀ, but gemm then packs the small gᵀ instead of the transposed
    // cols.
    let chunk = per_thread(s.batch);
    let partial = |(xs, gs): (&[f32], &[f32])| {
        let mut cols = vec![0.0; k * p];
        let mut dw_t = vec![0.0; k * co];
        for (b, (x, g)) in xs.chunks_exact(image).zip(gs.chunks_exact(out)).enumerate() {
            im2col(&s.geometry, x, &mut cols);
            let g_t = View::transposed(g, p, co);
            matmul(&mut dw_t, View::rows(&cols, k, p), g_t, b > 0, Threads::One);
        }
        dw_t
    };
    let dw_t = if s.batch == 0 {
        vec![0.0; k * co]
    } else {
        (xs.par_chunks(chunk * image).zip(gs.par_chunks(chunk * out)))
            .map(partial)
            .reduce_with(|mut a, b| {
                a.iter_mut().zip(&b).for_each(|(a, b)| *a += b);
                a
            })
            .expect("at least one image")
    };
    let dw = (0..co * k).map(|i| dw_t[(i % k) * co + i / k]).collect();
    tensor(dw, s.weight_shape())
}

/// Runs `image(scratch, out_b, in_b, threads)` for every image `b`: `out` and `input` split
/// into `out_len`- and `in_len`-element images, one `scratch_len` buffer per task. With at least
/// as many images as threads the images run in parallel, each product on its own thread;
/// otherwise they run in turn, each product on the whole pool.
fn each_image<F>(
    out: &mut [f32],
    out_len: usize,
    input: &[f32],
    in_len: usize,
    scratch_len: usize,
    image: F,
) where
    F: Fn(&mut Vec<f32>, &mut [f32], &[f32], Threads) + Sync,
{
    if out_len == 0 || in_len == 0 {
        return;
    }
    let images = out.chunks_exact_mut(out_len).len();
    if images >= rayon::current_num_threads() {
        (out.par_chunks_exact_mut(out_len)
            .zip(input.par_chunks_exact(in_len)))
        .for_each_init(
            || vec![0.0; scratch_len],
            |scratch, (y, x)| image(scratch, y, x, Threads::One),
        );
    } else {
        let mut scratch = vec![0.0; scratch_len];
        for (y, x) in out
            .chunks_exact_mut(out_len)
            .zip(input.chunks_exact(in_len))
        {
            image(&mut scratch, y, x, Threads::All);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relu_gradient_masks_its_own_storage_and_copies_a_shared_one() {
        let y = tensor(vec![1.0, 0.0, -2.0, f32::NAN, 3.0, -0.0], [1, 1, 2, 3]);
        let grad = tensor(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [1, 1, 2, 3]);
        // burn's rule: zero where y <= 0 (a NaN output keeps its gradient).
        let expected = [1.0, 0.0, 0.0, 4.0, 5.0, 0.0];
        let alias = grad.clone();
        let shared = relu_grad(&y, grad);
        assert_eq!(elements(&shared.to_contiguous()), expected);
        assert_eq!(
            elements(&alias),
            [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            "the alias is untouched"
        );
        let owned = relu_grad(&y, alias);
        assert_eq!(elements(&owned), expected);
    }
}
