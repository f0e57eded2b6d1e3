//! A run's resume point, the same for every kind of run: `checkpoint/` holds the model
//! (`model.bpk`), the optimizer (`optimizer.bpk`) and the loop's own state `S` (`state.json`),
//! swapped in whole ([`replace_folder`]) so a crash leaves the old checkpoint or the new one.

use std::path::Path;

use burn::module::Module;
use burn::optim::{ModuleOptimizer, OptimizerRecord};
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::LabError;
use crate::model::Model;
use crate::run_dir::{read, read_json, recover_folder, replace_folder, write_atomic, write_json};

fn corrupt(path: &Path, what: &str, err: impl std::fmt::Debug) -> LabError {
    let in_best = path.parent().and_then(|p| p.file_name()) == Some("best".as_ref());
    let fix = if in_best {
        "the best model is damaged and a resume cannot rebuild it: delete the run folder and \
         train the run again"
    } else {
        "delete the checkpoint folder to start the run over"
    };
    LabError::corrupt(path, format!("cannot read the {what} ({err:?}); {fix}"))
}

/// The model's parameters as a `.bpk` record.
fn model_bytes(model: &Model, path: &Path) -> Result<Bytes, LabError> {
    let bytes = model.clone().into_record().into_bytes();
    bytes.map_err(|e| corrupt(path, "model", e))
}

/// Writes the model's parameters to `path` (a `.bpk` record), atomically.
pub fn save_model(model: &Model, path: &Path) -> Result<(), LabError> {
    write_atomic(path, &model_bytes(model, path)?)
}

/// Loads the parameters saved at `path` (a `.bpk` record) into `model`.
pub fn load_model(model: Model, path: &Path) -> Result<Model, LabError> {
    model_from_bytes(model, read(path)?, path)
}

/// Loads the `.bpk` record `bytes` (read from `path`, named in errors) into `model`.
pub fn model_from_bytes(model: Model, bytes: Vec<u8>, path: &Path) -> Result<Model, LabError> {
    catching(path, "model", || {
        let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes))
            .map_err(|e| corrupt(path, "model", e))?;
        model
            .try_load_record(record)
            .map(crate::model::after_load)
            .map_err(|e| corrupt(path, "model", e))
    })
}

/// Loads the optimizer record `bytes` (read from `path`, named in errors) into `optimizer`.
pub fn optimizer_from_bytes(
    optimizer: ModuleOptimizer,
    bytes: Vec<u8>,
    path: &Path,
) -> Result<ModuleOptimizer, LabError> {
    catching(path, "optimizer state", || {
        let record = OptimizerRecord::from_bytes(Bytes::from_bytes_vec(bytes))
            .map_err(|e| corrupt(path, "optimizer state", e))?;
        Ok(optimizer.load_record(record))
    })
}

/// Runs burn's record loading, turning a panic into [`LabError::Corrupt`]: burn 0.22.1 asserts
/// on some malformed records instead of returning an error (an optimizer tensor without a
/// parameter id, found by the `run_folder` fuzz target), and their fields are private, so it
/// cannot be checked first. The panic hook is silenced meanwhile (loading runs before training
/// starts, on one thread).
fn catching<T>(
    path: &Path,
    what: &str,
    load: impl FnOnce() -> Result<T, LabError>,
) -> Result<T, LabError> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(load));
    std::panic::set_hook(hook);
    result.unwrap_or_else(|payload| {
        let message = (payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic in burn".into());
        Err(corrupt(path, what, message))
    })
}

/// Saves a checkpoint into the folder `dir`.
pub fn save<S: Serialize>(
    dir: &Path,
    model: &Model,
    optimizer: &ModuleOptimizer,
    state: &S,
) -> Result<(), LabError> {
    let model = model_bytes(model, dir)?;
    let optim = optimizer.to_record().into_bytes();
    let optim = optim.map_err(|e| corrupt(dir, "optimizer", e))?;
    replace_folder(dir, |tmp| {
        write_atomic(&tmp.join("model.bpk"), &model)?;
        write_atomic(&tmp.join("optimizer.bpk"), &optim)?;
        write_json(&tmp.join("state.json"), state)
    })
}

/// The checkpoint in `dir`, loaded into `model` and `optimizer`, with the loop's state; both as
/// given and no state when the run has none yet. Finishes a swap that a crash interrupted first.
pub fn load<S: DeserializeOwned>(
    dir: &Path,
    model: Model,
    optimizer: ModuleOptimizer,
) -> Result<(Model, ModuleOptimizer, Option<S>), LabError> {
    recover_folder(dir)?;
    if !dir.join("state.json").exists() {
        return Ok((model, optimizer, None));
    }
    let state: S = read_json(&dir.join("state.json"))?;
    let model = load_model(model, &dir.join("model.bpk"))?;
    let path = dir.join("optimizer.bpk");
    let optimizer = optimizer_from_bytes(optimizer, read(&path)?, &path)?;
    Ok((model, optimizer, Some(state)))
}
