//! Finding the records under the report's paths: every run folder (one with a `summary.json`),
//! and every `compare` folder (`comparison.json`) and `reproduce` suite folder (`meta.json`)
//! that holds some of them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::LabError;
use crate::compare::Comparison;
use crate::meta::train::MetaSummary;
use crate::run_dir::{read, read_json};
use crate::suite::provenance::Provenance;
use crate::train::Summary;

/// What a run folder's `summary.json` holds.
#[derive(Debug, Clone)]
pub enum Record {
    /// A supervised run.
    Supervised(Box<Summary>),
    /// A meta-learning run.
    Meta(Box<MetaSummary>),
}

impl Record {
    /// Steps trained, wall time of training (seconds), and the selected validation and test
    /// accuracy (meta: the mean meta-test accuracy).
    pub fn numbers(&self) -> (u64, f64, f64, f64) {
        match self {
            Record::Supervised(s) => {
                let e = &s.selected;
                (s.steps, s.wall_secs, e.valid.accuracy, e.test.accuracy)
            }
            Record::Meta(s) => (s.steps, s.wall_secs, s.selected.valid_accuracy, s.test.mean),
        }
    }
}

/// One run folder and what the report shows of it.
#[derive(Debug, Clone)]
pub struct Run {
    /// Its page's name (unique in the report).
    pub id: String,
    /// Its folder below the parent of the path it was found under (what the index shows).
    pub name: String,
    /// The folder.
    pub folder: PathBuf,
    /// The group (comparison or suite) it belongs to, an index into [`Collection::groups`].
    pub group: Option<usize>,
    /// The data set (the suite's label, else the config's source).
    pub data_set: String,
    /// The method's name.
    pub method: String,
    /// Its setting (e.g. `tau=1 lr=0.001`; empty when there is none).
    pub setting: String,
    /// The run's seed.
    pub seed: u64,
    /// Its summary.
    pub record: Record,
    /// The text of its `config.toml` (empty when there is none).
    pub config: String,
}

/// What kind of folder holds a group of runs.
#[derive(Debug, Clone)]
pub enum GroupKind {
    /// An `rgd compare` folder.
    Comparison(Box<Comparison>),
    /// An `rgd reproduce` suite folder.
    Suite(Box<Provenance>),
}

/// A comparison or a suite.
#[derive(Debug, Clone)]
pub struct Group {
    /// Its page's name (unique in the report).
    pub id: String,
    /// Its folder.
    pub folder: PathBuf,
    /// `compare FOLDER` (below the parent of the path it was found under) or `reproduce SUITE`.
    pub title: String,
    /// What it is.
    pub kind: GroupKind,
}

/// Every run and group under the report's paths.
#[derive(Debug, Clone, Default)]
pub struct Collection {
    /// The runs, in path order.
    pub runs: Vec<Run>,
    /// The comparisons and suites.
    pub groups: Vec<Group>,
}

/// Folders never searched for runs: a run's own checkpoint, best model and plots.
const SKIPPED: [&str; 4] = ["checkpoint", "best", "plots", "slurm"];

/// Collects the runs and groups under each of `paths` (each a run folder, a `compare` folder,
/// a suite folder, or any folder above them). A folder is searched once even if two paths
/// reach it, symbolic links below the paths are not followed, and an unfinished run (no
/// `summary.json`) is left out.
///
/// # Errors
///
/// [`LabError::Io`] for a path that cannot be read, [`LabError::Corrupt`] for a record that is
/// not what its name says, [`LabError::Config`] when no path holds a run.
pub fn collect(paths: &[PathBuf]) -> Result<Collection, LabError> {
    let mut collection = Collection::default();
    let mut seen = std::collections::BTreeSet::new();
    for path in paths {
        let canonical = path.canonicalize().map_err(|e| LabError::io(path, e))?;
        // Pages are named by the path below the argument's parent folder.
        let root = canonical.parent().unwrap_or(&canonical).to_path_buf();
        walk(&canonical, &root, None, &mut seen, &mut collection)?;
    }
    if collection.runs.is_empty() {
        let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(LabError::Config(format!(
            "no finished run under {}: a run folder holds a summary.json (train one with \
             `rgd train`, `rgd compare` or `rgd reproduce`)",
            names.join(", ")
        )));
    }
    let mut ids = BTreeMap::new();
    for run in &mut collection.runs {
        run.id = unique(&mut ids, slug(&run.id));
    }
    for group in &mut collection.groups {
        group.id = unique(&mut ids, slug(&group.id));
    }
    Ok(collection)
}

fn walk(
    dir: &Path,
    root: &Path,
    group: Option<usize>,
    seen: &mut std::collections::BTreeSet<PathBuf>,
    out: &mut Collection,
) -> Result<(), LabError> {
    if !seen.insert(dir.to_path_buf()) {
        return Ok(());
    }
    if dir.join("summary.json").is_file() {
        let run = run(dir, root, group, out)?;
        out.runs.push(run);
        return Ok(());
    }
    let group = match group_kind(dir)? {
        Some(kind) => {
            let name = relative(dir, root);
            let (id, title) = match &kind {
                GroupKind::Comparison(_) => (format!("compare-{name}"), format!("compare {name}")),
                GroupKind::Suite(p) => (format!("suite-{name}"), format!("reproduce {}", p.suite)),
            };
            out.groups.push(Group {
                id,
                folder: dir.to_path_buf(),
                title,
                kind,
            });
            Some(out.groups.len() - 1)
        }
        None => group,
    };
    // Real folders only: a symbolic link is not followed (a link to a parent would loop).
    let mut children: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| LabError::io(dir, e))?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|e| !SKIPPED.iter().any(|s| e.file_name() == *s))
        .map(|e| e.path())
        .collect();
    children.sort();
    for child in children {
        walk(&child, root, group, seen, out)?;
    }
    Ok(())
}

/// The group a folder is, if any.
fn group_kind(dir: &Path) -> Result<Option<GroupKind>, LabError> {
    let path = dir.join("comparison.json");
    if path.is_file() {
        return Ok(Some(GroupKind::Comparison(Box::new(read_json(&path)?))));
    }
    let meta = dir.join("meta.json");
    if meta.is_file() && dir.join("runs").is_dir() {
        return Ok(Some(GroupKind::Suite(Box::new(read_json(&meta)?))));
    }
    Ok(None)
}

fn run(dir: &Path, root: &Path, group: Option<usize>, out: &Collection) -> Result<Run, LabError> {
    let summary_path = dir.join("summary.json");
    let value: serde_json::Value = read_json(&summary_path)?;
    let corrupt = |e: serde_json::Error| {
        LabError::corrupt(summary_path.clone(), format!("not a run summary ({e})"))
    };
    let record = if value.get("learner").is_some() {
        Record::Meta(Box::new(serde_json::from_value(value).map_err(corrupt)?))
    } else {
        Record::Supervised(Box::new(serde_json::from_value(value).map_err(corrupt)?))
    };
    let config_path = dir.join("config.toml");
    let config = if config_path.is_file() {
        String::from_utf8_lossy(&read(&config_path)?).into_owned()
    } else {
        String::new()
    };
    let (seed, rule) = match &record {
        Record::Supervised(s) => (s.seed, s.rule.clone()),
        Record::Meta(s) => (s.seed, format!("{}-{}", s.rule, s.level)),
    };
    let name = relative(dir, root);
    let mut run = Run {
        id: name.clone(),
        name,
        folder: dir.to_path_buf(),
        group,
        data_set: data_set_of(&config),
        method: rule,
        setting: String::new(),
        seed,
        record,
        config,
    };
    if let Some(g) = group.map(|g| &out.groups[g]) {
        label_from_group(&mut run, g);
    }
    Ok(run)
}

/// Data set, method and setting from the run's place in its group: a suite's
/// `runs/<data>/<method>/<setting>/seed<k>`, a comparison's `<method>[-<setting>]/seed<k>`.
fn label_from_group(run: &mut Run, group: &Group) {
    let Ok(relative) = run.folder.strip_prefix(&group.folder) else {
        return;
    };
    let parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    match &group.kind {
        GroupKind::Suite(_) => {
            if let [runs, data, method, setting, _seed] = parts.as_slice()
                && runs == "runs"
            {
                run.data_set = data.clone();
                run.method = method.clone();
                run.setting = setting.clone();
            }
        }
        GroupKind::Comparison(comparison) => {
            if let [folder, _seed] = parts.as_slice()
                && let Some(cell) = (comparison.cells.iter())
                    .find(|c| crate::compare::folder_name(&c.method, &c.setting) == *folder)
            {
                run.method = cell.method.clone();
                run.setting = cell.setting.clone();
            }
        }
    }
}

/// The data set a config names: `data.source` (supervised), or the benchmark with its ways and
/// shots (meta-learning).
fn data_set_of(config: &str) -> String {
    let Ok(table) = config.parse::<toml::Table>() else {
        return String::new();
    };
    let get = |section: &str, key: &str| table.get(section).and_then(|s| s.get(key)).cloned();
    if let Some(toml::Value::String(source)) = get("data", "source") {
        return source;
    }
    match (
        get("data", "benchmark"),
        get("episode", "ways"),
        get("episode", "shots"),
    ) {
        (Some(toml::Value::String(b)), Some(w), Some(s)) => format!("{b}-{w}way-{s}shot"),
        (Some(toml::Value::String(b)), _, _) => b,
        _ => String::new(),
    }
}

/// `dir` below `root`, as text.
fn relative(dir: &Path, root: &Path) -> String {
    dir.strip_prefix(root).unwrap_or(dir).display().to_string()
}

/// A file-name-safe form of `id`: ASCII letters, digits, `.`, `_` and `-` kept, `/` turned into
/// `--`, anything else into `_`.
fn slug(id: &str) -> String {
    let mut s = String::with_capacity(id.len());
    for c in id.chars() {
        match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '_' | '-' => s.push(c),
            '/' => s.push_str("--"),
            _ => s.push('_'),
        }
    }
    s.trim_start_matches('.').to_string()
}

/// `name`, or `name-2`, `name-3`, ... when it is taken.
fn unique(taken: &mut BTreeMap<String, usize>, name: String) -> String {
    let count = taken.entry(name.clone()).or_insert(0);
    *count += 1;
    if *count == 1 {
        name
    } else {
        format!("{name}-{count}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_file_names() {
        assert_eq!(
            slug("suite-noise/runs/magic/rgd/tau1/seed0"),
            "suite-noise--runs--magic--rgd--tau1--seed0"
        );
        assert_eq!(slug("rotated-mnist-15°"), "rotated-mnist-15_");
        assert_eq!(slug("../x"), "--x");
    }

    #[test]
    fn taken_names_get_a_suffix() {
        let mut taken = BTreeMap::new();
        assert_eq!(unique(&mut taken, "a".into()), "a");
        assert_eq!(unique(&mut taken, "a".into()), "a-2");
        assert_eq!(unique(&mut taken, "b".into()), "b");
    }

    #[test]
    fn data_set_from_either_config() {
        assert_eq!(data_set_of("[data]\nsource = \"magic\"\n"), "magic");
        assert_eq!(
            data_set_of("[data]\nbenchmark = \"letter\"\n[episode]\nways = 5\nshots = 1\n"),
            "letter-5way-1shot"
        );
        assert_eq!(data_set_of("not toml ["), "");
    }
}
