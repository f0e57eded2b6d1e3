//! The training half of a suite part's setup line, derived from the configs its points train
//! with (the base config, each method's catalogue entry and grid, the seeds), so that the text
//! cannot drift from what ran. Facts no config holds (where the data come from, why a budget
//! was chosen) stay in the part's notes.

use serde_json::Value;

use crate::config::{RunConfig, Schedule, Selection};
use crate::suite::catalog::{Part, config_for};

/// `Training (from the configs): <model>; <optimizer>; <length>; <methods>; <selection>`.
///
/// A part whose base config or methods do not build (a suite-definition bug the
/// committed-records test catches) is described as far as it builds.
pub(crate) fn training_line(part: &Part) -> String {
    let base = &part.base;
    let t = &base.train;
    let mut length = match (t.steps, t.max_steps) {
        (0, 0) => format!("{} epochs", t.epochs),
        (0, cap) => format!("{} epochs capped at {cap} steps", t.epochs),
        (steps, _) => format!("{steps} steps"),
    };
    length += &match (t.eval_epochs.as_slice(), t.eval_every) {
        ([], 0) => ", evaluated every epoch".to_string(),
        ([], n) => format!(", evaluated every {n} steps"),
        (epochs, _) => format!(", evaluated after epochs {}", join(epochs, ", ")),
    };
    if t.eval_train {
        length += " (the training split too)";
    }
    let selection = match t.selection {
        Selection::BestValid => "at its best validation evaluation",
        Selection::Last => "at the last evaluation",
    };
    format!(
        "Training (from the configs): {}; {}; batch {}, {length}; {}; each setting selected on \
         validation {} {selection} with seed 0, then seeds 0-{}",
        knobs(&json(&base.model), "kind"),
        optimizer(base, &part.lrs),
        t.batch_size,
        methods(part),
        part.select.name(),
        part.seeds.saturating_sub(1),
    )
}

/// `adamw (lr in {0.001, 0.003}, weight decay 0.01), cosine schedule after 20 warm-up steps`.
fn optimizer(config: &RunConfig, lrs: &[f64]) -> String {
    let o = &config.optim;
    let mut algorithm = json(&o.algorithm);
    if let Value::Object(map) = &mut algorithm {
        map.retain(|k, _| k == "name" || k == "momentum" || k == "nesterov");
    }
    let name = algorithm["name"].as_str().unwrap_or("?").to_string();
    let mut parts = vec![match lrs {
        [lr] => format!("lr {lr}"),
        lrs => format!("lr in {{{}}}", join(lrs, ", ")),
    }];
    if o.weight_decay > 0.0 {
        parts.push(format!("weight decay {}", o.weight_decay));
    }
    parts.extend(fields(&algorithm, "name"));
    let schedule = match o.schedule {
        Schedule::Constant => "constant lr".to_string(),
        Schedule::Cosine(c) if c.min_lr_factor == 0.0 => "cosine schedule".into(),
        ref s => format!("{} schedule", knobs(&json(s), "name")),
    };
    let mut line = format!("{name} ({}), {schedule}", parts.join(", "));
    if o.warmup_steps > 0 {
        line += &format!(" after {} warm-up steps", o.warmup_steps);
    }
    if o.clip_grad_norm > 0.0 {
        line += &format!(", gradients clipped to norm {}", o.clip_grad_norm);
    }
    line
}

/// Each method with its rule's knobs (a grid's values in place of its knob) and its loss
/// when not plain cross-entropy: `rgd (tau in {1/9, 1/3, 1, 3, 10})`, `focal (gamma 2)`.
fn methods(part: &Part) -> String {
    let described: Vec<String> = (part.methods.iter())
        .map(|&method| {
            let Some(data) = part.data.first() else {
                return method.to_string();
            };
            let Ok(config) = config_for(part, data, method, &[], 0) else {
                return method.to_string();
            };
            let grid = part.grids.iter().find(|g| g.method == method);
            let knob = grid.and_then(|g| g.key.rsplit('.').next());
            let mut out: Vec<String> = fields(&json(&config.method.rule), "name")
                .into_iter()
                .filter(|f| knob.is_none_or(|k| f.split(' ').next() != Some(&k.replace('_', " "))))
                .collect();
            if let Some(g) = grid {
                let values: Vec<&str> = g.values.iter().map(|(label, _)| *label).collect();
                let knob = knob.unwrap_or(g.key).replace('_', " ");
                out.insert(0, format!("{knob} in {{{}}}", values.join(", ")));
            }
            let loss = json(&config.method.loss);
            if loss["name"] != "cross_entropy" || loss["label_smoothing"].as_f64() != Some(0.0) {
                out.extend(fields(&loss, "name"));
            }
            match out.is_empty() {
                true => method.to_string(),
                false => format!("{method} ({})", out.join(", ")),
            }
        })
        .collect();
    described.join(", ")
}

/// `kind (key value, ...)` of a tagged config serialised as `value`, `tag` its variant key.
fn knobs(value: &Value, tag: &str) -> String {
    let name = value[tag].as_str().unwrap_or("?");
    match fields(value, tag).as_slice() {
        [] => name.to_string(),
        f => format!("{name} ({})", f.join(", ")),
    }
}

/// `key value` for each field of an object but `skip`, underscores as spaces, numbers short.
fn fields(value: &Value, skip: &str) -> Vec<String> {
    let Value::Object(map) = value else {
        return Vec::new();
    };
    // Off switches and zeros say nothing; Group DRO's group count is set from the data.
    let silent = |k: &str, v: &Value| {
        k == skip
            || k == "n_groups"
            || *v == Value::Bool(false)
            || v.as_f64() == Some(0.0)
            || v.as_str() == Some("none")
    };
    map.iter()
        .filter(|(k, v)| !silent(k, v))
        .map(|(k, v)| format!("{} {}", k.replace('_', " "), show(v)))
        .collect()
}

fn show(value: &Value) -> String {
    match value {
        Value::Number(n) => n.as_f64().map_or(n.to_string(), |x| x.to_string()),
        Value::String(s) => s.clone(),
        Value::Array(a) => format!("[{}]", join(&a.iter().map(show).collect::<Vec<_>>(), ", ")),
        Value::Object(_) => knobs(value, "name"),
        other => other.to_string(),
    }
}

fn join<T: ToString>(items: &[T], sep: &str) -> String {
    items.iter().map(T::to_string).collect::<Vec<_>>().join(sep)
}

fn json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::catalog::suite;

    #[test]
    fn the_line_says_what_the_configs_train() {
        let tabular = &suite("tabular", false).unwrap()[0];
        assert_eq!(
            training_line(tabular),
            "Training (from the configs): mlp (dropout 0.1, hidden [256, 256], norm batch); adamw \
             (lr in {0.001, 0.003}, weight decay 0.01), cosine schedule after 20 warm-up steps; \
             batch 128, 20 epochs capped at 1000 steps, evaluated every epoch; erm, rgd (tau in \
             {1/9, 1/3, 1, 3, 10}), term (tilt 1), absgd (gamma 0.9, lambda 1), focal (gamma 2); \
             each setting selected on validation accuracy at its best validation evaluation with \
             seed 0, then seeds 0-4"
        );
        let mut part = tabular.clone();
        part.base.train.steps = 300;
        part.base.train.eval_every = 100;
        part.base.train.selection = Selection::Last;
        part.base.optim.schedule = Schedule::Constant;
        part.base.optim.clip_grad_norm = 1.0;
        part.lrs = vec![0.01];
        part.seeds = 3;
        let line = training_line(&part);
        for expected in [
            "(lr 0.01, weight decay 0.01), constant lr after 20 warm-up steps, gradients clipped \
             to norm 1;",
            "batch 128, 300 steps, evaluated every 100 steps;",
            "at the last evaluation with seed 0, then seeds 0-2",
        ] {
            assert!(line.contains(expected), "{expected:?} not in {line:?}");
        }
    }
}
