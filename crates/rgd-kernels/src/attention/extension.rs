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

use super::flex::{self, Heads, MaskSlices, Probs};

/// A backend that computes multi-head scaled dot-product attention in one pass.
#[backend_extension(Flex, Autodiff)]
pub trait FusedAttention: Backend {
    /// `(softmax(QKᵀ/√Dh, masked keys at min_float) ⊙ M) V` per head: `q`, `k`, `v`
    /// `[B, T, D]`, `mask` `B·T` flags (true: a padding key), `dropout` the `B·H·T·T` scaled
    /// keep factors `M` (none: all ones), output `[B, T, D]`.
    fn attention_fused(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        heads: usize,
        mask: Option<Vec<bool>>,
        dropout: Option<Vec<f32>>,
        min_float: f32,
    ) -> FloatTensor<Self>;
}

fn heads_of(q: &FloatTensor<Flex>, heads: usize) -> Heads {
    Heads::of(q.layout().shape(), heads).expect("shapes the router checked")
}

/// The borrowed masks of the owned ones.
fn masks<'a>(mask: &'a Option<Vec<bool>>, dropout: &'a Option<Vec<f32>>) -> MaskSlices<'a> {
    MaskSlices {
        padding: mask.as_deref(),
        dropout: dropout.as_deref(),
    }
}

impl FusedAttention for Flex {
    fn attention_fused(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        heads: usize,
        mask: Option<Vec<bool>>,
        dropout: Option<Vec<f32>>,
        min_float: f32,
    ) -> FloatTensor<Self> {
        let s = heads_of(&q, heads);
        flex::forward(&q, &k, &v, &s, masks(&mask, &dropout), min_float).0
    }
}

/// What the backward needs: the inputs, the probabilities, the shapes and the two masks.
type Saved = (
    [FloatTensor<Flex>; 3],
    Probs,
    Heads,
    Option<Vec<bool>>,
    Option<Vec<f32>>,
);

#[derive(Debug)]
struct AttentionBackward;

impl Backward<Flex, 3> for AttentionBackward {
    type State = Saved;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = grads.consume::<Flex>(&ops.node);
        let ([q, k, v], probs, s, mask, dropout) = ops.state;
        let ds = flex::backward(&q, &k, &v, &probs, &s, masks(&mask, &dropout), &grad);
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
        dropout: Option<Vec<f32>>,
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
                let (out, probs) = flex::forward(q, k, v, &s, masks(&mask, &dropout), min_float);
                prep.finish((inputs, probs, s, mask, dropout), out)
            }
            OpsKind::UnTracked(prep) => {
                let (q, k, v) = (q.primitive(), k.primitive(), v.primitive());
                let masks = masks(&mask, &dropout);
                prep.finish(flex::forward(q, k, v, &s, masks, min_float).0)
            }
        }
    }
}
