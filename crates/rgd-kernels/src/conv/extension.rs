//! The convolution as a burn backend extension: the forward on Flex, and on `Autodiff<Flex>` the
//! forward with a hand-written backward that computes both gradients as matrix products.

use burn::backend::autodiff::{
    Autodiff,
    checkpoint::{base::Checkpointer, strategy::CheckpointStrategy},
    grads::Gradients,
    ops::{Backward, Ops, OpsKind},
};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Flex, backend_extension};
use burn::tensor::ops::ConvOptions;

use super::flex;

/// A backend that computes a 2-D convolution (no bias, no groups) as im2col matrix products.
#[backend_extension(Flex, Autodiff)]
pub trait GemmConv: Backend {
    /// `conv2d(x, weight)` without bias: `x` `[B, C, H, W]`, `weight` `[C_out, C, KH, KW]`.
    fn conv2d_gemm(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self>;
}

impl GemmConv for Flex {
    fn conv2d_gemm(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        flex::forward(&x, &weight, &options)
    }
}

/// The backward step: the input and weight gradients from the saved input and weight.
#[derive(Debug)]
struct ConvBackward;

impl Backward<Flex, 2> for ConvBackward {
    type State = (FloatTensor<Flex>, FloatTensor<Flex>, ConvOptions<2>);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_weight] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node);
        let (x, weight, options) = ops.state;
        if let Some(node) = node_x {
            let dx = flex::input_grad(&x, &weight, &grad, &options);
            grads.register::<Flex>(node.id, dx);
        }
        if let Some(node) = node_weight {
            let dw = flex::weight_grad(&x, &weight, &grad, &options);
            grads.register::<Flex>(node.id, dw);
        }
    }
}

impl<C: CheckpointStrategy> GemmConv for Autodiff<Flex, C> {
    fn conv2d_gemm(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        match ConvBackward
            .prepare::<C>([x.node(), weight.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (x, weight) = (x.primitive().clone(), weight.primitive().clone());
                let y = flex::forward(&x, &weight, &options);
                prep.finish((x, weight, options), y)
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(flex::forward(x.primitive(), weight.primitive(), &options))
            }
        }
    }
}
