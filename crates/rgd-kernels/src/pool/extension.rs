//! The pooling as a burn backend extension: the forward on Flex, and on `Autodiff<Flex>` the
//! forward that keeps each output's argmax for the backward.

use burn::backend::autodiff::{
    Autodiff,
    checkpoint::{base::Checkpointer, strategy::CheckpointStrategy},
    grads::Gradients,
    ops::{Backward, Ops, OpsKind},
};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Flex, backend_extension};

use super::flex;

/// A backend that max-pools over non-overlapping windows in one pass per plane.
#[backend_extension(Flex, Autodiff)]
pub trait FastPool: Backend {
    /// Max pooling of `x` `[B, C, H, W]` over `window`, stride `window`, no padding.
    fn max_pool2d_fast(x: FloatTensor<Self>, window: [usize; 2]) -> FloatTensor<Self>;
}

impl FastPool for Flex {
    fn max_pool2d_fast(x: FloatTensor<Self>, window: [usize; 2]) -> FloatTensor<Self> {
        flex::forward(&x, window).0
    }
}

/// The backward step: each output's gradient to its argmax.
#[derive(Debug)]
struct PoolBackward;

/// What the backward keeps: each output's argmax within its plane, and the input's shape.
type Saved = (Vec<u32>, [usize; 4]);

impl Backward<Flex, 1> for PoolBackward {
    type State = Saved;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node);
        let (argmax, shape) = ops.state;
        if let Some(node) = node_x {
            grads.register::<Flex>(node.id, flex::backward(&grad, &argmax, shape));
        }
    }
}

impl<C: CheckpointStrategy> FastPool for Autodiff<Flex, C> {
    fn max_pool2d_fast(x: FloatTensor<Self>, window: [usize; 2]) -> FloatTensor<Self> {
        match PoolBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (y, argmax) = flex::forward(x.primitive(), window);
                let shape = crate::flex_data::shape4(x.primitive());
                prep.finish((argmax, shape), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(flex::forward(x.primitive(), window).0),
        }
    }
}
