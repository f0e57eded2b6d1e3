//! The pooling and its gradient on Flex tensors, one rayon task per run of `H x W` planes.

use burn::backend::Flex;
use burn::backend::tensor::FloatTensor;
use rayon::prelude::*;

use crate::flex_data::{elements, tensor};

/// The shape of a rank-4 Flex tensor.
pub(crate) fn shape4(t: &FloatTensor<Flex>) -> [usize; 4] {
    let s = t.layout().shape();
    [s[0], s[1], s[2], s[3]]
}

/// The pooled `[B, C, H / KH, W / KW]` and, for every output, the index of its maximum within
/// its input plane (the window's first maximum in row-major order, or its last NaN).
pub(crate) fn forward(x: &FloatTensor<Flex>, window: [usize; 2]) -> (FloatTensor<Flex>, Vec<u32>) {
    let [b, c, h, w] = shape4(x);
    let [kh, kw] = window;
    let (oh, ow) = (h / kh, w / kw);
    let data = x.to_contiguous();
    let xs = elements(&data);
    let mut out = vec![0.0f32; b * c * oh * ow];
    let mut argmax = vec![0u32; out.len()];
    if !out.is_empty() {
        (out.par_chunks_mut(oh * ow)
            .zip(argmax.par_chunks_mut(oh * ow)))
        .zip(xs.par_chunks(h * w))
        .for_each(|((out, argmax), plane)| {
            for i in 0..oh {
                for j in 0..ow {
                    let (mut best, mut at) = (f32::NEG_INFINITY, usize::MAX);
                    for u in 0..kh {
                        let row = (i * kh + u) * w + j * kw;
                        for (v, &value) in plane[row..row + kw].iter().enumerate() {
                            if at == usize::MAX || value > best || value.is_nan() {
                                (best, at) = (value, row + v);
                            }
                        }
                    }
                    out[i * ow + j] = best;
                    // The router checked that a plane's indices fit in u32.
                    argmax[i * ow + j] = at as u32;
                }
            }
        });
    }
    (tensor(out, [b, c, oh, ow]), argmax)
}

/// The input gradient `[B, C, H, W]`: each output's gradient at its argmax, zero elsewhere.
pub(crate) fn backward(
    grad: &FloatTensor<Flex>,
    argmax: &[u32],
    shape: [usize; 4],
) -> FloatTensor<Flex> {
    let [b, c, h, w] = shape;
    let [_, _, oh, ow] = shape4(grad);
    let data = grad.to_contiguous();
    let gs = elements(&data);
    let mut dx = vec![0.0f32; b * c * h * w];
    if oh * ow > 0 && h * w > 0 {
        (dx.par_chunks_mut(h * w).zip(gs.par_chunks(oh * ow)))
            .zip(argmax.par_chunks(oh * ow))
            .for_each(|((dx, g), argmax)| {
                for (&g, &at) in g.iter().zip(argmax) {
                    dx[at as usize] += g;
                }
            });
    }
    tensor(dx, shape)
}
