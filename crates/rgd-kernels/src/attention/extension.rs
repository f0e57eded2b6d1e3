//! Attention as a burn backend extension: the forward on Flex, and on `Autodiff<Flex>` the
//! forward with a hand-written backward for the queries, keys and values.

use burn::backend::autodiff::{
    Autodiff,
    checkpoint::{base::Checkpointer, strategy::CheckpointStrategy},
    grads::Gradients,
    ops::{Backward, Ops, OpsKind},
};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Flex, backend_extension};

use super::flex::{self, Heads, Probs};

/// A backend that computes multi-head scaled dot-product attention in one pass.
#[backend_extension(Flex, Autodiff)]
pub trait FusedAttention: Backend {
    /// `softmax(QKᵀ/√Dh, masked keys at min_float) V` per head: `q`, `k`, `v` `[B, T, D]`, `mask`
    /// `B·T` flags (true: a padding key), output `[B, T, D]`.
    fn attention_fused(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        heads: usize,
        mask: Option<Vec<bool>>,
        min_float: f32,
    ) -> FloatTensor<Self>;
}

fn heads_of(q: &FloatTensor<Flex>, heads: usize) -> Heads {
    Heads::of(q.layout().shape(), heads).expect("shapes the router checked")
}

impl FusedAttention for Flex {
    fn attention_fused(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        heads: usize,
        mask: Option<Vec<bool>>,
        min_float: f32,
    ) -> FloatTensor<Self> {
        let s = heads_of(&q, heads);
        flex::forward(&q, &k, &v, &s, mask.as_deref(), min_float).0
    }
}

/// What the backward needs: the inputs, the probabilities, the shapes and the mask.
type Saved = ([FloatTensor<Flex>; 3], Probs, Heads, Option<Vec<bool>>);

#[derive(Debug)]
struct AttentionBackward;

impl Backward<Flex, 3> for AttentionBackward {
    type State = Saved;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = grads.consume::<Flex>(&ops.node);
        let ([q, k, v], probs, s, mask) = ops.state;
        let ds = flex::backward(&q, &k, &v, &probs, &s, mask.as_deref(), &grad);
        for (node, d) in ops.parents.into_iter().zip(ds) {
            if let Some(node) = node {
                grads.register::<Flex>(node.id, d);
            }
        }
    }
}

impl<C: CheckpointStrategy> FusedAttention for Autodiff<Flex, C> {
    fn attention_fused(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        heads: usize,
        mask: Option<Vec<bool>>,
        min_float: f32,
    ) -> FloatTensor<Self> {
        let s = heads_of(q.primitive(), heads);
        match AttentionBackward
            .prepare::<C>([q.node(), k.node(), v.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let inputs = [q, k, v].map(|t| t.primitive().clone());
                let [q, k, v] = &inputs;
                let (out, probs) = flex::forward(q, k, v, &s, mask.as_deref(), min_float);
                prep.finish((inputs, probs, s, mask), out)
            }
            OpsKind::UnTracked(prep) => {
                let (q, k, v) = (q.primitive(), k.primitive(), v.primitive());
                prep.finish(flex::forward(q, k, v, &s, mask.as_deref(), min_float).0)
            }
        }
    }
}
