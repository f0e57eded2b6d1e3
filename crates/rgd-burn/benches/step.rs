//! Cost of RGD in a full burn training step, measured interleaved against ERM.
//!
//! One step = forward of an MLP 784-256-256-10 on a batch of 128, per-example cross-entropy,
//! the training loss, backward, and an Adam step. Three variants train their own copy of the
//! same initial model:
//!
//! - `plain`: `loss.mean()`, no `Reweighter` (the no-rgd baseline);
//! - `erm`: `Reweighter` with `RuleConfig::Erm` (reads the losses back, weights all 1);
//! - `rgd`: `Reweighter` with RGD, `tau = 1`.
//!
//! After a warm-up the variants alternate in rounds (`RGD_BENCH_ROUNDS` rounds of `RGD_BENCH_STEPS` steps each,
//! the order rotating every round), so slow drifts of the machine hit all of them alike; the
//! ratios are taken per round and summarised by their median, interquartile range and a
//! distribution-free 95% confidence interval of the median (order statistics).
//!
//! Run with `cargo bench --profile dev -p rgd-burn --bench step` (see `docs/benchmarks.md`).
//! `RGD_BENCH_ROUNDS` and `RGD_BENCH_STEPS` override the defaults (60 and 10).

use std::time::{Duration, Instant};

use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::activation::relu;
use rgd::{RgdConfig, RuleConfig};
use rgd_burn::{Reweighter, loss};

// burn returns freed buffers to the allocator on every op; glibc malloc gives them back to the
// kernel each time and makes a step about 2x slower, mimalloc keeps them.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BATCH: usize = 128;
const INPUTS: usize = 784;
const HIDDEN: usize = 256;
const CLASSES: usize = 10;
const BATCHES: usize = 8;
const WARMUP_STEPS: usize = 20;
const LR: f64 = 1e-3;

#[derive(Module, Debug)]
struct Mlp {
    l1: Linear,
    l2: Linear,
    head: Linear,
}

impl Mlp {
    fn new(device: &Device) -> Self {
        Mlp {
            l1: LinearConfig::new(INPUTS, HIDDEN).init(device),
            l2: LinearConfig::new(HIDDEN, HIDDEN).init(device),
            head: LinearConfig::new(HIDDEN, CLASSES).init(device),
        }
    }

    fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let x = relu(self.l1.forward(x));
        let x = relu(self.l2.forward(x));
        self.head.forward(x)
    }
}

/// A 64-bit LCG (Knuth's MMIX constants): fixed inputs without a dependency.
struct Lcg(u64);

impl Lcg {
    fn next_unit(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// `BATCHES` fixed batches of inputs in `[-1, 1)` and random labels, cycled through by every
/// variant (so the loss does not collapse to 0 on one memorised batch).
fn batches(device: &Device) -> Vec<(Tensor<2>, Tensor<1, Int>)> {
    let mut rng = Lcg(0x2024_0609);
    (0..BATCHES)
        .map(|_| {
            let x: Vec<f32> = (0..BATCH * INPUTS)
                .map(|_| rng.next_unit() * 2.0 - 1.0)
                .collect();
            let y: Vec<i64> = (0..BATCH)
                .map(|_| (rng.next_unit() * CLASSES as f32) as i64 % CLASSES as i64)
                .collect();
            (
                Tensor::from_data(TensorData::new(x, [BATCH, INPUTS]), device),
                Tensor::from_data(TensorData::new(y, [BATCH]), device),
            )
        })
        .collect()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Variant {
    Plain,
    Erm,
    Rgd,
}

impl Variant {
    const ALL: [Variant; 3] = [Variant::Plain, Variant::Erm, Variant::Rgd];

    fn name(self) -> &'static str {
        match self {
            Variant::Plain => "plain mean (no rgd)",
            Variant::Erm => "Reweighter ERM",
            Variant::Rgd => "Reweighter RGD tau=1",
        }
    }
}

struct Trainer {
    variant: Variant,
    model: Option<Mlp>,
    optim: ModuleOptimizer,
    reweighter: Option<Reweighter>,
    last_loss: f64,
    next_batch: usize,
}

impl Trainer {
    fn new(variant: Variant, model: Mlp) -> Self {
        let reweighter = match variant {
            Variant::Plain => None,
            Variant::Erm => Some(Reweighter::new(&RuleConfig::Erm).unwrap()),
            Variant::Rgd => {
                Some(Reweighter::new(&RuleConfig::Rgd(RgdConfig::new().with_tau(1.0))).unwrap())
            }
        };
        Trainer {
            variant,
            model: Some(model),
            optim: AdamConfig::new().with_epsilon(1e-8).init(),
            reweighter,
            last_loss: f64::NAN,
            next_batch: 0,
        }
    }

    fn step(&mut self, x: &Tensor<2>, y: &Tensor<1, Int>) {
        let model = self.model.take().expect("model present between steps");
        let per_example = loss::cross_entropy(model.forward(x.clone()), y.clone(), 0.0).unwrap();
        let train_loss = match self.reweighter.as_mut() {
            None => per_example.mean(),
            Some(r) => {
                let out = r.apply(per_example).unwrap();
                self.last_loss = out.mean_loss();
                out.loss
            }
        };
        let grads = GradientsParams::from_grads(train_loss.backward(), &model);
        self.model = Some(self.optim.step(LR, model, grads));
    }

    fn run(&mut self, steps: usize, data: &[(Tensor<2>, Tensor<1, Int>)]) -> Duration {
        let start = Instant::now();
        for _ in 0..steps {
            let (x, y) = &data[self.next_batch % data.len()];
            self.next_batch += 1;
            self.step(x, y);
        }
        start.elapsed()
    }
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    // Linear interpolation between closest ranks (numpy's default).
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

struct Summary {
    median: f64,
    q1: f64,
    q3: f64,
    min: f64,
    max: f64,
    /// Distribution-free ~95% confidence interval of the median: the order statistics at ranks
    /// `n/2 -+ 1.96 sqrt(n)/2` (normal approximation of the binomial).
    ci: (f64, f64),
}

fn summary(values: &[f64]) -> Summary {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    Summary {
        median: quantile(&v, 0.5),
        q1: quantile(&v, 0.25),
        q3: quantile(&v, 0.75),
        min: v[0],
        max: v[v.len() - 1],
        ci: {
            let n = v.len() as f64;
            let half = 0.98 * n.sqrt();
            let lo = ((n / 2.0 - half).floor().max(1.0) as usize) - 1;
            let hi = ((n / 2.0 + 1.0 + half).ceil() as usize).min(v.len()) - 1;
            (v[lo], v[hi])
        },
    }
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo bench` passes `--bench` (and any filter); this harness takes no arguments.
    let rounds = env_usize("RGD_BENCH_ROUNDS", 60).max(2);
    let steps = env_usize("RGD_BENCH_STEPS", 10).max(1);

    let device = Device::flex().autodiff();
    device.seed(42);
    let init = Mlp::new(&device);
    let data = batches(&device);
    let mut trainers: Vec<Trainer> = Variant::ALL
        .iter()
        .map(|&v| Trainer::new(v, init.clone()))
        .collect();

    println!(
        "MLP {INPUTS}-{HIDDEN}-{HIDDEN}-{CLASSES}, batch {BATCH}, Adam (eps 1e-8, lr {LR}), \
         per-example cross-entropy; burn flex backend + autodiff"
    );
    println!(
        "{rounds} interleaved rounds x {steps} steps per variant (order rotates), \
         after {WARMUP_STEPS} warm-up steps each\n"
    );

    for t in &mut trainers {
        t.run(WARMUP_STEPS, &data);
    }

    // per_round[variant][round] = mean seconds per step in that round.
    let mut per_round = vec![Vec::with_capacity(rounds); Variant::ALL.len()];
    for round in 0..rounds {
        for k in 0..trainers.len() {
            let i = (round + k) % trainers.len();
            let elapsed = trainers[i].run(steps, &data);
            per_round[i].push(elapsed.as_secs_f64() / steps as f64);
        }
    }

    let index = |v: Variant| Variant::ALL.iter().position(|&w| w == v).unwrap();
    let (plain, erm, rgd) = (
        &per_round[index(Variant::Plain)],
        &per_round[index(Variant::Erm)],
        &per_round[index(Variant::Rgd)],
    );

    println!(
        "{:<22} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "variant", "median ms", "q1 ms", "q3 ms", "min ms", "max ms"
    );
    for v in Variant::ALL {
        let s = summary(&per_round[index(v)]);
        println!(
            "{:<22} {:>10.3} {:>10.3} {:>10.3} {:>10.3} {:>10.3}",
            v.name(),
            s.median * 1e3,
            s.q1 * 1e3,
            s.q3 * 1e3,
            s.min * 1e3,
            s.max * 1e3
        );
    }

    let ratios =
        |a: &[f64], b: &[f64]| -> Vec<f64> { a.iter().zip(b).map(|(a, b)| a / b).collect() };
    println!(
        "\n{:<26} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "per-round ratio", "median", "ci95 lo", "ci95 hi", "q1", "q3", "min", "max", "pooled"
    );
    let total = |a: &[f64]| a.iter().sum::<f64>();
    for (name, r, pooled) in [
        (
            "RGD / ERM (Reweighter)",
            ratios(rgd, erm),
            total(rgd) / total(erm),
        ),
        (
            "ERM (Reweighter) / plain",
            ratios(erm, plain),
            total(erm) / total(plain),
        ),
        ("RGD / plain", ratios(rgd, plain), total(rgd) / total(plain)),
    ] {
        let s = summary(&r);
        println!(
            "{:<26} {:>8.4} {:>8.4} {:>8.4} {:>8.4} {:>8.4} {:>8.4} {:>8.4} {:>8.4}",
            name, s.median, s.ci.0, s.ci.1, s.q1, s.q3, s.min, s.max, pooled
        );
    }
    let overhead = summary(&ratios(rgd, erm));
    println!(
        "\nRGD overhead over ERM: {:+.2}% (median of per-round ratios; 95% CI {:+.2}% .. {:+.2}%, \
         IQR {:+.2}% .. {:+.2}%); target < 1%",
        (overhead.median - 1.0) * 100.0,
        (overhead.ci.0 - 1.0) * 100.0,
        (overhead.ci.1 - 1.0) * 100.0,
        (overhead.q1 - 1.0) * 100.0,
        (overhead.q3 - 1.0) * 100.0
    );

    // Where the time goes: one RGD step split into its phases (sequential, after the rounds).
    let phase_steps = steps * 5;
    let t = &mut trainers[index(Variant::Rgd)];
    let r = t.reweighter.as_mut().expect("rgd has a reweighter");
    let mut model = t.model.take().expect("model present");
    let mut phases = [Duration::ZERO; 5];
    for k in 0..phase_steps {
        let (x, y) = &data[k % data.len()];
        let s0 = Instant::now();
        let logits = model.forward(x.clone());
        let s1 = Instant::now();
        let per_example = loss::cross_entropy(logits, y.clone(), 0.0).unwrap();
        let s2 = Instant::now();
        let out = r.apply(per_example).unwrap();
        let s3 = Instant::now();
        let grads = GradientsParams::from_grads(out.loss.backward(), &model);
        let s4 = Instant::now();
        model = t.optim.step(LR, model, grads);
        let s5 = Instant::now();
        for (p, (a, b)) in phases
            .iter_mut()
            .zip([(s0, s1), (s1, s2), (s2, s3), (s3, s4), (s4, s5)])
        {
            *p += b - a;
        }
    }
    t.model = Some(model);
    let total: Duration = phases.iter().sum();
    println!("\nRGD step phases (mean of {phase_steps} steps):");
    for (name, p) in [
        "forward (MLP)",
        "per-example cross-entropy",
        "Reweighter::apply (readback + rule + weights)",
        "backward",
        "Adam step",
    ]
    .iter()
    .zip(phases)
    {
        println!(
            "  {:<46} {:>8.3} ms  {:>5.1}%",
            name,
            p.as_secs_f64() * 1e3 / phase_steps as f64,
            100.0 * p.as_secs_f64() / total.as_secs_f64()
        );
    }

    let losses: Vec<String> = trainers
        .iter()
        .filter(|t| t.variant != Variant::Plain)
        .map(|t| format!("{} {:.4}", t.variant.name(), t.last_loss))
        .collect();
    println!("\n(last mean training loss: {})", losses.join(", "));
}
