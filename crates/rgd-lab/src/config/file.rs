//! The TOML side of a config, shared by run and meta-learning configs: defaults, a variant
//! chosen by name alone, keys that moved, `--set` overrides, and errors that name the key.
//!
//! A config is typed: every choice is a tagged table (`model = { kind = "cnn", channels = [16] }`,
//! `method.rule = { name = "rgd", tau = 3 }`), each variant with only its own keys. Reading a
//! table:
//!
//! 1. a string where a tagged table belongs names the variant alone (`schedule = "constant"`);
//! 2. keys of the flat layout of earlier versions move to their table (`data.noise_rate` to
//!    `data.label_noise.rate`, [`ConfigFile::MOVED`]);
//! 3. a tagged table without its tag gets the default variant's;
//! 4. a file of the flat layout (it has a moved key) keeps only the keys its variants have: the
//!    flat layout wrote every key of every variant, and the lab ignored the others' then too;
//! 5. every key must be one of its variant's, with a value of the right type; then serde builds
//!    the typed config (an error names the key that caused it) and the config validates itself.

use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;
use toml::{Table, Value};

use crate::LabError;

/// A config read from TOML: its tagged tables, the keys that moved, and its own checks; reading,
/// writing and `--set` come with it.
///
/// ```
/// use rgd_lab::config::{ConfigFile, RunConfig};
/// let c = RunConfig::default()
///     .with_overrides(&["optim.lr=0.01".into(), "method.rule.tau=3".into()])
///     .unwrap();
/// assert_eq!(RunConfig::from_toml(&c.to_toml()).unwrap(), c);
/// let err = RunConfig::default().with_overrides(&["optim.learning_rate=1".into()]).unwrap_err();
/// assert!(err.to_string().contains("the keys of `optim` are: beta1, beta2, clip_grad_norm"));
/// let err = RunConfig::default().with_overrides(&["method.rule.tau=abc".into()]).unwrap_err();
/// assert!(err.to_string().contains("method.rule.tau: expected a number, found \"abc\""));
/// ```
pub trait ConfigFile: Serialize + DeserializeOwned + Default + Clone {
    /// The tagged tables as (path, tag key), parents before their children.
    const TAGGED: &'static [(&'static str, &'static str)];
    /// Keys of the flat layout and where they live now (also accepted by `--set`).
    const MOVED: &'static [(&'static str, &'static str)];
    /// Keys written out only when they differ from their default (a TOML value), so that the
    /// config files of runs made before the key existed read, and resume, unchanged.
    const SPARSE: &'static [(&'static str, &'static str)] = &[];
    /// Checks every value once; the message names the key, the value and what is allowed.
    fn validate(&self) -> Result<(), LabError>;

    /// Parses TOML text into a checked config (as the module documentation describes).
    fn from_toml(text: &str) -> Result<Self, LabError> {
        let table: Table = toml::from_str(text).map_err(|e| LabError::Config(e.to_string()))?;
        from_table(table)
    }

    /// Reads and checks a config file; errors name the file.
    fn from_file(path: &Path) -> Result<Self, LabError> {
        let text = std::fs::read_to_string(path).map_err(|e| LabError::io(path, e))?;
        Self::from_toml(&text).map_err(|e| match e {
            LabError::Config(m) => LabError::Config(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    /// The config in `path` (the defaults without one) with `overrides` applied.
    fn load(path: Option<&Path>, overrides: &[String]) -> Result<Self, LabError> {
        let base = path.map_or_else(|| Ok(Self::default()), Self::from_file)?;
        base.with_overrides(overrides)
    }

    /// The config as TOML text, every default written out.
    fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a config always serialises")
    }

    /// Applies `key=value` overrides (dotted keys, TOML values; a bare word is a string).
    /// Setting a tag (`model.kind=cnn`, or `method.rule=cvar`) switches the variant: the new
    /// one's defaults, keeping the values of the keys both variants have.
    fn with_overrides(&self, overrides: &[String]) -> Result<Self, LabError> {
        let mut table = to_table(self);
        for item in overrides {
            let (key, raw) = item.split_once('=').ok_or_else(|| {
                LabError::Config(format!("override `{item}` must have the form key=value"))
            })?;
            let key = key.trim();
            let key = (Self::MOVED.iter())
                .find(|(old, _)| *old == key)
                .map_or(key.to_string(), |(_, new)| new.to_string());
            let value = parse_value(raw.trim());
            let tagged = Self::TAGGED.iter().find(|(path, tag)| {
                key == *path || key.strip_prefix(*path) == Some(&format!(".{tag}"))
            });
            match (tagged, &value) {
                (Some((path, tag)), Value::String(name)) => {
                    let base = to_table(&Self::default());
                    let defaults = variant_defaults::<Self>(&base, path, tag, name)?;
                    let old = get(&table, path).and_then(Value::as_table).cloned();
                    let mut new = defaults.clone();
                    for (k, v) in old.unwrap_or_default() {
                        if k != *tag && defaults.contains_key(&k) {
                            new.insert(k, v);
                        }
                    }
                    set(&mut table, path, Value::Table(new))?;
                }
                // An unknown key is reported by `from_table` with the keys it could be; checking
                // only there lets `data.noise_rate` come before `data.label_noise`.
                _ => set(&mut table, &key, value)?,
            }
        }
        from_table(table)
    }
}

/// The config as a TOML table, every default written out.
pub fn to_table<T: Serialize>(config: &T) -> Table {
    Table::try_from(config).expect("a config serialises to a table")
}

/// Builds the checked config from a table (steps 1-5 of the module documentation).
pub fn from_table<T: ConfigFile>(mut table: Table) -> Result<T, LabError> {
    let flat_layout = T::MOVED.iter().any(|(old, _)| get(&table, old).is_some());
    names_alone::<T>(&mut table);
    for (old, new) in T::MOVED {
        if let Some(value) = remove(&mut table, old) {
            set(&mut table, new, value)?;
        }
    }
    let skeleton = skeleton::<T>(&mut table)?;
    check_keys(&mut table, &skeleton, "", flat_layout)?;
    let config: T = deserialize(&table, &skeleton)?;
    config.validate()?;
    Ok(config)
}

/// A `--set` value: TOML if it parses as TOML, else the text as a string.
fn parse_value(raw: &str) -> Value {
    toml::from_str::<Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| Value::String(raw.to_string()))
}

/// Step 1: a string at a tagged path names the variant alone.
fn names_alone<T: ConfigFile>(table: &mut Table) {
    for (path, tag) in T::TAGGED {
        if let Some(Value::String(name)) = get(table, path) {
            let mut variant = Table::new();
            variant.insert(tag.to_string(), Value::String(name.clone()));
            set(table, path, Value::Table(variant)).expect("the parent holds a string here");
        }
    }
}

/// Step 3 and the reference for step 5: the default config with the table's variants, as a
/// table. A tagged table without its tag gets the default's.
fn skeleton<T: ConfigFile>(table: &mut Table) -> Result<Table, LabError> {
    let mut skeleton = to_table(&T::default());
    for (path, default) in T::SPARSE {
        if get(&skeleton, path).is_none() {
            set(&mut skeleton, path, parse_value(default))?;
        }
    }
    for (path, tag) in T::TAGGED {
        let Some(Value::Table(variant)) = get(table, path) else {
            continue;
        };
        let name = match variant.get(*tag) {
            Some(Value::String(name)) => name.clone(),
            Some(other) => {
                return Err(LabError::Config(format!(
                    "{path}.{tag}: expected the name of a variant, found {other}"
                )));
            }
            None => {
                let default = get(&skeleton, &format!("{path}.{tag}")).cloned();
                let Some(Value::String(name)) = default else {
                    continue;
                };
                set(table, &format!("{path}.{tag}"), Value::String(name.clone()))?;
                name
            }
        };
        let defaults = variant_defaults::<T>(&skeleton, path, tag, &name)?;
        set(&mut skeleton, path, Value::Table(defaults))?;
    }
    Ok(skeleton)
}

/// The default table of variant `name` of the tagged table at `path` of `base` (a config as a
/// table).
fn variant_defaults<T: ConfigFile>(
    base: &Table,
    path: &str,
    tag: &str,
    name: &str,
) -> Result<Table, LabError> {
    let error = |e: String| LabError::Config(format!("{path}.{tag}: {e}"));
    let mut table = base.clone();
    let mut variant = Table::new();
    variant.insert(tag.to_string(), Value::String(name.to_string()));
    set(&mut table, path, Value::Table(variant))?;
    let config: T = Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| error(e.message().to_string()))?;
    match get(&to_table(&config), path) {
        Some(Value::Table(t)) => Ok(t.clone()),
        _ => Err(error(format!("`{name}` has no table of settings"))),
    }
}

/// Steps 4 and 5: every key is one of the skeleton's, with a value of the same kind; with
/// `prune` (a file of the flat layout) the keys the skeleton lacks are dropped first.
fn check_keys(
    table: &mut Table,
    skeleton: &Table,
    prefix: &str,
    prune: bool,
) -> Result<(), LabError> {
    if prune {
        table.retain(|k, _| skeleton.contains_key(k));
    }
    for (k, v) in table.iter_mut() {
        let key = dotted(prefix, k);
        let Some(expected) = skeleton.get(k) else {
            return Err(unknown_key(&key, prefix, skeleton));
        };
        match (expected, v) {
            (Value::Table(s), Value::Table(t)) => check_keys(t, s, &key, prune)?,
            (Value::Float(_), Value::Integer(_)) => {}
            (e, v) if std::mem::discriminant(e) == std::mem::discriminant(v) => {}
            (e, v) => {
                return Err(LabError::Config(format!(
                    "{key}: expected {}, found {v}",
                    kind_of(e)
                )));
            }
        }
    }
    Ok(())
}

/// `key` names no setting; `level` is the table it would be in (`parent`).
fn unknown_key(key: &str, parent: &str, level: &Table) -> LabError {
    let valid: Vec<&str> = level.keys().map(String::as_str).collect();
    let place = if parent.is_empty() {
        "at the top level".to_string()
    } else {
        format!("of `{parent}`")
    };
    LabError::Config(format!(
        "unknown key `{key}`; the keys {place} are: {}",
        valid.join(", ")
    ))
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a number",
        Value::Boolean(_) => "true or false",
        Value::Datetime(_) => "a date",
        Value::Array(_) => "an array",
        Value::Table(_) => "a table",
    }
}

/// Deserialises the table; on failure names the first key that fails alone on the skeleton.
fn deserialize<T: ConfigFile>(table: &Table, skeleton: &Table) -> Result<T, LabError> {
    let error = match Value::Table(table.clone()).try_into::<T>() {
        Ok(config) => return Ok(config),
        Err(e) => e.message().to_string(),
    };
    for (key, value) in leaves(table, "") {
        let mut one = skeleton.clone();
        if set(&mut one, &key, value.clone()).is_err() {
            continue;
        }
        if let Err(e) = Value::Table(one).try_into::<T>() {
            return Err(LabError::Config(format!("{key}: {}", e.message())));
        }
    }
    Err(LabError::Config(error))
}

/// Every (dotted key, value) whose value is not a table.
fn leaves<'a>(table: &'a Table, prefix: &str) -> Vec<(String, &'a Value)> {
    let mut out = Vec::new();
    for (k, v) in table {
        let key = dotted(prefix, k);
        match v {
            Value::Table(t) => out.extend(leaves(t, &key)),
            v => out.push((key, v)),
        }
    }
    out
}

/// The keys whose values differ between two configs written as TOML, as
/// `key: old -> new` (`(none)` where a side lacks the key).
///
/// ```
/// let keys = rgd_lab::config::file::differing_keys("[optim]\nlr = 0.001\n", "[optim]\nlr = 0.01\n");
/// assert_eq!(keys, vec!["optim.lr: 0.001 -> 0.01"]);
/// ```
pub fn differing_keys(old: &str, new: &str) -> Vec<String> {
    let parse = |text: &str| text.parse::<Table>().unwrap_or_default();
    let (old, new) = (parse(old), parse(new));
    let (a, b) = (leaves(&old, ""), leaves(&new, ""));
    let show = |v: Option<&&Value>| v.map_or("(none)".to_string(), |v| v.to_string());
    let mut keys: Vec<&String> = a.iter().chain(&b).map(|(k, _)| k).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter_map(|k| {
            let x = a.iter().find(|(key, _)| key == k).map(|(_, v)| v);
            let y = b.iter().find(|(key, _)| key == k).map(|(_, v)| v);
            (x != y).then(|| format!("{k}: {} -> {}", show(x), show(y)))
        })
        .collect()
}

/// The value at a dotted key.
pub fn get<'a>(table: &'a Table, key: &str) -> Option<&'a Value> {
    let (parent, last) = match key.rsplit_once('.') {
        Some((parent, last)) => (get(table, parent)?.as_table()?, last),
        None => (table, key),
    };
    parent.get(last)
}

/// Removes the value at a dotted key.
fn remove(table: &mut Table, key: &str) -> Option<Value> {
    match key.split_once('.') {
        Some((first, rest)) => remove(table.get_mut(first)?.as_table_mut()?, rest),
        None => table.remove(key),
    }
}

/// `prefix.key`, or `key` at the top level.
fn dotted(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// Sets the value at a dotted key, creating the tables on the way.
fn set(table: &mut Table, key: &str, value: Value) -> Result<(), LabError> {
    let mut parts: Vec<&str> = key.split('.').collect();
    let last = parts.pop().unwrap_or(key);
    let mut current = table;
    for part in parts {
        current = current
            .entry(part.to_string())
            .or_insert_with(|| Value::Table(Table::new()))
            .as_table_mut()
            .ok_or_else(|| LabError::Config(format!("`{part}` in `{key}` is not a table")))?;
    }
    current.insert(last.to_string(), value);
    Ok(())
}
