//! The wgpu backend against flex (`cargo test -p rgd-lab --features wgpu --test wgpu`; CI runs
//! it on Mesa's software Vulkan, lavapipe): a model initialised on flex and copied to wgpu trains
//! the same few RGD steps on both, with equal losses, weights and parameters up to float
//! tolerance; the `rgd` binary trains and benchmarks with `--device wgpu`.
//!
//! Without a Vulkan device the tests skip with a printed reason, unless `RGD_REQUIRE_WGPU=1`
//! (as CI sets), which makes them fail instead.
#![cfg(feature = "wgpu")]

use burn::prelude::*;
use rgd_lab::config::{CnnConfig, MlpConfig, ModelConfig};
use rgd_lab::model::Model;

mod common;
use common::steps::{assert_close, train};
use common::{ok, tiny_config};

/// Whether a Vulkan device is there (`vulkaninfo` lists one), else the reason to skip.
fn vulkan() -> Result<(), String> {
    let listed = std::process::Command::new("vulkaninfo")
        .arg("--summary")
        .output()
        .map_err(|e| {
            format!("vulkaninfo cannot run ({e}): install vulkan-tools and mesa-vulkan-drivers")
        })?;
    let text = String::from_utf8_lossy(&listed.stdout);
    match listed.status.success() && text.contains("deviceName") {
        true => Ok(()),
        false => Err("vulkaninfo lists no Vulkan device: install mesa-vulkan-drivers".into()),
    }
}

/// Skips (or, under `RGD_REQUIRE_WGPU=1`, fails) when there is no Vulkan device.
fn require_vulkan() -> bool {
    match vulkan() {
        Ok(()) => true,
        Err(why) if std::env::var("RGD_REQUIRE_WGPU").is_ok_and(|v| v == "1") => {
            panic!("RGD_REQUIRE_WGPU=1 but {why}")
        }
        Err(why) => {
            eprintln!("skipped: {why}");
            false
        }
    }
}

fn flex_vs_wgpu(config: &ModelConfig, shape: &[usize]) {
    let flex = Device::flex().autodiff();
    flex.seed(3);
    let model = Model::new(config, shape, 4, &flex).unwrap();
    let wgpu = rgd_lab::device::DeviceChoice::Wgpu.training().unwrap();
    let (fl, fw, flex_params) = train(model.clone(), shape, 5, &flex);
    let (wl, ww, wgpu_params) = train(model, shape, 5, &wgpu);
    assert_close(&wl, &fl, 1e-4, "per-example losses");
    assert_close(&ww, &fw, 1e-4, "RGD weights");
    // Five Adam steps of lr 1e-3 move a parameter by up to 5e-3; rounding differences of the
    // two backends' reductions stay far below that.
    assert_close(&wgpu_params, &flex_params, 2e-4, "parameters");
}

#[test]
fn an_mlp_and_a_cnn_train_the_same_steps_on_wgpu_as_on_flex() {
    if !require_vulkan() {
        return;
    }
    flex_vs_wgpu(
        &ModelConfig::Mlp(MlpConfig {
            hidden: vec![32, 32],
            ..MlpConfig::default()
        }),
        &[20],
    );
    let cnn = ModelConfig::Cnn(CnnConfig {
        channels: vec![4, 8],
        head: MlpConfig {
            hidden: vec![16],
            ..MlpConfig::default()
        },
        ..CnnConfig::default()
    });
    flex_vs_wgpu(&cnn, &[1, 12, 12]);
}

#[test]
fn the_binary_trains_and_benchmarks_on_wgpu() {
    if !require_vulkan() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let config = tiny_config(d, "");
    let config = config.to_str().unwrap();
    let train = |device: &str| {
        ok(
            &[
                "--quiet",
                "--device",
                device,
                "train",
                config,
                "--set",
                "train.epochs=2",
                "--name",
                device,
            ],
            d,
        );
        let s = common::summary(&d.join("runs").join(device));
        s["selected"]["test"]["accuracy"].as_f64().unwrap()
    };
    let (flex, wgpu) = (train("flex"), train("wgpu"));
    assert!(
        (flex - wgpu).abs() <= 0.05,
        "test accuracy: flex {flex}, wgpu {wgpu}"
    );
    let bench = ok(
        &[
            "bench",
            "speed",
            "--device",
            "wgpu",
            "--models",
            "mlp,cnn",
            "--steps",
            "2",
            "--warmup",
            "1",
            "--repetitions",
            "1",
        ],
        d,
    );
    assert!(bench.contains("mlp") && bench.contains("cnn"), "{bench}");
}
