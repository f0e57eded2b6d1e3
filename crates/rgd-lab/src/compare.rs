//! Side-by-side comparison: methods x hyperparameters x seeds on one data set, hyperparameters
//! selected on the validation split only, paired per-seed differences against ERM.

use std::path::Path;

use rgd::RuleConfig;
use serde::{Deserialize, Serialize};

use crate::LabError;
use crate::config::{CrossEntropyConfig, FocalConfig, LossConfig, RunConfig};
use crate::report::{Table, fmt_diff_ci, fmt_mean_std, fmt_wtl};
use crate::run_dir::{read_json, write_atomic, write_json};
use crate::stats::{METRIC_TIE, paired_difference, summarize};
use crate::train::{RunOptions, Summary, train};

/// A named method: a rule plus the loss it reweights.
#[derive(Debug, Clone, PartialEq)]
pub struct Method {
    /// Name in tables and folder names (`erm`, `rgd`, `focal`, ...).
    pub name: String,
    /// The rule.
    pub rule: RuleConfig,
    /// The loss it reweights: the focal loss for `focal`, else cross-entropy.
    pub focal: bool,
}

impl Method {
    /// A method by name with its default parameters: `erm`, `rgd` (tau 1), `rgd-norm`
    /// (normalised weights), `term` (tilt 1), `absgd` (lambda 1), `cvar` (alpha 0.5),
    /// `chi2` (rho 1), `focal` (ERM on the focal loss, gamma from the config), `groupdro`
    /// (eta 0.01); `term-neg` (tilt -1) and `absgd-neg` (lambda -1), the negative tilts that
    /// down-weight high losses (label noise).
    ///
    /// ```
    /// let m = rgd_lab::compare::Method::parse("focal").unwrap();
    /// assert!(m.focal);
    /// assert!(rgd_lab::compare::Method::parse("sgd").is_err());
    /// ```
    pub fn parse(name: &str) -> Result<Self, LabError> {
        use rgd::*;
        let rule = match name {
            "erm" | "focal" => RuleConfig::Erm,
            "rgd" => RuleConfig::Rgd(RgdConfig::new()),
            "rgd-norm" => RuleConfig::Rgd(RgdConfig::new().with_normalize(true)),
            "term" => RuleConfig::Term(TermConfig::new(1.0)),
            "absgd" => RuleConfig::Absgd(AbsgdConfig::new(1.0)),
            "term-neg" => RuleConfig::Term(TermConfig::new(-1.0)),
            "absgd-neg" => RuleConfig::Absgd(AbsgdConfig::new(-1.0)),
            "cvar" => RuleConfig::Cvar(CvarConfig::new(0.5)),
            "chi2" => RuleConfig::ChiSquare(ChiSquareConfig::new(1.0)),
            "groupdro" => RuleConfig::GroupDro(GroupDroConfig::new(1, 0.01)),
            other => {
                return Err(LabError::Config(format!(
                    "unknown method `{other}`; choose from erm, rgd, rgd-norm, term, term-neg, \
                     absgd, absgd-neg, cvar, chi2, focal, groupdro"
                )));
            }
        };
        Ok(Method {
            name: name.to_string(),
            rule,
            focal: name == "focal",
        })
    }

    /// Sets the method's rule and loss in `config`. The loss keeps its own keys when `config`
    /// already has that loss (a focal gamma of the base config), else takes its defaults.
    pub fn apply(&self, config: &mut RunConfig) {
        config.method.rule = self.rule;
        config.method.loss = match (self.focal, config.method.loss) {
            (true, focal @ LossConfig::Focal(_)) => focal,
            (true, LossConfig::CrossEntropy(_)) => LossConfig::Focal(FocalConfig::default()),
            (false, ce @ LossConfig::CrossEntropy(_)) => ce,
            (false, LossConfig::Focal(_)) => {
                LossConfig::CrossEntropy(CrossEntropyConfig::default())
            }
        };
    }
}

/// The grid of a comparison.
#[derive(Debug, Clone)]
pub struct Grid {
    /// Methods; the first `erm` in the list is the baseline of the paired differences.
    pub methods: Vec<Method>,
    /// Seeds (runs are paired by seed).
    pub seeds: Vec<u64>,
    /// Values of tau tried for the RGD methods (empty: the method's own).
    pub taus: Vec<f64>,
    /// Learning rates tried for every method (empty: the config's).
    pub lrs: Vec<f64>,
}

/// One cell of the grid: a method at one hyperparameter setting, all seeds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cell {
    /// Method name.
    pub method: String,
    /// Hyperparameters, e.g. `tau=1 lr=0.001`.
    pub setting: String,
    /// Per-seed summaries, in seed order.
    pub runs: Vec<Summary>,
}

impl Cell {
    fn valid_mean(&self) -> f64 {
        self.runs
            .iter()
            .map(|r| r.selected.valid.accuracy)
            .sum::<f64>()
            / self.runs.len() as f64
    }

    fn test_accuracies(&self) -> Vec<f64> {
        self.runs.iter().map(|r| r.selected.test.accuracy).collect()
    }
}

/// The outcome of a comparison: every cell, and the selected one per method.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Comparison {
    /// Every cell of the grid.
    pub cells: Vec<Cell>,
    /// Index into `cells` of each method's cell with the best mean validation accuracy.
    pub selected: Vec<usize>,
}

fn fmt_value(v: f64) -> String {
    format!("{v}")
}

/// Runs every (method, setting, seed) of `grid` on `base` under `out`, reusing finished runs and
/// resuming interrupted ones, then selects each method's setting on validation accuracy.
pub fn run_grid(
    base: &RunConfig,
    grid: &Grid,
    out: &Path,
    options: RunOptions,
) -> Result<Comparison, LabError> {
    let lrs = if grid.lrs.is_empty() {
        vec![base.optim.lr]
    } else {
        grid.lrs.clone()
    };
    let mut cells = Vec::new();
    let mut selected = Vec::new();
    for method in &grid.methods {
        let taus: Vec<Option<f64>> = match method.rule {
            RuleConfig::Rgd(_) if !grid.taus.is_empty() => {
                grid.taus.iter().map(|&t| Some(t)).collect()
            }
            _ => vec![None],
        };
        let first = cells.len();
        for tau in &taus {
            for &lr in &lrs {
                let mut setting = Vec::new();
                let mut config = base.clone();
                method.apply(&mut config);
                if let (Some(t), RuleConfig::Rgd(c)) = (tau, &mut config.method.rule) {
                    c.tau = *t;
                    setting.push(format!("tau={}", fmt_value(*t)));
                }
                config.optim.lr = lr;
                if lrs.len() > 1 {
                    setting.push(format!("lr={}", fmt_value(lr)));
                }
                let setting = setting.join(" ");
                let folder = out.join(folder_name(&method.name, &setting));
                let mut runs = Vec::new();
                for &seed in &grid.seeds {
                    config.seed = seed;
                    config.validate()?;
                    runs.push(run_or_reuse(
                        &config,
                        &folder.join(format!("seed{seed}")),
                        options,
                    )?);
                }
                cells.push(Cell {
                    method: method.name.clone(),
                    setting,
                    runs,
                });
            }
        }
        let best = (first..cells.len())
            .max_by(|&a, &b| cells[a].valid_mean().total_cmp(&cells[b].valid_mean()))
            .expect("every method has at least one cell");
        selected.push(best);
    }
    let comparison = Comparison { cells, selected };
    write_json(&out.join("comparison.json"), &comparison)?;
    let table = comparison.table();
    write_atomic(&out.join("results.md"), table.to_markdown().as_bytes())?;
    write_atomic(&out.join("results.csv"), table.to_csv().as_bytes())?;
    comparison.plot(&out.join("comparison.svg"))?;
    Ok(comparison)
}

fn folder_name(method: &str, setting: &str) -> String {
    let mut name = method.to_string();
    for part in setting.split_whitespace() {
        name.push('-');
        name.push_str(&part.replace('=', ""));
    }
    name
}

/// Reuses a finished run with the same config, else trains (resuming if it was interrupted).
pub fn run_or_reuse(
    config: &RunConfig,
    folder: &Path,
    options: RunOptions,
) -> Result<Summary, LabError> {
    let run = crate::run_dir::RunDir::new(folder);
    if run.config().exists() {
        let existing = RunConfig::from_file(&run.config())?;
        if &existing != config {
            return Err(LabError::Config(format!(
                "{} holds a run with a different config; delete it or choose another output folder",
                folder.display()
            )));
        }
        if run.summary().exists() {
            return read_json(&run.summary());
        }
    } else {
        crate::run_dir::write_config(&run, &config.to_toml())?;
    }
    train(config, folder, options)
}

impl Comparison {
    fn baseline(&self) -> Option<&Cell> {
        self.selected
            .iter()
            .map(|&i| &self.cells[i])
            .find(|c| c.method == "erm")
    }

    /// The results table: test accuracy (mean ± std over seeds, in percent) of each method at
    /// its selected setting, the paired difference to ERM with a 95% confidence interval, and
    /// wins/ties/losses over seeds.
    pub fn table(&self) -> Table {
        let mut table = Table::new([
            "method",
            "selected on validation",
            "valid acc (%)",
            "test acc (%)",
            "test Δ vs ERM (pts, 95% CI)",
            "W/T/L vs ERM",
        ]);
        let baseline = self.baseline().map(Cell::test_accuracies);
        for &i in &self.selected {
            let cell = &self.cells[i];
            let test = cell.test_accuracies();
            let valid: Vec<f64> = cell
                .runs
                .iter()
                .map(|r| r.selected.valid.accuracy)
                .collect();
            let diff = baseline
                .as_ref()
                .filter(|_| cell.method != "erm")
                .and_then(|b| paired_difference(&test, b, METRIC_TIE, 0.95));
            table.push_row([
                cell.method.clone(),
                if cell.setting.is_empty() {
                    "-".into()
                } else {
                    cell.setting.clone()
                },
                summarize(&valid).map_or("-".into(), |s| fmt_mean_std(&s, 100.0, 2)),
                summarize(&test).map_or("-".into(), |s| fmt_mean_std(&s, 100.0, 2)),
                diff.as_ref()
                    .map_or("-".into(), |d| fmt_diff_ci(d, 100.0, 2)),
                diff.as_ref().map_or("-".into(), fmt_wtl),
            ]);
        }
        table
    }

    fn plot(&self, path: &Path) -> Result<(), LabError> {
        let bars: Vec<(String, f64, f64, f64)> = self
            .selected
            .iter()
            .map(|&i| {
                let cell = &self.cells[i];
                let test = cell.test_accuracies();
                let mean = summarize(&test).map_or(0.0, |s| s.mean) * 100.0;
                let (lo, hi) =
                    crate::stats::t_interval(&test, 0.95).unwrap_or((mean / 100.0, mean / 100.0));
                (cell.method.clone(), mean, lo * 100.0, hi * 100.0)
            })
            .collect();
        crate::plot::bar_chart(
            path,
            "Test accuracy at the selected setting",
            "accuracy (%)",
            &bars,
        )
    }
}
