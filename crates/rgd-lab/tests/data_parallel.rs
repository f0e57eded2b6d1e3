//! Data parallel (`train.devices = N`): a run whose batches are split over two model replicas
//! (on the CPU, two replicas of one device: the same code as two devices) trains as the
//! unsharded run does, up to float rounding, for a rule that weighs each example alone (RGD)
//! and for one that normalises over the batch (CVaR); and bad settings are clear errors.

mod common;

use std::path::Path;

use common::{ok, rgd, tiny_config};

/// The `metrics.csv` training rows' (step, batch loss, weighted loss, largest weight).
fn train_rows(run: &Path) -> Vec<(u64, f64, f64, f64)> {
    let mut reader = csv::Reader::from_path(run.join("metrics.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (step, kind, loss, weighted, max) = (
        col("step"),
        col("kind"),
        col("train_loss"),
        col("weighted_loss"),
        col("weight_max"),
    );
    reader
        .records()
        .map(|r| r.unwrap())
        .filter(|r| &r[kind] == "train")
        .map(|r| {
            (
                r[step].parse().unwrap(),
                r[loss].parse().unwrap(),
                r[weighted].parse().unwrap(),
                r[max].parse().unwrap(),
            )
        })
        .collect()
}

fn close(a: f64, b: f64, what: &str) {
    assert!(
        (a - b).abs() <= 1e-4 * b.abs().max(1.0),
        "{what}: sharded {a} vs unsharded {b}"
    );
}

#[test]
fn two_replicas_train_as_one_device_does() {
    let dir = tempfile::tempdir().unwrap();
    let config = tiny_config(dir.path(), "");
    let config = config.to_str().unwrap();
    for rule in ["rgd", "cvar"] {
        let run = |devices: &str| {
            let name = format!("{rule}-{devices}");
            ok(
                &[
                    "--quiet",
                    "train",
                    config,
                    "--set",
                    &format!("method.rule.name={rule}"),
                    "--set",
                    "train.steps=20",
                    "--set",
                    "train.log_every=1",
                    "--set",
                    "train.eval_every=10",
                    "--set",
                    &format!("train.devices={devices}"),
                    "--runs-dir",
                    ".",
                    "--name",
                    &name,
                ],
                dir.path(),
            );
            dir.path().join(name)
        };
        let (one, two) = (run("1"), run("2"));
        let (a, b) = (train_rows(&one), train_rows(&two));
        assert_eq!(a.len(), 20, "a row per step");
        for ((s1, l1, w1, m1), (s2, l2, w2, m2)) in a.iter().zip(&b) {
            assert_eq!(s1, s2);
            close(*l2, *l1, &format!("{rule} step {s1} batch loss"));
            close(*w2, *w1, &format!("{rule} step {s1} weighted loss"));
            close(*m2, *m1, &format!("{rule} step {s1} largest weight"));
        }
        // The sharded path ran: its sums run in another order, so some value differs in its
        // last bits (an unsharded run is bit-identical to itself).
        assert!(
            a != b,
            "{rule}: the two-replica run is bit-identical to the unsharded one"
        );
        let accuracy = |run: &Path| {
            common::summary(run)["last"]["test"]["accuracy"]
                .as_f64()
                .unwrap()
        };
        close(
            accuracy(&two),
            accuracy(&one),
            &format!("{rule} test accuracy"),
        );
        let written = std::fs::read_to_string(two.join("config.toml")).unwrap();
        assert!(written.contains("\ndevices = 2\n"), "{written}");
        let unsharded = std::fs::read_to_string(one.join("config.toml")).unwrap();
        assert!(
            !unsharded.contains("\ndevices ="),
            "1 is not written out: {unsharded}"
        );
    }
}

#[test]
fn bad_data_parallel_settings_are_config_errors() {
    let dir = tempfile::tempdir().unwrap();
    let config = tiny_config(dir.path(), "");
    let config = config.to_str().unwrap();
    for (set, message) in [
        (
            vec!["train.devices=0"],
            "train.devices = 0 must be between 1 and train.batch_size = 32",
        ),
        (
            vec!["train.devices=64"],
            "train.devices = 64 must be between 1 and train.batch_size = 32",
        ),
        (
            vec!["train.devices=2", "model.norm=\"batch\""],
            "batch norm couples the examples",
        ),
    ] {
        let mut args = vec!["train", config];
        for s in &set {
            args.extend(["--set", s]);
        }
        let out = rgd(&args, dir.path());
        assert_eq!(out.status.code(), Some(64), "{set:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(message), "{set:?}: {stderr}");
    }
}
