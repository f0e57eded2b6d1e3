//! A small Vision Transformer for 28x28 images, sized for 2 cores: non-overlapping `p x p`
//! patches linearly embedded, a learned class token and position embeddings, pre-norm
//! transformer layers, and a linear head on the class token.
//!
//! ```text
//! z_0 = [cls; x_1 E; ...; x_N E] + E_pos          x_i: the i-th patch, flattened (C p^2 values)
//! z_l = z' + FFN(LN(z')),  z' = z_{l-1} + MHA(LN(z_{l-1}))      (l = 1..L)
//! logits = W LN(z_L[0]) + b
//! ```

use burn::module::Param;
use burn::nn::transformer::TransformerEncoder;
use burn::nn::{LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::prelude::*;

use rgd_kernels::EncoderPath;

use crate::LabError;
use crate::config::VitConfig;
use crate::encoder::SMALL;

/// The Vision Transformer.
#[derive(Module, Debug)]
pub struct Vit {
    patch_embedding: Linear,
    class_token: Param<Tensor<3>>,
    positions: Param<Tensor<3>>,
    encoder: TransformerEncoder,
    norm: LayerNorm,
    head: Linear,
    #[module(skip)]
    patch: usize,
    #[module(skip)]
    kernels: EncoderPath,
}

impl Vit {
    /// A ViT for images `[C, H, W]` with `H` and `W` multiples of `config.patch`.
    pub fn new(
        shape: [usize; 3],
        classes: usize,
        config: &VitConfig,
        device: &Device,
    ) -> Result<Self, LabError> {
        let [c, h, w] = shape;
        let (p, width) = (config.patch, config.encoder.width);
        if p == 0 || !h.is_multiple_of(p) || !w.is_multiple_of(p) {
            return Err(LabError::Config(format!(
                "model.patch = {p} must divide the image size {h}x{w}"
            )));
        }
        let tokens = (h / p) * (w / p) + 1;
        Ok(Vit {
            patch_embedding: LinearConfig::new(c * p * p, width).init(device),
            class_token: SMALL.init([1, 1, width], device),
            positions: SMALL.init([1, tokens, width], device),
            encoder: crate::encoder::encoder(&config.encoder, device)?,
            norm: LayerNormConfig::new(width).init(device),
            head: LinearConfig::new(width, classes).init(device),
            patch: p,
            kernels: config.encoder.kernels,
        })
    }

    /// Logits `[B, classes]` of images `[B, C, H, W]`.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        let [b, c, h, w] = images.dims();
        let p = self.patch;
        let (gh, gw) = (h / p, w / p);
        let patches = images
            .reshape([b, c, gh, p, gw, p])
            .permute([0, 2, 4, 1, 3, 5])
            .reshape([b, gh * gw, c * p * p]);
        let x = match self.kernels {
            // On the `[B·N, C p²]` rows: burn keeps a `[B, N, C p²]` input batched (see
            // `encoder::forward`).
            EncoderPath::Fused | EncoderPath::Packed => {
                let rows = patches.reshape([b * gh * gw, c * p * p]);
                let rows = crate::encoder::dense(&self.patch_embedding, rows, self.kernels);
                let width = rows.dims()[1];
                rows.reshape([b, gh * gw, width])
            }
            // burn's ops as before the kernels.
            EncoderPath::Burn => self.patch_embedding.forward(patches),
        };
        let width = x.dims()[2];
        let cls = self.class_token.val().expand([b, 1, width]);
        let x = Tensor::cat(vec![cls, x], 1) + self.positions.val();
        let z = crate::encoder::forward(&self.encoder, x, None, self.kernels);
        let cls = z.narrow(1, 0, 1).reshape([b, width]);
        crate::encoder::dense(&self.head, self.norm.forward(cls), self.kernels)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> VitConfig {
        VitConfig {
            patch: 7,
            encoder: crate::config::EncoderConfig {
                width: 32,
                depth: 2,
                heads: 4,
                dropout: 0.0,
                kernels: EncoderPath::Fused,
            },
        }
    }

    #[test]
    fn shapes_and_patch_order() {
        let device = Device::flex();
        let vit = Vit::new([1, 28, 28], 10, &config(), &device).unwrap();
        assert_eq!(vit.positions.val().dims(), [1, 17, 32]);
        let out = vit.forward(Tensor::zeros([3, 1, 28, 28], &device));
        assert_eq!(out.dims(), [3, 10]);
        // Patchify: patch (row 1, col 2) of a 4x4 grid holds pixels rows 7..14, cols 14..21.
        let img: Vec<f32> = (0..784).map(|v| v as f32).collect();
        let x = Tensor::<4>::from_data(TensorData::new(img, [1, 1, 28, 28]), &device);
        let patches: Vec<f32> = x
            .reshape([1, 1, 4, 7, 4, 7])
            .permute([0, 2, 4, 1, 3, 5])
            .reshape([1, 16, 49])
            .narrow(1, 4 + 2, 1)
            .into_data()
            .try_into_vec_as::<f32>()
            .unwrap();
        assert_eq!(patches[0], (7 * 28 + 14) as f32);
        assert_eq!(patches[48], (13 * 28 + 20) as f32);
        let mut bad = config();
        bad.patch = 5;
        assert!(Vit::new([1, 28, 28], 10, &bad, &device).is_err());
    }

    #[test]
    fn a_few_steps_lower_the_loss_on_a_tiny_batch() {
        let device = Device::flex().autodiff();
        device.seed(1);
        let vit = Vit::new([1, 28, 28], 3, &config(), &device).unwrap();
        let x = Tensor::<4>::random(
            [6, 1, 28, 28],
            burn::tensor::Distribution::Normal(0.0, 1.0),
            &device,
        );
        let y =
            Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, 1, 2, 0, 1, 2], [6]), &device);
        let (before, after) =
            crate::test_support::loss_before_and_after(vit, 10, 1e-3, |vit: &Vit| {
                rgd_burn::loss::cross_entropy(vit.forward(x.clone()), y.clone(), 0.0)
                    .unwrap()
                    .into_tensor()
                    .mean()
            });
        assert!(after < before, "loss {before} -> {after}");
    }
}
