//! Throughput of every reweighting rule on `f32` batches of per-example losses.
//!
//! Run with `cargo bench --profile dev -p rgd --bench rules` (the workspace's one profile; see
//! `docs/benchmarks.md`). Each measurement is one `Rule::reweight` call (validation, widening to
//! `f64`, the rule, the weight statistics and narrowing back to `f32`) on a fixed pseudo-random
//! batch of losses in `[0, 5)`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rgd::{
    AbsgdConfig, ChiSquareConfig, CvarConfig, Erm, GroupDroConfig, RgdConfig, Rule, TermConfig,
};

const SIZES: [usize; 4] = [128, 1024, 8192, 65536];
const GROUPS: usize = 4;

/// Deterministic losses in `[0, 5)` from a 64-bit LCG (Knuth's MMIX constants).
fn losses(n: usize, seed: u64) -> Vec<f32> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            // The top 24 bits give a uniform f32 in [0, 1).
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 5.0
        })
        .collect()
}

fn bench_rule<R: Rule>(c: &mut Criterion, name: &str, mut make: impl FnMut() -> R) {
    let mut group = c.benchmark_group(format!("reweight/{name}"));
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(1))
        .sample_size(20);
    for n in SIZES {
        let batch = losses(n, 0x5eed ^ n as u64);
        let mut rule = make();
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &batch, |b, batch| {
            b.iter(|| rule.reweight(black_box(batch.as_slice())).unwrap())
        });
    }
    group.finish();
}

fn rules(c: &mut Criterion) {
    bench_rule(c, "erm", Erm::default);
    bench_rule(c, "rgd", || RgdConfig::new().with_tau(1.0).init().unwrap());
    bench_rule(c, "rgd-normalized", || {
        RgdConfig::new()
            .with_tau(1.0)
            .with_normalize(true)
            .init()
            .unwrap()
    });
    bench_rule(c, "term", || TermConfig::new(1.0).init().unwrap());
    bench_rule(c, "absgd", || AbsgdConfig::new(1.0).init().unwrap());
    bench_rule(c, "cvar", || CvarConfig::new(0.2).init().unwrap());
    bench_rule(c, "chi-square", || {
        ChiSquareConfig::new(0.5).init().unwrap()
    });
}

fn group_dro(c: &mut Criterion) {
    let mut group = c.benchmark_group("reweight/group-dro-4");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(1))
        .sample_size(20);
    for n in SIZES {
        let batch = losses(n, 0x5eed ^ n as u64);
        let ids: Vec<usize> = (0..n).map(|i| (i * 7 + i / 3) % GROUPS).collect();
        let mut rule = GroupDroConfig::new(GROUPS, 0.01).init().unwrap();
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &batch, |b, batch| {
            b.iter(|| {
                rule.reweight_grouped(black_box(batch.as_slice()), black_box(&ids))
                    .unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, rules, group_dro);
criterion_main!(benches);
