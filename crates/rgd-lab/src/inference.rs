//! `rgd eval` and `rgd predict`: a finished run's best model on new rows or on its own splits,
//! with exactly the encoding the run saved (`schema.json`, `standardizer.json`).

use std::path::Path;

use rgd_data::{Standardizer, TableSchema};
use serde_json::json;

use crate::LabError;
use crate::config::{ConfigFile, RunConfig};
use crate::device::DeviceChoice;
use crate::model::Model;
use crate::run_dir::{RunDir, read_json};
use crate::train::{evaluate, predict as predict_rows};

/// The run's config, its prepared data (checked against the encoding the run saved) and its
/// best model.
pub fn load_best(
    run: &Path,
    device: DeviceChoice,
) -> Result<(crate::data::PreparedData, Model), LabError> {
    let dir = RunDir::new(run);
    let config = RunConfig::from_file(&dir.config())?;
    let data = crate::data::prepare(&config.data)?;
    let schema: Option<TableSchema> = read_optional(&dir.schema())?;
    let standardizer: Option<Standardizer> = read_optional(&dir.standardizer())?;
    // Refuses data that no longer encodes as the run's did (an edited or replaced file).
    if (schema.is_some() && schema != data.schema)
        || (standardizer.is_some() && standardizer != data.standardizer)
    {
        return Err(LabError::Config(format!(
            "data.source = \"{}\" no longer encodes as it did when this run trained (its \
             schema.json or standardizer.json differs): the file was edited or replaced; \
             restore it, or train a new run on the new data",
            config.data.source
        )));
    }
    let model = Model::for_data(&config.model, &data.train, &device.inference()?)?;
    let model = crate::checkpoint::load_model(model, &dir.best().join("model.bpk"))?;
    Ok((data, model))
}

/// Evaluates the best model of `run` on its validation and test splits and prints the metrics.
pub fn eval(run: &Path, device: DeviceChoice, json: bool) -> Result<(), LabError> {
    let (data, model) = load_best(run, device)?;
    let device = device.inference()?;
    let valid = evaluate(&model, &data.valid, &device)?;
    let test = evaluate(&model, &data.test, &device)?;
    if json {
        println!("{}", json!({ "valid": valid, "test": test }));
    } else {
        for (name, m) in [("valid", valid), ("test", test)] {
            println!(
                "{name}: accuracy {:.4}, balanced accuracy {:.4}, macro-F1 {:.4}, worst-class \
                 accuracy {:.4}, loss {:.4}",
                m.accuracy, m.balanced_accuracy, m.macro_f1, m.worst_class_accuracy, m.loss
            );
        }
    }
    Ok(())
}

/// Predicts the rows of `input` with the encoding the run saved: the training file is not read.
pub fn predict(run: &Path, input: &Path, device: DeviceChoice, json: bool) -> Result<(), LabError> {
    let dir = RunDir::new(run);
    let config = RunConfig::from_file(&dir.config())?;
    let Some(schema) = read_optional::<TableSchema>(&dir.schema())? else {
        return Err(LabError::Config(format!(
            "{} has no schema.json: predict needs a run trained on a table (KEEL .dat or \
             CSV) by this version of rgd; retrain it",
            run.display()
        )));
    };
    let standardizer: Option<Standardizer> = read_optional(&dir.standardizer())?;
    let table = crate::data::read_table(input)?;
    let rows = schema.encode(&table)?;
    let mut data = rgd_data::Dataset::from_features(
        &table.name,
        rows.features,
        schema.width(),
        rows.labels.iter().map(|l| l.unwrap_or(0)).collect(),
        schema.class_names.clone(),
    );
    if let Some(s) = &standardizer {
        s.apply(&mut data)?;
    }
    let device = device.inference()?;
    let model = Model::for_data(&config.model, &data, &device)?;
    let model = crate::checkpoint::load_model(model, &dir.best().join("model.bpk"))?;
    let (predicted, _) = predict_rows(&model, &data, &device)?;
    let names = &schema.class_names;
    let labelled: Vec<(u32, u32)> = (rows.labels.iter().zip(&predicted))
        .filter_map(|(l, &p)| l.map(|l| (l, p)))
        .collect();
    let accuracy = (!labelled.is_empty())
        .then(|| labelled.iter().filter(|(l, p)| l == p).count() as f64 / labelled.len() as f64);
    if json {
        let labels: Vec<&str> = (predicted.iter().map(|&c| names[c as usize].as_str())).collect();
        println!(
            "{}",
            json!({ "predictions": labels, "accuracy": accuracy, "labelled": labelled.len() })
        );
    } else {
        println!("row,predicted");
        for (i, &c) in predicted.iter().enumerate() {
            println!("{},{}", i + 1, names[c as usize]);
        }
        if let Some(a) = accuracy {
            eprintln!("accuracy on the {} labelled rows: {a:.4}", labelled.len());
        }
    }
    Ok(())
}

fn read_optional<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>, LabError> {
    path.is_file().then(|| read_json(path)).transpose()
}
