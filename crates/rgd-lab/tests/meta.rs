//! Meta-learning against hand-computed references: ProtoNet's episode loss in closed form, one
//! first-order MAML step of a tiny linear model, and detached weights at the example and task
//! levels (finite differences of an independent f64 host model).

use burn::module::Param;
use burn::nn::Linear;
use burn::optim::{GradientsParams, SgdConfig};
use burn::prelude::*;
use rgd::{RgdConfig, RuleConfig};
use rgd_burn::{Reweighter, loss};
use rgd_lab::meta::config::{LearnerConfig, MamlConfig};
use rgd_lab::meta::protonet;
use rgd_lab::meta::train::meta_gradients;

type EpisodeTensors = (Tensor<2>, Tensor<1, Int>, Tensor<2>, Tensor<1, Int>);

fn rows(x: &[[f64; 2]], device: &Device) -> Tensor<2> {
    let v: Vec<f32> = x.iter().flatten().map(|&v| v as f32).collect();
    Tensor::from_data(TensorData::new(v, [x.len(), 2]), device)
}

fn labels(y: &[usize], device: &Device) -> Tensor<1, Int> {
    let v: Vec<i64> = y.iter().map(|&v| v as i64).collect();
    Tensor::from_data(TensorData::new(v, [y.len()]), device)
}

/// A linear layer 2 -> 2 from flat parameters: W row-major (`[in, out]`, burn's layout), then b.
fn linear(p: &[f64], device: &Device) -> Linear {
    let f = |s: &[f64]| s.iter().map(|&v| v as f32).collect::<Vec<f32>>();
    Linear {
        weight: Param::from_data(TensorData::new(f(&p[..4]), [2, 2]), device),
        bias: Some(Param::from_data(TensorData::new(f(&p[4..]), [2]), device)),
    }
}

fn flat(model: &Linear) -> Vec<f64> {
    let mut out: Vec<f64> = model
        .weight
        .val()
        .into_data()
        .try_to_vec::<f32>()
        .unwrap()
        .into_iter()
        .map(f64::from)
        .collect();
    let b = model.bias.as_ref().unwrap().val().into_data();
    out.extend(b.try_to_vec::<f32>().unwrap().into_iter().map(f64::from));
    out
}

fn flat_grads(model: &Linear, grads: &GradientsParams) -> Vec<f64> {
    let w = grads.get::<2>(model.weight.id).unwrap();
    let b = grads.get::<1>(model.bias.as_ref().unwrap().id).unwrap();
    let mut out: Vec<f64> = w
        .into_data()
        .try_to_vec::<f32>()
        .unwrap()
        .into_iter()
        .map(f64::from)
        .collect();
    out.extend(
        b.into_data()
            .try_to_vec::<f32>()
            .unwrap()
            .into_iter()
            .map(f64::from),
    );
    out
}

/// Host f64: outputs of the linear layer for one row.
fn host_forward(p: &[f64], x: &[f64; 2]) -> [f64; 2] {
    [
        x[0] * p[0] + x[1] * p[2] + p[4],
        x[0] * p[1] + x[1] * p[3] + p[5],
    ]
}

fn log_softmax(z: &[f64]) -> Vec<f64> {
    let m = z.iter().cloned().fold(f64::MIN, f64::max);
    let lse = m + z.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
    z.iter().map(|v| v - lse).collect()
}

/// Host f64: mean cross-entropy of the linear classifier and its gradient (closed form:
/// dL/dW[i][c] = mean over rows of x_i (p_c - [c = y]), dL/db[c] = mean of (p_c - [c = y])).
fn host_ce_grad(p: &[f64], x: &[[f64; 2]], y: &[usize]) -> Vec<f64> {
    let mut g = [0.0; 6];
    for (xi, &yi) in x.iter().zip(y) {
        let ls = log_softmax(&host_forward(p, xi));
        for c in 0..2 {
            let d = ls[c].exp() - if c == yi { 1.0 } else { 0.0 };
            g[c] += xi[0] * d;
            g[2 + c] += xi[1] * d;
            g[4 + c] += d;
        }
    }
    g.iter().map(|v| v / x.len() as f64).collect()
}

#[test]
fn protonet_episode_loss_equals_its_closed_form() {
    let device = Device::flex();
    // 2-way 2-shot, identity embedding: prototypes c0 = (1, 0), c1 = (0, 3).
    let support = rows(&[[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [0.0, 4.0]], &device);
    let query = rows(&[[1.0, 1.0], [0.0, 2.0], [3.0, 3.0]], &device);
    let y = labels(&[0, 1, 1], &device);
    let logits = protonet::episode_logits(|x| x, support, query, 2, 2);
    let losses = loss::cross_entropy(logits, y, 0.0).unwrap().into_tensor();
    let got = losses.into_data().try_to_vec::<f32>().unwrap();
    // l(x, y) = d(x, c_y) + log Σ_k exp(-d(x, c_k)), d = squared distance.
    let closed = |d_true: f64, d_other: f64| d_true + ((-d_true).exp() + (-d_other).exp()).ln();
    let expected = [closed(1.0, 5.0), closed(1.0, 5.0), closed(9.0, 13.0)];
    for (g, e) in got.iter().zip(expected) {
        assert!((f64::from(*g) - e).abs() < 1e-5, "{got:?} vs {expected:?}");
    }
}

/// Two 2-way 1-shot episodes with two queries each.
const SUPPORT: [[[f64; 2]; 2]; 2] = [[[1.0, 0.5], [-0.5, 1.0]], [[0.3, -1.2], [2.0, 0.1]]];
const QUERY: [[[f64; 2]; 4]; 2] = [
    [[0.8, 0.2], [1.1, -0.3], [-0.2, 0.9], [0.1, 1.4]],
    [[0.5, -0.8], [-0.3, -1.0], [1.7, 0.4], [1.2, -0.2]],
];
const QUERY_Y: [usize; 4] = [0, 0, 1, 1];
const P0: [f64; 6] = [0.4, -0.3, 0.1, 0.6, 0.05, -0.1];

fn episodes(device: &Device) -> Vec<EpisodeTensors> {
    (0..2)
        .map(|e| {
            (
                rows(&SUPPORT[e], device),
                labels(&[0, 1], device),
                rows(&QUERY[e], device),
                labels(&QUERY_Y, device),
            )
        })
        .collect()
}

#[test]
fn one_first_order_maml_step_of_a_linear_model_equals_the_hand_computed_update() {
    let device = Device::flex().autodiff();
    let (alpha, beta, inner_steps) = (0.5, 0.1, 2);
    let model = linear(&P0, &device);
    let mut erm_ex = Reweighter::new(&RuleConfig::Erm).unwrap();
    let mut erm_task = Reweighter::new(&RuleConfig::Erm).unwrap();
    let (grads, out) = meta_gradients(
        LearnerConfig::Maml(MamlConfig {
            inner_steps,
            inner_lr: alpha,
        }),
        &model,
        &|m: &Linear, x| m.forward(x),
        2,
        1,
        &episodes(&device),
        &mut erm_ex,
        &mut erm_task,
    )
    .unwrap();
    assert_eq!(out.task.losses.len(), 2);
    let updated = SgdConfig::new().init().step(beta, model, grads);

    // By hand: θ'_e = θ - α ∇L_support_e (twice), g_e = ∇L_query_e(θ'_e),
    // θ_new = θ - β (g_1 + g_2) / 2 (the outer gradient ignores second derivatives).
    let mut outer = [0.0; 6];
    for e in 0..2 {
        let mut p = P0.to_vec();
        for _ in 0..inner_steps {
            let g = host_ce_grad(&p, &SUPPORT[e], &[0, 1]);
            p.iter_mut().zip(&g).for_each(|(v, g)| *v -= alpha * g);
        }
        let g = host_ce_grad(&p, &QUERY[e], &QUERY_Y);
        outer.iter_mut().zip(&g).for_each(|(o, g)| *o += g / 2.0);
    }
    let expected: Vec<f64> = P0.iter().zip(&outer).map(|(p, g)| p - beta * g).collect();
    let got = flat(&updated);
    for (g, e) in got.iter().zip(&expected) {
        assert!((g - e).abs() < 1e-5, "{got:?} vs {expected:?}");
    }
    // The meta-parameters moved: the step is not a no-op.
    assert!(got.iter().zip(&P0).any(|(g, p)| (g - p).abs() > 1e-3));
}

/// Host f64 ProtoNet losses of the linear embedding: per episode, the per-query losses.
fn host_protonet_losses(p: &[f64]) -> Vec<Vec<f64>> {
    (0..2)
        .map(|e| {
            let protos: Vec<[f64; 2]> = SUPPORT[e].iter().map(|x| host_forward(p, x)).collect();
            QUERY[e]
                .iter()
                .zip(QUERY_Y)
                .map(|(x, y)| {
                    let q = host_forward(p, x);
                    let z: Vec<f64> = protos
                        .iter()
                        .map(|c| -((q[0] - c[0]).powi(2) + (q[1] - c[1]).powi(2)))
                        .collect();
                    -log_softmax(&z)[y]
                })
                .collect()
        })
        .collect()
}

fn finite_differences(p: &[f64], f: impl Fn(&[f64]) -> f64) -> Vec<f64> {
    let h = 1e-6;
    (0..p.len())
        .map(|k| {
            let (mut up, mut down) = (p.to_vec(), p.to_vec());
            up[k] += h;
            down[k] -= h;
            (f(&up) - f(&down)) / (2.0 * h)
        })
        .collect()
}

fn rgd_weight(l: f64, tau: f64) -> f64 {
    (l.clamp(0.0, tau) / (tau + 1.0)).exp()
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// Each episode's mean of its example losses times their weights.
fn episode_losses(losses: &[Vec<f64>], weights: &[Vec<f64>]) -> Vec<f64> {
    (losses.iter().zip(weights))
        .map(|(ls, ws)| ls.iter().zip(ws).map(|(l, w)| l * w).sum::<f64>() / ls.len() as f64)
        .collect()
}

/// RGD at `level` on ProtoNet with the linear embedding: the autodiff gradient equals finite
/// differences of the weighted loss with the weights held at their values (detached), and
/// differs from the gradient through the weights.
fn check_detached(level: &str) {
    let tau = 10.0; // no loss is clipped: every weight depends on its loss
    let device = Device::flex().autodiff();
    let model = linear(&P0, &device);
    let rgd = RuleConfig::Rgd(RgdConfig::new().with_tau(tau));
    let (ex, task) = if level == "task" {
        (RuleConfig::Erm, rgd)
    } else {
        (rgd, RuleConfig::Erm)
    };
    let mut ex = Reweighter::new(&ex).unwrap();
    let mut task = Reweighter::new(&task).unwrap();
    let (grads, out) = meta_gradients(
        LearnerConfig::Protonet(Default::default()),
        &model,
        &|m: &Linear, x| m.forward(x),
        2,
        1,
        &episodes(&device),
        &mut ex,
        &mut task,
    )
    .unwrap();
    let autodiff = flat_grads(&model, &grads);

    // RGD weights at one level, 1 at the other: (example weights per episode, task weights).
    let weights_of = |losses: &[Vec<f64>]| -> (Vec<Vec<f64>>, Vec<f64>) {
        let at = |lvl: &str, l: f64| {
            if level == lvl {
                rgd_weight(l, tau)
            } else {
                1.0
            }
        };
        let ex_w: Vec<Vec<f64>> = (losses.iter())
            .map(|ls| ls.iter().map(|&l| at("example", l)).collect())
            .collect();
        let task_w = episode_losses(losses, &ex_w)
            .iter()
            .map(|&l| at("task", l))
            .collect();
        (ex_w, task_w)
    };
    // The weighted loss of the host model, with weights either fixed at θ0 or recomputed.
    let weighted = |p: &[f64], fixed: Option<&(Vec<Vec<f64>>, Vec<f64>)>| -> f64 {
        let losses = host_protonet_losses(p);
        let (ex_w, task_w) = fixed.cloned().unwrap_or_else(|| weights_of(&losses));
        let episode = episode_losses(&losses, &ex_w);
        episode.iter().zip(&task_w).map(|(l, v)| l * v).sum::<f64>() / episode.len() as f64
    };
    // Weights at θ0 from the host model; they match the rule's.
    let (ex_w0, task_w0) = weights_of(&host_protonet_losses(&P0));
    for (w, v) in out.task.weights.iter().zip(&task_w0) {
        assert!((f64::from(*w) - v).abs() < 1e-5, "task weights");
    }
    let flat_ex: Vec<f64> = ex_w0.iter().flatten().copied().collect();
    for (w, v) in out.example_weights.iter().zip(&flat_ex) {
        assert!((f64::from(*w) - v).abs() < 1e-5, "example weights");
    }
    let fixed = (ex_w0, task_w0);
    let detached = finite_differences(&P0, |p| weighted(p, Some(&fixed)));
    let through = finite_differences(&P0, |p| weighted(p, None));
    assert!(
        max_abs_diff(&autodiff, &detached) < 1e-4,
        "{level}: autodiff {autodiff:?} vs detached {detached:?}"
    );
    assert!(
        max_abs_diff(&autodiff, &through) > 1e-3,
        "{level}: the check has no teeth ({autodiff:?} vs {through:?})"
    );
}

#[test]
fn task_level_weights_are_detached() {
    check_detached("task");
}

#[test]
fn example_level_weights_are_detached() {
    check_detached("example");
}
