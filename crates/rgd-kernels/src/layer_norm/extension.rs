//! Layer normalisation as a burn backend extension: the forward on Flex, and on
//! `Autodiff<Flex>` the forward with its backward from the saved row statistics.

use burn::backend::autodiff::{
    Autodiff,
    checkpoint::{base::Checkpointer, strategy::CheckpointStrategy},
    grads::Gradients,
    ops::{Backward, Ops, OpsKind},
};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Flex, backend_extension};

use super::flex::{self, RowStats};

/// A backend that normalises rows in one pass.
#[backend_extension(Flex, Autodiff)]
pub trait FusedLayerNorm: Backend {
    /// `γ ⊙ (x − μ) / √(σ² + ε) + β` per row: `x` `[N, D]`, `gamma` and `beta` `[D]`.
    fn layer_norm_fused(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f32,
    ) -> FloatTensor<Self>;
}

impl FusedLayerNorm for Flex {
    fn layer_norm_fused(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f32,
    ) -> FloatTensor<Self> {
        flex::forward(&x, &gamma, &beta, epsilon).0
    }
}

/// The backward step: the input, scale and shift gradients.
#[derive(Debug)]
struct LayerNormBackward;

impl Backward<Flex, 3> for LayerNormBackward {
    /// The input, the scale and the forward's row statistics.
    type State = (FloatTensor<Flex>, FloatTensor<Flex>, RowStats);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = grads.consume::<Flex>(&ops.node);
        let (x, gamma, stats) = ops.state;
        let gradients = flex::backward(&x, &gamma, &stats, &grad);
        for (node, gradient) in ops.parents.into_iter().zip(gradients) {
            if let Some(node) = node {
                grads.register::<Flex>(node.id, gradient);
            }
        }
    }
}

impl<C: CheckpointStrategy> FusedLayerNorm for Autodiff<Flex, C> {
    fn layer_norm_fused(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f32,
    ) -> FloatTensor<Self> {
        let prep = LayerNormBackward
            .prepare::<C>([x.node(), gamma.node(), beta.node()])
            .compute_bound()
            .stateful();
        let (x, gamma) = (x.primitive().clone(), gamma.primitive().clone());
        let (y, stats) = flex::forward(&x, &gamma, beta.primitive(), epsilon);
        match prep {
            OpsKind::Tracked(prep) => prep.finish((x, gamma, stats), y),
            OpsKind::UnTracked(prep) => prep.finish(y),
        }
    }
}
