//! A meta run of the binary stopped after a checkpoint and resumed reaches the same result as
//! an uninterrupted run with the same seed (separate processes: burn's RNG is global).
//!
//! Needs keel/letter in the cache folder: skips with a message when it is absent, fails
//! instead when `RGD_REQUIRE_DATA=1`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const RGD: &str = env!("CARGO_BIN_EXE_rgd");

fn cache() -> PathBuf {
    let c = rgd_data::registry::cache_dir();
    if c.is_absolute() {
        c
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(c)
    }
}

fn meta(runs: &Path, name: &str, learner: &str, stop: Option<u64>) -> Output {
    let mut cmd = Command::new(RGD);
    cmd.args(["--quiet", "meta", "--runs-dir"])
        .arg(runs)
        .args(["--name", name])
        .args(["--set", &format!("learner.kind={learner}")])
        .args(["--set", "model.hidden=[32]"])
        // Each learner's own key (typed configs reject the other learner's).
        .args([
            "--set",
            match learner {
                "maml" => "learner.inner_steps=2",
                _ => "learner.embedding=16",
            },
        ])
        .args([
            "--set",
            "method.rule.name=rgd",
            "--set",
            "method.rule.tau=3",
        ])
        .args([
            "--set",
            "train.meta_steps=30",
            "--set",
            "train.eval_every=10",
        ])
        .args([
            "--set",
            "train.valid_episodes=20",
            "--set",
            "train.test_episodes=30",
        ])
        .env("RGD_DATA_DIR", cache())
        .env_remove("RGD_STOP_AFTER_STEP");
    if let Some(s) = stop {
        cmd.env("RGD_STOP_AFTER_STEP", s.to_string());
    }
    cmd.output().expect("the rgd binary runs")
}

fn summary(dir: &Path) -> serde_json::Value {
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap();
    let o = v.as_object_mut().unwrap();
    o.remove("wall_secs");
    o.remove("test_secs");
    v
}

#[test]
fn a_stopped_and_resumed_meta_run_equals_an_uninterrupted_one() {
    if !cache().join("keel/balanced/letter.dat").is_file() {
        assert!(
            std::env::var("RGD_REQUIRE_DATA").as_deref() != Ok("1"),
            "RGD_REQUIRE_DATA=1 but keel/letter is not in {}",
            cache().display()
        );
        eprintln!("skipping the meta resume check: keel/letter is not in the cache folder");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    for learner in ["protonet", "maml"] {
        let whole = meta(tmp.path(), &format!("{learner}-whole"), learner, None);
        assert!(
            whole.status.success(),
            "{}",
            String::from_utf8_lossy(&whole.stderr)
        );
        let name = format!("{learner}-stopped");
        let stopped = meta(tmp.path(), &name, learner, Some(10));
        assert_eq!(
            stopped.status.code(),
            Some(75),
            "the hook stops the run: {}",
            String::from_utf8_lossy(&stopped.stderr)
        );
        let run = tmp.path().join(&name);
        assert!(run.join("checkpoint/state.json").exists());
        assert!(!run.join("summary.json").exists());
        let resumed = meta(tmp.path(), &name, learner, None);
        assert!(
            resumed.status.success(),
            "{}",
            String::from_utf8_lossy(&resumed.stderr)
        );
        assert_eq!(
            summary(&run),
            summary(&tmp.path().join(format!("{learner}-whole"))),
            "{learner}: resumed vs uninterrupted"
        );
        let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
        assert_eq!(
            metrics
                .lines()
                .filter(|l| l.starts_with("10,train"))
                .count(),
            1
        );
    }
}
