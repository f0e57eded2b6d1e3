//! Helpers shared by the binary's end-to-end tests.
#![allow(dead_code)] // each test crate uses its own subset

pub mod steps;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const RGD: &str = env!("CARGO_BIN_EXE_rgd");

pub fn rgd(args: &[&str], dir: &Path) -> Output {
    Command::new(RGD)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the rgd binary runs")
}

pub fn ok(args: &[&str], dir: &Path) -> String {
    let out = rgd(args, dir);
    assert!(
        out.status.success(),
        "rgd {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A small two-class KEEL file: two noisy Gaussian-like blobs from a fixed LCG.
pub fn tiny_keel(dir: &Path) -> PathBuf {
    let mut state = 12345u64;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) as f64 / (1u64 << 31) as f64) - 0.5
    };
    let mut text = String::from("@relation tiny\n@data\n");
    for i in 0..400 {
        let class = i % 2;
        let shift = if class == 0 { -0.4 } else { 0.4 };
        let row: Vec<String> = (0..4).map(|_| format!("{:.4}", shift + next())).collect();
        text.push_str(&format!("{}, {}\n", row.join(", "), ["neg", "pos"][class]));
    }
    let path = dir.join("tiny.dat");
    std::fs::write(&path, text).unwrap();
    path
}

pub fn tiny_config(dir: &Path, extra: &str) -> PathBuf {
    let data = tiny_keel(dir);
    let path = dir.join("tiny.toml");
    std::fs::write(
        &path,
        format!(
            "[data]\nsource = \"{}\"\n[model]\nhidden = [16]\n[optim]\nlr = 0.02\n[train]\nbatch_size = 32\nepochs = 4\n{extra}",
            data.display()
        ),
    )
    .unwrap();
    path
}

pub fn summary(run: &Path) -> serde_json::Value {
    let mut s: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("summary.json")).unwrap()).unwrap();
    // Wall time and throughput differ between processes; everything else must not.
    for key in ["wall_secs", "samples_per_sec"] {
        s.as_object_mut().unwrap().remove(key);
    }
    s
}

/// The `state.json` of the run's last checkpoint. A kill between the two renames of a checkpoint
/// swap leaves only `checkpoint.old` (which resume recovers), so either folder may hold it.
pub fn checkpoint_state(run: &Path) -> serde_json::Value {
    let state = ["checkpoint", "checkpoint.old"]
        .map(|c| run.join(c).join("state.json"))
        .into_iter()
        .find(|p| p.exists())
        .expect("the stopped run kept a checkpoint");
    serde_json::from_slice(&std::fs::read(state).unwrap()).unwrap()
}
