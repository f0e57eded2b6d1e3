//! Prototypical Networks (Snell, Swersky, Zemel, NeurIPS 2017).
//!
//! An episode's support examples are embedded and averaged per class into prototypes
//! `c_k = (1/K) Σ_{support of k} f(x)`; a query `x` gets the logits
//! `z_k = -||f(x) - c_k||²` and the per-query loss is the cross-entropy of those logits:
//! `l(x, y) = ||f(x) - c_y||² + log Σ_k exp(-||f(x) - c_k||²)`.

use burn::prelude::*;

/// Query logits `[Q_total, ways]` of one episode: the support rows (`[ways * shots, features]`,
/// ordered by class, then shot) and the query rows are embedded in one pass of `embed`, and each
/// query embedding is compared with the prototypes of the support embeddings.
///
/// ```
/// use burn::prelude::*;
/// let device = Device::flex();
/// // Two classes, one shot each: prototypes (0, 0) and (2, 0).
/// let support = Tensor::<2>::from_floats([[0.0, 0.0], [2.0, 0.0]], &device);
/// let query = Tensor::<2>::from_floats([[1.0, 1.0]], &device);
/// let z = rgd_lab::meta::protonet::episode_logits(|x| x, support, query, 2, 1);
/// assert_eq!(z.into_data().try_to_vec::<f32>().unwrap(), vec![-2.0, -2.0]);
/// ```
pub fn episode_logits(
    embed: impl Fn(Tensor<2>) -> Tensor<2>,
    support: Tensor<2>,
    query: Tensor<2>,
    ways: usize,
    shots: usize,
) -> Tensor<2> {
    let (n_support, q) = (support.dims()[0], query.dims()[0]);
    let embedded = embed(Tensor::cat(vec![support, query], 0));
    let support = embedded.clone().narrow(0, 0, n_support);
    let query = embedded.narrow(0, n_support, q);
    let d = support.dims()[1];
    let prototypes = support
        .reshape([ways, shots, d])
        .mean_dim(1)
        .reshape([1, ways, d]);
    let diff = query.reshape([q, 1, d]).expand([q, ways, d]) - prototypes.expand([q, ways, d]);
    diff.powi_scalar(2).sum_dim(2).reshape([q, ways]).neg()
}
