//! `rgd bench speed`: how fast one training step of the lab's models runs, ERM and RGD.
//!
//! A step is the engine's own step ([`crate::engine::train_step`] on the lab's supervised task,
//! [`crate::train::Supervised`]): the next batch of the epoch's shuffled order gathered into
//! tensors, forward, per-example cross-entropy, reweighting (the losses are read back to the
//! host, the rule computes the weights, `mean(w * l)` is formed with the weights detached),
//! backward, the optimizer step (Adam, PyTorch's epsilon 1e-8) and the task's weight
//! statistics. ERM is the same code with the rule whose weights are all 1, so the RGD/ERM ratio
//! is the cost of the reweighting alone.
//!
//! Timing: `warmup` steps of each rule first (not timed), then `repetitions` pairs of timed
//! repetitions of `steps` steps, interleaved ERM, RGD, RGD, ERM, ERM, RGD, ... so that a load
//! change on the machine, or an order effect within a pair, hits both rules alike; the
//! reported RGD/ERM ratio is the median of the per-pair ratios, with their minimum and maximum.
//!
//! Inputs are a synthetic fixed-seed pool of the Fashion-MNIST shapes (`[784]` for the MLP,
//! `[1, 28, 28]` for the CNN and the ViT, 10 classes), or for MiniLM token rows padded to 48:
//! speed does not depend on the values (only on the padded length).
//!
//! Threads: burn's `flex` backend (its matrix products through `gemm`, its reductions) runs on
//! rayon's global pool, whose size is read from `RAYON_NUM_THREADS` when the pool is first used.
//! `--threads N` sets that variable before any tensor is made; it must be the first thing the
//! process computes (the `rgd` binary and the `bench_speed` example call [`speed_on`] before
//! touching burn). Setting `RAYON_NUM_THREADS` in the environment does the same.

use std::time::Instant;

mod models;

use burn::prelude::*;
use rgd::{RgdConfig, RuleConfig};
use rgd_data::Dataset;
use serde::Serialize;
use statrs::statistics::{Data, Median};

use crate::LabError;
use crate::config::{AdamConfig, MethodConfig, OptimConfig, Optimizer, RunConfig, TrainConfig};
use crate::data::PreparedData;
use crate::device::DeviceChoice;
use crate::engine::{Observer, train_step};
use crate::model::Model;
use crate::optim::build_optimizer;
use crate::train::{Supervised, WeightTrace};
use models::{bench_model, step_flops, synthetic};

/// Options of `rgd bench speed`.
#[derive(clap::Args, Debug, Clone)]
pub struct SpeedArgs {
    /// Models to time: mlp (784-256-256-10, batch 128), cnn (conv32-conv64-128-10, batch 64),
    /// cnn-burn (the same CNN on burn's own convolution and its default backward, not the gemm
    /// kernel of `rgd_kernels::conv`), vit (patch 7, width 128, 4 pre-norm layers of 4 heads,
    /// feed-forward 256, batch 64), vit-packed (the same ViT with the dense layers' products by
    /// `matrixmultiply`, `model.kernels = "packed"`), vit-burn (the same ViT on burn-nn's encoder
    /// layers, not the fused attention and GELU of `rgd_kernels`), minilm (MiniLM-L6 fine-tuned
    /// end to end with fresh weights and dropout 0.1, token rows padded to 48, batch 32; reads no
    /// file), minilm-packed and minilm-burn (its two other encoder paths).
    #[arg(long, value_delimiter = ',', default_value = "mlp,cnn")]
    pub models: Vec<String>,
    /// Timed steps per repetition.
    #[arg(long, default_value_t = 50)]
    pub steps: usize,
    /// Repetitions of each rule (interleaved ERM, RGD, ERM, RGD, ...).
    #[arg(long, default_value_t = 5)]
    pub repetitions: usize,
    /// Untimed warm-up steps of each rule before the first repetition.
    #[arg(long, default_value_t = 10)]
    pub warmup: usize,
    /// Compute threads (rayon's global pool; sets RAYON_NUM_THREADS). Default: rayon's own
    /// choice (RAYON_NUM_THREADS if set, else one per logical CPU).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Override the model's batch size (default: 128 for the MLP, 64 for the CNN).
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// RGD's tau.
    #[arg(long, default_value_t = 1.0)]
    pub tau: f64,
    /// Seed of the synthetic data and of the initialisation.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// Timings of one model.
#[derive(Debug, Clone, Serialize)]
pub struct ModelSpeed {
    /// `mlp` or `cnn`.
    pub model: String,
    /// Examples per step.
    pub batch_size: usize,
    /// Trainable parameters.
    pub parameters: usize,
    /// Matrix-product FLOPs of one training step (forward, input and weight gradients).
    pub flops_per_step: f64,
    /// ERM steps per second, the median over repetitions.
    pub erm_steps_per_sec: f64,
    /// RGD steps per second, the median over repetitions.
    pub rgd_steps_per_sec: f64,
    /// ERM examples per second.
    pub erm_samples_per_sec: f64,
    /// RGD examples per second.
    pub rgd_samples_per_sec: f64,
    /// Achieved GFLOP/s of ERM steps.
    pub erm_gflops: f64,
    /// Achieved GFLOP/s of RGD steps.
    pub rgd_gflops: f64,
    /// Median over the interleaved pairs of RGD time / ERM time.
    pub rgd_erm_ratio: f64,
    /// Smallest per-pair ratio.
    pub rgd_erm_ratio_min: f64,
    /// Largest per-pair ratio.
    pub rgd_erm_ratio_max: f64,
    /// Seconds of each ERM repetition.
    pub erm_rep_secs: Vec<f64>,
    /// Seconds of each RGD repetition.
    pub rgd_rep_secs: Vec<f64>,
    /// Peak resident memory of the process so far (VmHWM, MiB); per model only when the
    /// process benchmarks one model.
    pub peak_rss_mib: f64,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct SpeedReport {
    /// Size of rayon's global pool the steps ran on.
    pub threads: usize,
    /// Timed steps per repetition.
    pub steps: usize,
    /// Repetitions per rule.
    pub repetitions: usize,
    /// Warm-up steps per rule.
    pub warmup: usize,
    /// The backend.
    pub device: String,
    /// CPU model and the instruction set the kernels ran on (as a suite's provenance names it).
    pub machine: String,
    /// One entry per model.
    pub models: Vec<ModelSpeed>,
}

/// Peak resident memory of this process (VmHWM of `/proc/self/status`), in MiB; 0 where the
/// file does not exist.
pub fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Sets the size of rayon's global pool through `RAYON_NUM_THREADS`; an error if it is
/// already set to something else.
fn set_threads(threads: Option<usize>) -> Result<usize, LabError> {
    if let Some(n) = threads {
        crate::config::check(n > 0, || "--threads must be at least 1".into())?;
        match std::env::var("RAYON_NUM_THREADS") {
            Ok(v) => crate::config::check(v.trim() == n.to_string(), || {
                format!(
                    "--threads {n} contradicts RAYON_NUM_THREADS={v} in the environment; unset \
                     one of them"
                )
            })?,
            // SAFETY: `speed_on` runs before the process starts any thread (it is the command
            // the binary dispatches to right after parsing its arguments), so no other thread
            // reads the environment concurrently; rayon reads the variable when its global
            // pool is first used, which is after this.
            Err(_) => unsafe { std::env::set_var("RAYON_NUM_THREADS", n.to_string()) },
        }
    }
    Ok(crate::device::cpu_threads())
}

/// One rule's training on the synthetic pool, its model and optimizer (see the module docs).
struct Runner<'a> {
    task: Supervised<'a>,
    /// The weight statistics every step of a run adds to (the loop's one per-step observer
    /// besides the progress bar and the metrics log's every-`log_every` row).
    trace: WeightTrace,
    model: Model,
    optimizer: burn::optim::ModuleOptimizer,
    clip: f64,
    step: u64,
}

impl<'a> Runner<'a> {
    fn new(config: &'a RunConfig, data: &Dataset, device: &Device) -> Result<Self, LabError> {
        device.seed(config.seed);
        // No evaluation runs: the validation and test splits are empty.
        let prepared = PreparedData {
            train: data.clone(),
            valid: data.subset(&[]),
            test: data.subset(&[]),
            schema: None,
            standardizer: None,
            train_flipped: None,
        };
        let task = Supervised::new(config, prepared, device.clone(), Vec::new(), device.clone())?;
        Ok(Runner {
            task,
            trace: WeightTrace::default(),
            model: Model::new(&config.model, &data.example_shape, 10, device)?,
            optimizer: build_optimizer(&config.optim),
            clip: config.optim.clip_grad_norm,
            step: 0,
        })
    }

    /// Seconds of `steps` training steps on the next batches of the task's epoch order (each
    /// the engine's step and the weight trace's share of it), the device synchronised at the end.
    fn time(&mut self, steps: usize, device: &Device) -> Result<f64, LabError> {
        let started = Instant::now();
        for _ in 0..steps {
            let (model, out) = train_step(
                &mut self.task,
                self.model.clone(),
                &mut self.optimizer,
                self.step,
                1e-3,
                self.clip,
                false,
            )?;
            self.trace
                .stepped(&self.task, self.step, 1e-3, &out, None)?;
            self.model = model;
            self.step += 1;
        }
        device
            .sync()
            .map_err(|e| LabError::Device(format!("device sync failed: {e:?}")))?;
        Ok(started.elapsed().as_secs_f64())
    }
}

fn median(values: &[f64]) -> f64 {
    Data::new(values.to_vec()).median()
}

/// Benchmarks one model.
fn bench_one(args: &SpeedArgs, name: &str, device: &Device) -> Result<ModelSpeed, LabError> {
    let (config, shape, default_batch) = bench_model(name)?;
    let batch = args.batch_size.unwrap_or(default_batch);
    crate::config::check(batch > 0 && args.steps > 0 && args.repetitions > 0, || {
        "--batch-size, --steps and --repetitions must be at least 1".into()
    })?;
    let tokens = config.reads_token_ids();
    let data = synthetic(&shape, (batch * 16).max(2048), args.seed, tokens);
    let run_config = |rule| RunConfig {
        seed: args.seed,
        model: config.clone(),
        optim: OptimConfig {
            algorithm: Optimizer::Adam(AdamConfig::default()),
            weight_decay: 0.0,
            ..OptimConfig::default()
        },
        method: MethodConfig {
            rule,
            ..MethodConfig::default()
        },
        train: TrainConfig {
            batch_size: batch,
            drop_last: true,
            ..TrainConfig::default()
        },
        ..RunConfig::default()
    };
    let rgd = RuleConfig::Rgd(RgdConfig::new().with_tau(args.tau));
    let configs = [RuleConfig::Erm, rgd].map(run_config);
    let mut runners = [
        Runner::new(&configs[0], &data, device)?,
        Runner::new(&configs[1], &data, device)?,
    ];
    let parameters = runners[0].model.num_params();
    for runner in &mut runners {
        runner.time(args.warmup, device)?;
    }
    let mut secs = [Vec::new(), Vec::new()];
    // ABBA order: ERM first in even pairs, RGD first in odd ones (see the module docs).
    for k in 0..args.repetitions {
        for r in [k % 2, 1 - k % 2] {
            secs[r].push(runners[r].time(args.steps, device)?);
        }
    }
    let [erm_secs, rgd_secs] = secs;
    let ratios: Vec<f64> = rgd_secs.iter().zip(&erm_secs).map(|(r, e)| r / e).collect();
    let flops = step_flops(&config, &shape, 10, batch);
    let erm_rate = args.steps as f64 / median(&erm_secs);
    let rgd_rate = args.steps as f64 / median(&rgd_secs);
    Ok(ModelSpeed {
        model: name.to_string(),
        batch_size: batch,
        parameters,
        flops_per_step: flops,
        erm_steps_per_sec: erm_rate,
        rgd_steps_per_sec: rgd_rate,
        erm_samples_per_sec: erm_rate * batch as f64,
        rgd_samples_per_sec: rgd_rate * batch as f64,
        erm_gflops: erm_rate * flops / 1e9,
        rgd_gflops: rgd_rate * flops / 1e9,
        rgd_erm_ratio: median(&ratios),
        rgd_erm_ratio_min: ratios.iter().copied().fold(f64::INFINITY, f64::min),
        rgd_erm_ratio_max: ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        erm_rep_secs: erm_secs,
        rgd_rep_secs: rgd_secs,
        peak_rss_mib: peak_rss_mib(),
    })
}

/// `rgd bench speed` on the backend `device`. Prints a table, or the [`SpeedReport`] as JSON.
pub fn speed_on(args: &SpeedArgs, json: bool, device: DeviceChoice) -> Result<(), LabError> {
    let threads = set_threads(args.threads)?;
    let device_name = device.name();
    let device = device.training()?;
    let machine = crate::suite::provenance::machine();
    if !json {
        println!("{machine}; {threads} threads on {device_name}");
    }
    let mut models = Vec::new();
    for name in &args.models {
        let result = bench_one(args, name, &device)?;
        if !json {
            print_model(&result, args);
        }
        models.push(result);
    }
    let report = SpeedReport {
        threads,
        steps: args.steps,
        repetitions: args.repetitions,
        warmup: args.warmup,
        device: device_name,
        machine,
        models,
    };
    if json {
        crate::cli::print_json(&report);
    }
    Ok(())
}

fn print_model(m: &ModelSpeed, args: &SpeedArgs) {
    println!(
        "{} (batch {}, {} parameters, {:.3} GFLOP/step), {} reps x {} steps after {} warm-up:",
        m.model,
        m.batch_size,
        m.parameters,
        m.flops_per_step / 1e9,
        args.repetitions,
        args.steps,
        args.warmup
    );
    for (rule, steps) in [("ERM", m.erm_steps_per_sec), ("RGD", m.rgd_steps_per_sec)] {
        // As `bench_one` computes them.
        let (samples, gflops) = (steps * m.batch_size as f64, steps * m.flops_per_step / 1e9);
        println!("  {rule}: {steps:8.2} steps/s {samples:10.0} samples/s {gflops:7.2} GFLOP/s");
    }
    println!(
        "  RGD/ERM time ratio: {:.4} (median of {} pairs, range {:.4}..{:.4}); peak RSS {:.0} MiB",
        m.rgd_erm_ratio,
        m.erm_rep_secs.len(),
        m.rgd_erm_ratio_min,
        m.rgd_erm_ratio_max,
        m.peak_rss_mib
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tiny_benchmark_runs() {
        let args = SpeedArgs {
            models: vec!["mlp".into()],
            steps: 1,
            repetitions: 1,
            warmup: 0,
            threads: None,
            batch_size: Some(4),
            tau: 1.0,
            seed: 0,
        };
        let device = Device::flex().autodiff();
        let m = bench_one(&args, "mlp", &device).unwrap();
        assert!(m.erm_steps_per_sec > 0.0 && m.rgd_steps_per_sec > 0.0);
        assert_eq!(m.parameters, 784 * 256 + 256 + 256 * 256 + 256 + 2570);
    }
}
