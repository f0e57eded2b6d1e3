//! The lab's CNN on the gemm convolution kernel (`rgd_kernels::conv`, the default) against the
//! same CNN on burn's own convolution path (`model.conv = "burn"`): from the same initial
//! parameters, RGD steps with AdamW on fixed batches give the same per-example losses, RGD
//! weights and parameters up to float tolerance.

use burn::prelude::*;
use rgd_kernels::conv::ConvPath;
use rgd_lab::config::{CnnConfig, MlpConfig, ModelConfig};
use rgd_lab::model::Model;

mod common;
use common::steps::{assert_close, parameters, train};

fn cnn(conv: ConvPath) -> ModelConfig {
    ModelConfig::Cnn(CnnConfig {
        channels: vec![4, 8],
        conv,
        head: MlpConfig {
            hidden: vec![16],
            ..MlpConfig::default()
        },
    })
}

#[test]
fn the_gemm_kernel_trains_the_same_steps_as_burns_path() {
    let device = Device::flex().autodiff();
    let shape = [1, 12, 12];
    // Parameters initialise lazily, on first use: seed the device's generator right before
    // reading them, so that both CNNs draw the same values.
    let init = |conv| {
        let model = Model::new(&cnn(conv), &shape, 4, &device).unwrap();
        device.seed(3);
        let _ = parameters(&model);
        model
    };
    let (gemm, burn) = (init(ConvPath::Gemm), init(ConvPath::Burn));
    let initial = parameters(&gemm);
    assert_eq!(initial, parameters(&burn), "the same initial parameters");
    let (gl, gw, gemm_params) = train(gemm, &shape, 20, &device);
    let (bl, bw, burn_params) = train(burn, &shape, 20, &device);
    assert_close(&gl, &bl, 1e-4, "per-example losses");
    assert_close(&gw, &bw, 1e-4, "RGD weights");
    // Twenty Adam steps of lr 1e-3 move a parameter by up to 2e-2; the two paths' different
    // summation orders stay far below that.
    assert_close(&gemm_params, &burn_params, 1e-4, "parameters");
    let moved = gemm_params.iter().zip(&initial).any(|(a, b)| a != b);
    assert!(moved, "the steps moved the parameters");
}
