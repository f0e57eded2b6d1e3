//! GELU, forward and backward, in vector code.
//!
//! burn-flex computes `gelu(x) = x Φ(x)` and its derivative element by element through libm's
//! scalar `erff` and `expf`. Here both are polynomials the compiler vectorises, run under the
//! CPU's widest instruction set ([`crate::simd`]) and split over rayon's pool:
//!
//! ```text
//! gelu(x) = x Φ(x)        gelu'(x) = Φ(x) + x φ(x)        φ(x) = e^{−x²/2} / √(2π)
//! Φ(x) = (1 + erf(x/√2)) / 2,   erf(z) = 1 − (a₁t + a₂t² + a₃t³ + a₄t⁴ + a₅t⁵) e^{−z²},  t = 1/(1 + p z)
//! ```
//!
//! (Abramowitz and Stegun 7.1.26, |error| ≤ 1.5·10⁻⁷, for z ≥ 0 and by symmetry below), with
//! `e^{−z²} = e^{−x²/2}` shared by Φ and φ and the exponential computed as Cephes' `expf` does
//! (a degree-6 polynomial after reducing by powers of two, within 2 ulp).

use burn::backend::autodiff::{
    Autodiff,
    checkpoint::{base::Checkpointer, strategy::CheckpointStrategy},
    grads::Gradients,
    ops::{Backward, Ops, OpsKind},
};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, Flex, backend_extension};
use burn::tensor::Tensor;
use pulp::{Simd, WithSimd};
use rayon::prelude::*;

use crate::encoder_path::EncoderPath;
use crate::flex_data::{elements, tensor};
use crate::simd::{exp, vectorized};

/// `gelu(x) = x Φ(x)` with `Φ` the standard normal distribution function (burn's
/// `activation::gelu`, not its tanh approximation); elementwise, differentiable on autodiff
/// devices. On Flex with f32 the fused kernel computes it, elsewhere burn's op.
///
/// ```
/// use burn::tensor::{Device, Tensor, TensorData};
/// use rgd_kernels::{EncoderPath, gelu::gelu};
/// let x = Tensor::<1>::from_data(TensorData::new(vec![-1.0f32, 0.0, 2.0], [3]), &Device::flex());
/// let y = gelu(x, EncoderPath::Fused).into_data().try_to_vec::<f32>().unwrap();
/// // Φ(−1) = 0.158655, Φ(2) = 0.977250.
/// assert!((y[0] + 0.158655).abs() < 1e-5 && y[1] == 0.0 && (y[2] - 1.954500).abs() < 1e-5);
/// ```
pub fn gelu<const D: usize>(x: Tensor<D>, path: EncoderPath) -> Tensor<D> {
    if !path.fuses(&x) {
        return burn::tensor::activation::gelu(x);
    }
    Tensor::from_dispatch(<Dispatch as FusedGelu>::gelu_fused(x.into_dispatch()))
}

/// A backend that computes GELU with the vectorised kernel.
#[backend_extension(Flex, Autodiff)]
pub trait FusedGelu: Backend {
    /// `x Φ(x)` elementwise.
    fn gelu_fused(x: FloatTensor<Self>) -> FloatTensor<Self>;
}

impl FusedGelu for Flex {
    fn gelu_fused(x: FloatTensor<Self>) -> FloatTensor<Self> {
        map(&x, None)
    }
}

#[derive(Debug)]
struct GeluBackward;

impl Backward<Flex, 1> for GeluBackward {
    type State = FloatTensor<Flex>;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = grads.consume::<Flex>(&ops.node);
        if let [Some(node)] = ops.parents {
            let dx = map(&ops.state, Some(&grad));
            grads.register::<Flex>(node.id, dx);
        }
    }
}

impl<C: CheckpointStrategy> FusedGelu for Autodiff<Flex, C> {
    fn gelu_fused(x: FloatTensor<Self>) -> FloatTensor<Self> {
        match GeluBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let x = x.primitive().clone();
                let y = Flex::gelu_fused(x.clone());
                prep.finish(x, y)
            }
            OpsKind::UnTracked(prep) => prep.finish(Flex::gelu_fused(x.primitive().clone())),
        }
    }
}

/// Elements per rayon task.
const CHUNK: usize = 1 << 14;

/// `gelu(x)` (without `g`) or `g · gelu'(x)` (with it) for every element, a tensor of `x`'s
/// shape.
fn map(x: &FloatTensor<Flex>, g: Option<&FloatTensor<Flex>>) -> FloatTensor<Flex> {
    let x = x.to_contiguous();
    let g = g.map(|g| g.to_contiguous());
    let shape = x.layout().shape().clone();
    let xs = elements(&x);
    let gs = g.as_ref().map(elements);
    let mut out = vec![0.0f32; xs.len()];
    (out.par_chunks_mut(CHUNK).enumerate()).for_each(|(c, out)| {
        let range = c * CHUNK..c * CHUNK + out.len();
        let g = gs.map(|gs| &gs[range.clone()]);
        vectorized(Chunk {
            x: &xs[range],
            g,
            out,
        });
    });
    tensor(out, shape)
}

/// One chunk of [`map`].
struct Chunk<'a> {
    x: &'a [f32],
    g: Option<&'a [f32]>,
    out: &'a mut [f32],
}

impl WithSimd for Chunk<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        match self.g {
            None => {
                for (o, &x) in self.out.iter_mut().zip(self.x) {
                    *o = x * normal(x).0;
                }
            }
            Some(g) => {
                for ((o, &x), &g) in self.out.iter_mut().zip(self.x).zip(g) {
                    let (cdf, pdf) = normal(x);
                    *o = g * (cdf + x * pdf);
                }
            }
        }
    }
}

/// `(Φ(x), φ(x))`, the standard normal distribution and density functions.
#[inline(always)]
pub(crate) fn normal(x: f32) -> (f32, f32) {
    const P: f32 = 0.327_591_1;
    const A: [f32; 5] = [
        0.254_829_6,
        -0.284_496_74,
        1.421_413_8,
        -1.453_152_1,
        1.061_405_4,
    ];
    const INV_SQRT_2PI: f32 = 0.398_942_3;
    let e = exp(-0.5 * x * x);
    let t = 1.0 / (1.0 + P * (x.abs() * std::f32::consts::FRAC_1_SQRT_2));
    let poly = t * (A[0] + t * (A[1] + t * (A[2] + t * (A[3] + t * A[4]))));
    let erf = (1.0 - poly * e).copysign(x);
    (0.5 * (1.0 + erf), e * INV_SQRT_2PI)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_cdf_and_pdf_match_their_definitions() {
        // Φ at known points (to 7 digits) and φ against e^{−x²/2}/√(2π) in f64.
        for (x, cdf) in [
            (-3.0, 0.001_349_898),
            (-1.0, 0.158_655_3),
            (0.0, 0.5),
            (0.5, 0.691_462_5),
            (2.0, 0.977_249_9),
        ] {
            let (c, p) = normal(x);
            assert!((c - cdf).abs() < 2e-7, "Φ({x}) = {c}, not {cdf}");
            let pdf = (-0.5 * (x as f64).powi(2)).exp() / (2.0 * std::f64::consts::PI).sqrt();
            assert!((p as f64 - pdf).abs() < 1e-7, "φ({x}) = {p}, not {pdf}");
        }
        assert_eq!(normal(-40.0), (0.0, 0.0));
        assert_eq!(normal(40.0).0, 1.0);
    }
}
