//! The pooling and its gradient on Flex tensors, one rayon task per run of `H x W` planes.

use burn::backend::Flex;
use burn::backend::tensor::FloatTensor;
use rayon::prelude::*;

use crate::flex_data::{elements, shape4, tensor};

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
        .for_each(|((out, argmax), plane)| match window {
            [2, 2] => pool_2x2(plane, w, out, argmax),
            _ => pool_any(plane, w, window, out, argmax),
        });
    }
    (tensor(out, [b, c, oh, ow]), argmax)
}

/// The running maximum of a window after `value` at plane index `index`: taken where it is
/// larger or a NaN (so the first maximum stays, and the last NaN wins), without a branch.
#[inline(always)]
fn step((best, at): (f32, u32), value: f32, index: u32) -> (f32, u32) {
    let take = value > best || value.is_nan();
    (
        if take { value } else { best },
        if take { index } else { at },
    )
}

/// One `H x W` plane pooled over 2x2 windows, two input rows at a time (the CNN's case; the
/// same maxima and argmax as [`pool_any`]), written as plain indexed loads and selects so that
/// the compiler vectorises it. The router checked that a plane's indices fit in u32.
fn pool_2x2(plane: &[f32], w: usize, out: &mut [f32], argmax: &mut [u32]) {
    let ow = w / 2;
    if ow == 0 {
        return;
    }
    let rows = (out.chunks_exact_mut(ow).zip(argmax.chunks_exact_mut(ow))).enumerate();
    for (i, (out, argmax)) in rows {
        let (top, bottom) = (2 * i * w, (2 * i + 1) * w);
        let (upper, lower) = (&plane[top..][..2 * ow], &plane[bottom..][..2 * ow]);
        let (out, argmax) = (&mut out[..ow], &mut argmax[..ow]);
        for j in 0..ow {
            let (t, b) = ((top + 2 * j) as u32, (bottom + 2 * j) as u32);
            let first = (upper[2 * j], t);
            let best = step(step(first, upper[2 * j + 1], t + 1), lower[2 * j], b);
            (out[j], argmax[j]) = step(best, lower[2 * j + 1], b + 1);
        }
    }
}

/// One `H x W` plane pooled over `KH x KW` windows, each window in row-major order.
fn pool_any(plane: &[f32], w: usize, [kh, kw]: [usize; 2], out: &mut [f32], argmax: &mut [u32]) {
    let ow = w / kw;
    for (o, (y, at)) in out.iter_mut().zip(argmax.iter_mut()).enumerate() {
        let (i, j) = (o / ow, o % ow);
        let first = (i * kh * w + j * kw) as u32;
        let mut best = (plane[first as usize], first);
        for u in 0..kh {
            let row = (i * kh + u) * w + j * kw;
            for (v, &value) in plane[row..row + kw].iter().enumerate() {
                best = step(best, value, (row + v) as u32);
            }
        }
        (*y, *at) = best;
    }
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
