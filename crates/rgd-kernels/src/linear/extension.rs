//! The dense layer as a burn backend extension: the forward on Flex, and on `Autodiff<Flex>` the
//! forward with its backward as the three products and burn's bias reduction.

use burn::backend::autodiff::{
    Autodiff,
    checkpoint::{base::Checkpointer, strategy::CheckpointStrategy},
    grads::Gradients,
    ops::{Backward, Ops, OpsKind},
};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Flex, backend_extension};

use super::flex;

/// A backend that computes `x W + b` with the bias added in the product's output.
#[backend_extension(Flex, Autodiff)]
pub trait FusedLinear: Backend {
    /// `x W + b`: `x` `[N, D_in]`, `weight` `[D_in, D_out]`, `bias` `[D_out]`; the products by
    /// `matrixmultiply` where `packed`, else by `gemm` as burn-flex.
    fn linear_fused(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        packed: bool,
    ) -> FloatTensor<Self>;
}

impl FusedLinear for Flex {
    fn linear_fused(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        packed: bool,
    ) -> FloatTensor<Self> {
        flex::forward(&x, &weight, &bias, packed)
    }
}

/// The backward step: the input, weight and bias gradients, the products by `matrixmultiply`
/// where `packed`.
#[derive(Debug)]
struct LinearBackward {
    packed: bool,
}

impl Backward<Flex, 3> for LinearBackward {
    /// The input and the weight.
    type State = (FloatTensor<Flex>, FloatTensor<Flex>);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_weight, node_bias] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node);
        let (x, weight) = ops.state;
        if let Some(node) = node_x {
            grads.register::<Flex>(node.id, flex::input_grad(&weight, &grad, self.packed));
        }
        if let Some(node) = node_weight {
            grads.register::<Flex>(node.id, flex::weight_grad(&x, &grad, self.packed));
        }
        if let Some(node) = node_bias {
            grads.register::<Flex>(node.id, flex::bias_grad(grad));
        }
    }
}

impl<C: CheckpointStrategy> FusedLinear for Autodiff<Flex, C> {
    fn linear_fused(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        packed: bool,
    ) -> FloatTensor<Self> {
        match (LinearBackward { packed })
            .prepare::<C>([x.node(), weight.node(), bias.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (x, weight) = (x.primitive().clone(), weight.primitive().clone());
                let y = flex::forward(&x, &weight, bias.primitive(), packed);
                prep.finish((x, weight), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(flex::forward(
                x.primitive(),
                weight.primitive(),
                bias.primitive(),
                packed,
            )),
        }
    }
}
