//! The suites as data: each suite is a list of `Part`s; the points of a part (folder labels
//! and overrides) and their configs. The parts themselves are in `suite::parts`.

use std::path::Path;

use crate::LabError;
use crate::config::{ConfigFile, RunConfig};
use crate::launch::Point;
use crate::suite::TAUS;
use crate::sweep::Method;

use super::parts::{
    domains, images, images_converged, images_vit, images_vit_epochs, imbalance, noise, tabular,
    text, text_finetuned, text_finetuned_epochs, text_finetuned_lodo, text_transformer,
};

/// The suites `rgd reproduce` knows.
pub const SUITES: [&str; 7] = [
    "tabular",
    "images",
    "domains",
    "imbalance",
    "noise",
    "text",
    "meta",
];

/// A metric a suite selects on (validation) or reports (test).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Metric {
    /// Accuracy.
    #[default]
    Accuracy,
    /// Mean per-class recall.
    BalancedAccuracy,
    /// Mean per-class F1.
    MacroF1,
    /// Smallest per-class recall.
    WorstClass,
}

impl Metric {
    /// Its name in tables.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Accuracy => "accuracy",
            Metric::BalancedAccuracy => "balanced accuracy",
            Metric::MacroF1 => "macro-F1",
            Metric::WorstClass => "worst-class accuracy",
        }
    }

    /// The selection score of a split's metrics: this metric, its ties broken by the lower
    /// loss (`(metric, -loss)`, compared lexicographically). Small validation sets tie often
    /// (every tau of a 200-row set can classify the same rows right), and a tie would otherwise
    /// go to the first setting of the grid.
    ///
    /// ```
    /// use rgd_lab::metrics::Metrics;
    /// use rgd_lab::suite::catalog::Metric;
    /// let right = Metrics::compute(&[0, 1, 1, 1], &[0, 1, 0, 1], 2, None); // 3 of 4 right
    /// let m = |accuracy, loss| Metrics { accuracy, loss, ..right };
    /// let score = |accuracy, loss| Metric::Accuracy.score(&m(accuracy, loss));
    /// assert!(score(0.75, 0.5) > score(0.75, 0.6)); // a tie: the lower loss wins
    /// assert!(score(0.9, 0.9) > score(0.75, 0.1)); // otherwise the metric decides
    /// ```
    pub fn score(self, m: &crate::metrics::Metrics) -> (f64, f64) {
        (self.of(m), -m.loss)
    }

    /// Its value in `m`.
    pub fn of(self, m: &crate::metrics::Metrics) -> f64 {
        match self {
            Metric::Accuracy => m.accuracy,
            Metric::BalancedAccuracy => m.balanced_accuracy,
            Metric::MacroF1 => m.macro_f1,
            Metric::WorstClass => m.worst_class_accuracy,
        }
    }
}

/// One data set of a suite: its label and the config overrides that load it.
#[derive(Debug, Clone)]
pub(crate) struct DataSpec {
    pub(crate) label: String,
    pub(crate) overrides: Vec<String>,
}

/// A data set labelled `label`, loaded with `overrides`.
pub(crate) fn spec(label: &str, overrides: &[&str]) -> DataSpec {
    DataSpec {
        label: label.into(),
        overrides: overrides.iter().map(|s| s.to_string()).collect(),
    }
}

/// A hyperparameter grid of one method (besides the learning rate), tuned on validation.
#[derive(Debug, Clone)]
pub(crate) struct Grid {
    pub(crate) method: &'static str,
    /// The config key it sets (e.g. `method.rule.tau`).
    pub(crate) key: &'static str,
    /// Folder-label prefix (e.g. `tau` gives `tau1_3-lr0.001`).
    pub(crate) prefix: &'static str,
    pub(crate) values: Vec<(&'static str, f64)>,
}

impl Grid {
    pub(crate) fn tau(values: &[(&'static str, f64)]) -> Grid {
        Grid {
            method: "rgd",
            key: "method.rule.tau",
            prefix: "tau",
            values: values.to_vec(),
        }
    }
}

/// One table of a suite: one model (one base config) on its data sets, with its methods, grids
/// and seeds. Most suites have one part; `images` and `text` compare model families, one part
/// each.
#[derive(Debug, Clone, Default)]
pub(crate) struct Part<C = RunConfig> {
    /// The part's heading in the results ("" when the suite has one part).
    pub(crate) title: &'static str,
    /// Suffix of the part's `results-<slug>.csv` and `summary-<slug>.svg` ("" for the first).
    pub(crate) slug: &'static str,
    pub(crate) base: C,
    pub(crate) data: Vec<DataSpec>,
    pub(crate) methods: Vec<&'static str>,
    pub(crate) lrs: Vec<f64>,
    pub(crate) grids: Vec<Grid>,
    pub(crate) seeds: u64,
    /// Data-set label prefixes whose rows get an average and a worst-set row (the domains of
    /// one source in leave-one-domain-out).
    pub(crate) families: Vec<&'static str>,
    /// Report where the weight goes (flipped labels, classes) from the runs' weight traces.
    pub(crate) weight_tables: bool,
    /// Validation metric the settings are selected on.
    pub(crate) select: Metric,
    /// Test metrics reported, one table each (the first also gets the paired table).
    pub(crate) report: Vec<Metric>,
    pub(crate) notes: String,
}

impl Part {
    /// A part of the suites' usual protocol, for the caller to adapt: the tabular suite's
    /// methods at lr 1e-3, RGD's tau on the whole grid (quick: 1 and 3), 5 seeds (quick: 2),
    /// selected on and reporting accuracy.
    pub(crate) fn new(quick: bool, base: RunConfig, data: Vec<DataSpec>, notes: String) -> Part {
        Part {
            base,
            data,
            methods: vec!["erm", "rgd", "term", "absgd", "focal"],
            lrs: vec![1e-3],
            grids: vec![Grid::tau(if quick { &TAUS[2..4] } else { &TAUS })],
            seeds: if quick { 2 } else { 5 },
            report: vec![Metric::Accuracy],
            notes,
            ..Part::default()
        }
    }

    /// The part's file `<stem>.<ext>`, `<stem>-<slug>.<ext>` but for the first part.
    pub(crate) fn file(&self, stem: &str, ext: &str) -> String {
        match self.slug {
            "" => format!("{stem}.{ext}"),
            slug => format!("{stem}-{slug}.{ext}"),
        }
    }
}

/// A part's base config from `toml` (a bug in the suite's definition if it does not parse).
pub(crate) fn base_config<C: ConfigFile>(toml: &str) -> C {
    C::from_toml(toml).expect("the suite's base config is valid")
}

/// The parts of a suite, in table order.
pub(crate) fn suite(name: &str, quick: bool) -> Result<Vec<Part>, LabError> {
    match name {
        "tabular" => Ok(vec![tabular(quick)]),
        // Parts without a --quick version (an hour or more each) join only the full suite.
        "images" => {
            let mut parts = vec![images(quick), images_vit(quick), images_converged(quick)];
            if !quick {
                parts.push(images_vit_epochs());
            }
            Ok(parts)
        }
        "domains" => Ok(vec![domains(quick)]),
        "imbalance" => Ok(vec![imbalance(quick)]),
        "noise" => Ok(vec![noise(quick)]),
        "text" => {
            let mut parts = vec![text(quick), text_transformer(quick), text_finetuned(quick)];
            if !quick {
                parts.extend([text_finetuned_lodo(), text_finetuned_epochs()]);
            }
            Ok(parts)
        }
        other => Err(LabError::Config(format!(
            "unknown suite `{other}`; choose from {}, regimes or all",
            SUITES.join(", ")
        ))),
    }
}

/// A setting of a method: its folder label and its overrides.
pub(crate) type Setting = (String, Vec<String>);

/// The settings of a method.
pub(crate) fn settings<C>(method: &str, part: &Part<C>) -> Vec<Setting> {
    let mut out = Vec::new();
    for &lr in &part.lrs {
        let lr_set = format!("optim.lr={lr}");
        match part.grids.iter().find(|g| g.method == method) {
            Some(grid) => {
                for &(label, value) in &grid.values {
                    out.push((
                        format!("{}{}-lr{lr}", grid.prefix, label.replace('/', "_")),
                        vec![lr_set.clone(), format!("{}={value}", grid.key)],
                    ));
                }
            }
            None => out.push((format!("lr{lr}"), vec![lr_set.clone()])),
        }
    }
    out
}

/// The value of `key` in `key=value` items (empty when none sets it).
pub(crate) fn knob<S: AsRef<str>>(items: impl IntoIterator<Item = S>, key: &str) -> String {
    (items.into_iter())
        .find_map(|o| Some(o.as_ref().strip_prefix(key)?.strip_prefix('=')?.to_string()))
        .unwrap_or_default()
}

/// The config of one run of `part`: supervised, or meta-learning ([`crate::meta::suite`]).
pub(crate) trait SuiteConfig: crate::run_dir::Trainable {
    /// Sets `method` (its rule, and its loss or level) and `seed`.
    fn set(&mut self, method: &Method, seed: u64) -> Result<(), LabError>;
    /// The seed-0 score a part selects a setting on, compared as [`Metric::score`].
    fn score(part: &Part<Self>, run: &Self::Summary) -> (f64, f64);
    /// A run's time (seconds) in the suite's summed training time.
    fn secs(run: &Self::Summary) -> f64;
    /// Fetches the data sets of `points` missing from the cache (by default none).
    fn fetch_missing(_: &[Point<Self>]) -> Result<(), LabError> {
        Ok(())
    }
}

impl SuiteConfig for RunConfig {
    fn set(&mut self, method: &Method, seed: u64) -> Result<(), LabError> {
        self.seed = seed;
        method.apply(self)
    }

    fn score(part: &Part, run: &Self::Summary) -> (f64, f64) {
        part.select.score(&run.selected.valid)
    }

    fn secs(run: &Self::Summary) -> f64 {
        run.wall_secs
    }

    fn fetch_missing(points: &[Point]) -> Result<(), LabError> {
        crate::data::fetch_missing(points.iter().map(|p| &p.config.data))
    }
}

pub(crate) fn config_for<C: SuiteConfig>(
    part: &Part<C>,
    data: &DataSpec,
    method: &str,
    overrides: &[String],
    seed: u64,
) -> Result<C, LabError> {
    let mut config = part.base.with_overrides(&data.overrides)?;
    config.set(&Method::parse(method)?, seed)?;
    config.with_overrides(overrides)
}

/// The folder name of a data set's label.
pub(crate) fn folder_name(label: &str) -> String {
    label.replace([' ', '(', ')'], "")
}

/// The runs of `part` on `data` with `method` at `setting`, one per seed of `seeds`: their
/// configs and folders (`<out>/runs/<data>/<method>/<setting>/seed<k>`).
pub(crate) fn runs<C: SuiteConfig>(
    out: &Path,
    part: &Part<C>,
    data: &DataSpec,
    method: &str,
    (label, overrides): &Setting,
    seeds: std::ops::Range<u64>,
) -> Result<Vec<Point<C>>, LabError> {
    let data_folder = folder_name(&data.label);
    let dir = out.join(format!("runs/{data_folder}/{method}/{label}"));
    (seeds.map(|seed| {
        Ok(Point {
            config: config_for(part, data, method, overrides, seed)?,
            folder: dir.join(format!("seed{seed}")),
        })
    }))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn every_suite_builds_a_valid_config_for_every_run() {
        // `meta` has its own configs (crate::meta::suite), tested there.
        for name in SUITES.into_iter().filter(|&s| s != "meta") {
            for quick in [true, false] {
                let mut labels = Vec::new();
                for part in suite(name, quick).unwrap() {
                    for data in &part.data {
                        labels.push(folder_name(&data.label));
                        for &method in &part.methods {
                            let settings = settings(method, &part);
                            assert!(!settings.is_empty(), "{name}: {method} has no setting");
                            for (label, overrides) in settings {
                                let config = config_for(&part, data, method, &overrides, 0)
                                    .unwrap_or_else(|e| {
                                        panic!("{name} {}: {label}: {e}", data.label)
                                    });
                                config.validate().unwrap();
                            }
                        }
                    }
                }
                // Parts share the runs folder: their data-set folders must differ.
                let n = labels.len();
                labels.sort();
                labels.dedup();
                assert_eq!(labels.len(), n, "{name}: two data sets share a folder");
            }
        }
        let domains = &suite("domains", false).unwrap()[0];
        let config = config_for(domains, &domains.data[1], "groupdro", &[], 0).unwrap();
        assert_eq!(config.data.test_domain, "15°");
    }

    #[test]
    fn every_committed_record_is_what_its_suite_builds_now() {
        // `rgd reproduce SUITE` reuses a run only if its config.toml equals what the suite
        // builds: a config change that breaks this would silently retrain the suites.
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../results");
        for name in SUITES.into_iter().filter(|&s| s != "meta") {
            let out = root.join(name);
            let mut matched = 0;
            for part in suite(name, false).unwrap() {
                for data in &part.data {
                    for &method in &part.methods {
                        for setting in settings(method, &part) {
                            let seeds = 0..part.seeds;
                            for run in runs(&out, &part, data, method, &setting, seeds).unwrap() {
                                let path = run.folder.join("config.toml");
                                if !path.exists() {
                                    continue;
                                }
                                let committed = RunConfig::from_file(&path).unwrap();
                                assert_eq!(committed, run.config, "{}", path.display());
                                matched += 1;
                            }
                        }
                    }
                }
            }
            let committed = crate::suite::records::committed_configs(name).len();
            assert!(committed > 0, "{name}: no committed records found");
            assert_eq!(
                matched, committed,
                "{name}: records that no suite point builds"
            );
        }
    }
}
