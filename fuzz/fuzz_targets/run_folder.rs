//! The run folder's readers: summaries, checkpoint state, the saved encoding, and the model and
//! optimizer records of a checkpoint (of a 4-4-3 MLP, as a run of 4 features and 3 classes with
//! `model.hidden = [4]` saves them). The first byte picks the reader; none may panic.
#![no_main]
use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rgd_lab::checkpoint::{model_from_bytes, optimizer_from_bytes};
use rgd_lab::config::{ConfigFile, OptimConfig, RunConfig};
use rgd_lab::device::DeviceChoice;
use rgd_lab::engine::LoopState;
use rgd_lab::metrics::Evaluation;
use rgd_lab::model::Model;
use rgd_lab::train::{Summary, TrainState};

fn model() -> Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            let device = DeviceChoice::Flex.inference().unwrap();
            let config = RunConfig::from_toml("[model]\nhidden = [4]\n").unwrap();
            Model::new(&config.model, &[4], 3, &device).unwrap()
        })
        .clone()
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let path = Path::new("fuzz");
    match pick % 7 {
        0 => drop(serde_json::from_slice::<Summary>(bytes)),
        1 => drop(serde_json::from_slice::<LoopState<Evaluation, TrainState>>(bytes)),
        2 => drop(serde_json::from_slice::<rgd_lab::meta::train::MetaSummary>(bytes)),
        3 => drop(serde_json::from_slice::<rgd_data::TableSchema>(bytes)),
        4 => drop(serde_json::from_slice::<rgd_data::Standardizer>(bytes)),
        5 => drop(model_from_bytes(model(), bytes.to_vec(), path)),
        _ => {
            let optimizer = rgd_lab::optim::build_optimizer(&OptimConfig::default());
            drop(optimizer_from_bytes(optimizer, bytes.to_vec(), path));
        }
    }
});
