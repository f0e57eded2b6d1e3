//! The convolution as a burn backend extension: the forward on Flex, and on `Autodiff<Flex>` the
//! forward with a hand-written backward that computes the gradients as matrix products.

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

/// A backend that computes a 2-D convolution (no groups) as im2col matrix products, with its
/// bias and, where asked, the ReLU after it in the same pass over the output.
#[backend_extension(Flex, Autodiff)]
pub trait GemmConv: Backend {
    /// `conv2d(x, weight) + bias`, then `max(·, 0)` where `relu`: `x` `[B, C, H, W]`, `weight`
    /// `[C_out, C, KH, KW]`, `bias` `[C_out]`.
    fn conv2d_gemm(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        options: ConvOptions<2>,
        relu: bool,
    ) -> FloatTensor<Self>;
}

impl GemmConv for Flex {
    fn conv2d_gemm(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        options: ConvOptions<2>,
        relu: bool,
    ) -> FloatTensor<Self> {
        flex::forward(&x, &weight, &bias, &options, relu)
    }
}

/// The backward step: the output gradient masked by the ReLU (where there is one), then the
/// bias, input and weight gradients.
#[derive(Debug)]
struct ConvBackward;

/// What the backward keeps: the input, the weight, the output where a ReLU followed, the options.
type Saved = (
    FloatTensor<Flex>,
    FloatTensor<Flex>,
    Option<FloatTensor<Flex>>,
    ConvOptions<2>,
);

impl Backward<Flex, 3> for ConvBackward {
    type State = Saved;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_weight, node_bias] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node);
        let (x, weight, output, options) = ops.state;
        let grad = match output {
            Some(y) => flex::relu_grad(&y, grad),
            None => grad,
        };
        if let Some(node) = node_bias {
            grads.register::<Flex>(node.id, flex::bias_grad(&grad));
        }
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
        bias: FloatTensor<Self>,
        options: ConvOptions<2>,
        relu: bool,
    ) -> FloatTensor<Self> {
        match ConvBackward
            .prepare::<C>([x.node(), weight.node(), bias.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (x, weight) = (x.primitive().clone(), weight.primitive().clone());
                let y = flex::forward(&x, &weight, bias.primitive(), &options, relu);
                let output = relu.then(|| y.clone());
                prep.finish((x, weight, output, options), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(flex::forward(
                x.primitive(),
                weight.primitive(),
                bias.primitive(),
                &options,
                relu,
            )),
        }
    }
}
