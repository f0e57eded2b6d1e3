//! The `rgd` binary end to end, each test in its own processes (burn's global RNG is per
//! process): every subcommand on tiny data, determinism, resume after SIGKILL, NaN handling.

use std::process::Command;
use std::time::{Duration, Instant};

mod common;
use common::*;

#[test]
fn train_eval_predict_export_and_data_list() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let config = tiny_config(d, "");
    let cfg = config.to_str().unwrap();
    ok(&["train", cfg, "--name", "a", "--quiet"], d);
    let run = d.join("runs/a");
    for file in [
        "config.toml",
        "metrics.csv",
        "summary.json",
        "standardizer.json",
        "weights.jsonl",
        "checkpoint/model.bpk",
        "checkpoint/optimizer.bpk",
        "checkpoint/state.json",
        "best/model.bpk",
        "plots/loss.svg",
        "plots/accuracy.svg",
        "plots/weights.svg",
    ] {
        assert!(run.join(file).is_file(), "{file} missing");
    }
    let s = summary(&run);
    assert_eq!(s["rule"], "rgd");
    assert_eq!(s["steps"], 4 * 8); // 280 training rows / 32 -> 8 full batches per epoch
    // The machine that finished the run: its CPU, cores and instruction set.
    let machine = s["machine"].as_str().unwrap();
    assert!(
        machine.contains(" cores, ") && machine.ends_with(s["instruction_set"].as_str().unwrap()),
        "{machine}"
    );
    assert!(
        s["selected"]["test"]["accuracy"].as_f64().unwrap() > 0.7,
        "{s}"
    );
    // Every evaluation is kept, in step order, the last one being the summary's `last`.
    let evaluations = s["evaluations"].as_array().unwrap();
    let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    let eval_rows = metrics.lines().filter(|l| l.contains(",eval,")).count();
    assert_eq!(evaluations.len(), eval_rows);
    assert_eq!(evaluations.last().unwrap(), &s["last"]);
    assert!(evaluations.iter().any(|e| e == &s["selected"]));

    // Training the same config again reuses the finished run.
    let again = ok(&["train", cfg, "--name", "a", "--json"], d);
    let reused: serde_json::Value = serde_json::from_str(&again).unwrap();
    assert_eq!(reused["selected"], s["selected"]);

    let eval: serde_json::Value =
        serde_json::from_str(&ok(&["eval", "runs/a", "--json"], d)).unwrap();
    assert_eq!(eval["test"]["accuracy"], s["selected"]["test"]["accuracy"]);

    let predictions = ok(&["predict", "runs/a", "--input", "tiny.dat"], d);
    assert_eq!(predictions.lines().count(), 401);
    assert!(predictions.lines().nth(1).unwrap().starts_with("1,"));

    ok(
        &[
            "export",
            "runs/a",
            "--output",
            "model.safetensors",
            "--quiet",
        ],
        d,
    );
    let bytes = std::fs::read(d.join("model.safetensors")).unwrap();
    let tensors = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names = tensors.names();
    names.sort();
    assert_eq!(names.len(), 4, "{names:?}"); // hidden and head: weight + bias each
    assert!(
        names.iter().any(|n| n.ends_with("head.weight")),
        "{names:?}"
    );

    let list: serde_json::Value =
        serde_json::from_str(&ok(&["data", "list", "--json"], d)).unwrap();
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|v| v["name"] == "magic" && v["present"] == true)
    );
}

#[test]
fn same_seed_gives_bit_identical_metrics_in_separate_processes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cfg = tiny_config(d, "");
    let cfg = cfg.to_str().unwrap();
    let set = [
        "--set",
        "model.dropout=0.2",
        "--set",
        "method.rule.name=absgd",
        "--set",
        "method.rule.lambda=2",
    ];
    let mut a = vec!["train", cfg, "--name", "a", "--quiet"];
    a.extend(set);
    let mut b = vec!["train", cfg, "--name", "b", "--quiet"];
    b.extend(set);
    ok(&a, d);
    ok(&b, d);
    let ma = std::fs::read(d.join("runs/a/metrics.csv")).unwrap();
    let mb = std::fs::read(d.join("runs/b/metrics.csv")).unwrap();
    assert!(
        ma == mb,
        "metrics.csv differ between two runs of the same config"
    );
    assert_eq!(summary(&d.join("runs/a")), summary(&d.join("runs/b")));
}

#[test]
fn a_run_killed_with_sigkill_resumes_to_the_uninterrupted_result() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Long enough to be killed midway: the embedded MAGIC set, 2000 rows, 40 epochs.
    let settings = [
        "--set",
        "data.max_train=2000",
        "--set",
        "model.hidden=[64, 64]",
        "--set",
        "model.dropout=0.1",
        "--set",
        "train.batch_size=32",
        "--set",
        "train.epochs=40",
        "--set",
        "train.checkpoint_every=25",
        "--set",
        "train.eval_every=125",
    ];
    let mut whole = vec!["train", "--name", "whole", "--quiet"];
    whole.extend(settings);
    ok(&whole, d);

    let mut killed = vec!["train", "--name", "killed", "--quiet"];
    killed.extend(settings);
    let mut child = Command::new(RGD)
        .args(&killed)
        .current_dir(d)
        .spawn()
        .unwrap();
    let run = d.join("runs/killed");
    let started = Instant::now();
    while !run.join("checkpoint/state.json").exists() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no checkpoint appeared"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(
        !run.join("summary.json").exists(),
        "the run finished before it was killed"
    );
    let state = checkpoint_state(&run);
    let at = state["step"].as_u64().unwrap();
    assert!(at > 0 && at < 2500, "killed at checkpoint step {at}");

    ok(&["resume", "runs/killed", "--quiet"], d);
    assert_eq!(summary(&run), summary(&d.join("runs/whole")));
    let a = std::fs::read(run.join("metrics.csv")).unwrap();
    let b = std::fs::read(d.join("runs/whole/metrics.csv")).unwrap();
    assert!(
        a == b,
        "metrics.csv of the resumed run differs from the uninterrupted one"
    );
}

#[test]
fn a_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cfg = tiny_config(d, "checkpoint_every = 10\n");
    let out = Command::new(RGD)
        .args(["train", cfg.to_str().unwrap(), "--name", "nan", "--quiet"])
        .env("RGD_INJECT_NAN_AT_STEP", "25")
        .current_dir(d)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(70));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "error: training diverged at step 26: the loss is NaN; the last good checkpoint \
             (step 20) is kept in"
        ),
        "{stderr}"
    );
    let run = d.join("runs/nan");
    let state = checkpoint_state(&run);
    assert_eq!(state["step"], 20);
    assert!(!run.join("summary.json").exists());
    // Without the fault, the run continues from step 20 and finishes.
    ok(&["resume", "runs/nan", "--quiet"], d);
    assert_eq!(summary(&run)["steps"], 32);
}

#[test]
fn bad_input_exits_non_zero_with_one_clear_sentence() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &["train", "--set", "optim.lr=-1"],
            64,
            "optim.lr = -1 must be a finite number > 0",
        ),
        (
            &["train", "--set", "optim.lrr=1"],
            64,
            "unknown key `optim.lrr`",
        ),
        (
            &["train", "--set", "method.rule.tau=0"],
            64,
            "tau must be a finite number > 0",
        ),
        (&["train", "--set", "data.source=keel/nope"], 65, "nope"),
        (&["train", "no-such-config.toml"], 74, "no-such-config.toml"),
        (&["resume", "runs/never"], 74, "runs/never/config.toml"),
        (
            &["compare", "--methods", "erm,sgd"],
            64,
            "unknown method `sgd`",
        ),
        (
            &["train", "--set", "method.rule.tau=abc"],
            64,
            "method.rule.tau: expected a number, found \"abc\"",
        ),
        (
            &["train", "--set", "model.kind=cnn", "--set", "model.patch=7"],
            64,
            "unknown key `model.patch`; the keys of `model` are: ",
        ),
        (
            &["--device", "wgpu", "train", "--set", "train.epochs=1"],
            69,
            "built without the Wgpu backend",
        ),
    ];
    for (args, code, message) in cases {
        let out = rgd(args, d);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(*code), "rgd {args:?}: {stderr}");
        assert!(
            stderr.starts_with("error: ") && stderr.contains(message),
            "rgd {args:?}: {stderr}"
        );
    }
    let help = rgd(&["--help"], d);
    let help = String::from_utf8_lossy(&help.stdout);
    for code in ["64", "65", "69", "70", "74", "75"] {
        assert!(
            help.contains(&format!("\n  {code}  ")),
            "--help lacks exit status {code}"
        );
    }
    std::fs::write(d.join("broken.dat"), "1.0, 2.0, a\n1.0, b\n").unwrap();
    let out = rgd(&["train", "--set", "data.source=broken.dat"], d);
    assert_eq!(out.status.code(), Some(65));
    assert!(String::from_utf8_lossy(&out.stderr).contains("broken.dat"));
}

#[test]
fn compare_selects_on_validation_and_reuses_finished_runs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cfg = tiny_config(d, "");
    let args = [
        "compare",
        cfg.to_str().unwrap(),
        "--methods",
        "erm,rgd,focal",
        "--seeds",
        "2",
        "--taus",
        "1,3",
        "--out",
        "cmp",
        "--quiet",
    ];
    let table = ok(&args, d);
    assert!(
        table.contains("| rgd") && table.contains("| focal") && table.contains("tau="),
        "{table}"
    );
    let results = std::fs::read_to_string(d.join("cmp/results.md")).unwrap();
    assert_eq!(results.lines().count(), 2 + 3, "{results}");
    for run in [
        "erm/seed0",
        "erm/seed1",
        "rgd-tau1/seed0",
        "rgd-tau3/seed1",
        "focal/seed1",
    ] {
        assert!(
            d.join("cmp").join(run).join("summary.json").is_file(),
            "{run}"
        );
    }
    assert!(d.join("cmp/comparison.svg").is_file());
    let modified = |p: &str| {
        std::fs::metadata(d.join("cmp").join(p))
            .unwrap()
            .modified()
            .unwrap()
    };
    let before = modified("rgd-tau3/seed1/summary.json");
    assert_eq!(
        ok(&args, d),
        table,
        "the second run reuses every finished run"
    );
    assert_eq!(modified("rgd-tau3/seed1/summary.json"), before);
}

#[test]
fn the_demo_runs_on_the_embedded_data() {
    let dir = tempfile::tempdir().unwrap();
    let table = ok(&["demo", "--out", "demo", "--quiet"], dir.path());
    assert!(
        table.contains("| erm") && table.contains("| rgd"),
        "{table}"
    );
    assert!(table.contains("W/T/L vs ERM"));
}

#[test]
fn reproduce_quick_runs_the_tabular_protocol_and_writes_its_results() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let markdown = ok(
        &["reproduce", "tabular", "--quick", "--quiet", "--out", "q"],
        d,
    );
    // One data set: its row and the paired RGD − ERM table, no summary across sets.
    assert!(
        markdown.contains("| magic2000rows |") && markdown.contains("RGD − ERM (pts"),
        "{markdown}"
    );
    assert!(!markdown.contains("average rank"), "{markdown}");
    for file in ["results.md", "results.csv", "meta.json", "summary.svg"] {
        assert!(d.join("q").join(file).is_file(), "{file}");
    }
    // results.csv is tidy: one row per method, its numbers parse as numbers.
    let csv = std::fs::read_to_string(d.join("q/results.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 5, "erm, rgd, term, absgd, focal: {csv}");
    for row in &rows {
        let mean: f64 = row[column("test_mean")].parse().unwrap();
        assert!((0.5..=1.0).contains(&mean), "{row:?}");
        assert_eq!(row[column("seeds")], "2");
    }
    let rgd_row = rows.iter().find(|r| r[column("method")] == "rgd").unwrap();
    let low: f64 = rgd_row[column("diff_ci_low")].parse().unwrap();
    let high: f64 = rgd_row[column("diff_ci_high")].parse().unwrap();
    assert!(low <= high);
    assert!(["1", "3"].contains(&rgd_row[column("method.rule.tau")]));
    // 2 lr-free settings for RGD (tau 1, 3) + 1 for each other method, on seed 0; seed 1 once each.
    let rgd = d.join("q/runs/magic2000rows/rgd");
    assert!(rgd.join("tau1-lr0.001/seed0/summary.json").is_file());
    assert!(rgd.join("tau3-lr0.001/seed0/summary.json").is_file());
    let rendered = rgd_lab::suite::tables::render(&d.join("q")).unwrap();
    assert_eq!(
        std::fs::read_to_string(d.join("q/results.md")).unwrap(),
        rendered
    );
    assert!(
        !d.join("docs/results.md").exists(),
        "--quick leaves the results document alone"
    );
}

#[test]
fn label_noise_runs_record_where_the_weight_goes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let share = |name: &str, rule: &str| {
        ok(
            &[
                "train",
                "--name",
                name,
                "--quiet",
                "--set",
                "data.max_train=2000",
                "--set",
                "data.label_noise=symmetric",
                "--set",
                "data.noise_rate=0.3",
                "--set",
                &format!("method.rule.name={rule}"),
                "--set",
                "train.steps=150",
                "--set",
                "train.eval_every=50",
            ],
            d,
        );
        let s = summary(&d.join("runs").join(name));
        let trace = s["weight_trace"].as_array().unwrap().clone();
        assert_eq!(trace.len(), 3, "one snapshot per evaluation");
        let last = &trace[2];
        let fraction = last["flipped_fraction"].as_f64().unwrap();
        assert!((fraction - 0.3).abs() < 0.05, "flipped fraction {fraction}");
        assert_eq!(last["class_mean_weight"].as_array().unwrap().len(), 2);
        (fraction, last["flipped_weight_share"].as_f64().unwrap())
    };
    let (fraction, erm) = share("erm", "erm");
    assert!((erm - fraction).abs() < 1e-12, "ERM weighs every example 1");
    let (fraction, rgd) = share("rgd", "rgd");
    assert!(
        rgd > fraction,
        "RGD up-weights the high-loss flipped labels: share {rgd} vs fraction {fraction}"
    );
}
