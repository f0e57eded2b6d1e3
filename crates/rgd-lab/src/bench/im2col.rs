//! `rgd bench speed --models cnn-im2col`: an experiment, the lab's CNN with each convolution
//! written as an explicit im2col and matrix product in NHWC layout, not through burn's conv2d.

use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::relu;
use burn::tensor::ops::PadMode;

use crate::config::CnnConfig;

/// The CNN of the lab with its convolutions written as im2col + matrix product in NHWC layout
/// (an experiment: same layer shapes and parameter count as [`Model::Cnn`], a different
/// implementation of the same function up to a permutation of the head's inputs).
#[derive(Module, Debug)]
pub struct Im2colCnn {
    convs: Vec<Linear>,
    head: Vec<Linear>,
}

impl Im2colCnn {
    pub(super) fn new(
        config: &CnnConfig,
        shape: &[usize],
        classes: usize,
        device: &Device,
    ) -> Self {
        let [mut c, mut h, mut w] = [shape[0], shape[1], shape[2]];
        let mut convs = Vec::new();
        for &out in &config.channels {
            convs.push(LinearConfig::new(9 * c, out).init(device));
            (c, h, w) = (out, h / 2, w / 2);
        }
        let mut widths = vec![c * h * w];
        widths.extend(&config.head.hidden);
        widths.push(classes);
        let head = widths
            .windows(2)
            .map(|p| LinearConfig::new(p[0], p[1]).init(device))
            .collect();
        Im2colCnn { convs, head }
    }

    /// Logits of rows `[B, C*H*W]` (for one channel NCHW and NHWC rows are the same).
    pub(super) fn forward(&self, rows: Tensor<2>, shape: &[usize]) -> Tensor<2> {
        let batch = rows.dims()[0];
        let [c, h, w] = [shape[0], shape[1], shape[2]];
        let mut x: Tensor<4> = if c == 1 {
            rows.reshape([batch, h, w, 1])
        } else {
            rows.reshape([batch, c, h, w]).permute([0, 2, 3, 1])
        };
        for conv in &self.convs {
            let [b, h, w, c] = x.dims();
            let padded = x.pad([(1, 1), (1, 1), (0, 0)], PadMode::Constant(0.0));
            let taps = (0..9)
                .map(|t| {
                    let (dy, dx) = (t / 3, t % 3);
                    padded.clone().slice([0..b, dy..dy + h, dx..dx + w, 0..c])
                })
                .collect();
            let cols = Tensor::cat(taps, 3).reshape([b * h * w, 9 * c]);
            let out = conv.weight.dims()[1];
            let y: Tensor<6> = relu(conv.forward(cols)).reshape([b, h / 2, 2, w / 2, 2, out]);
            // 2x2 max pooling as the maximum of the four strided quarters (burn's max_dim
            // backward goes through a slow gather/scatter on flex).
            let (h2, w2) = (h / 2, w / 2);
            let q = |i: usize, j: usize| {
                y.clone()
                    .slice([0..b, 0..h2, i..i + 1, 0..w2, j..j + 1, 0..out])
            };
            x = q(0, 0)
                .max_pair(q(0, 1))
                .max_pair(q(1, 0).max_pair(q(1, 1)))
                .reshape([b, h2, w2, out]);
        }
        let [b, h, w, c] = x.dims();
        let mut z = x.reshape([b, h * w * c]);
        let last = self.head.len() - 1;
        for (i, layer) in self.head.iter().enumerate() {
            z = layer.forward(z);
            if i < last {
                z = relu(z);
            }
        }
        z
    }
}
