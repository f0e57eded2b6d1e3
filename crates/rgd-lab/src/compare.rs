//! Side-by-side comparison: methods x hyperparameters x seeds on one data set, hyperparameters
//! selected on the validation split only, paired per-seed differences against ERM.

use std::path::Path;

use rgd::RuleConfig;
use serde::{Deserialize, Serialize};

use crate::LabError;
use crate::config::{ConfigFile, RunConfig};
use crate::launch::{Launcher, Point, run_points};
use crate::report::{
    DIFFERENCE_COLUMNS, Table, difference_cells, fmt_diff_ci, fmt_mean_std, fmt_wtl, mean_sd_cells,
};
use crate::run_dir::{RunOptions, write_atomic, write_json};
use crate::stats::{METRIC_TIE, PairedDifference, paired_difference, summarize};
use crate::suite::catalog::knob;
use crate::suite::tidy::difference_plot;
use crate::sweep::{Method, Ties, best};
use crate::train::Summary;

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
    fn valid_accuracies(&self) -> Vec<f64> {
        self.runs
            .iter()
            .map(|r| r.selected.valid.accuracy)
            .collect()
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

/// Runs every (method, setting, seed) of `grid` on `base` under `out` with `launcher`, reusing
/// finished runs and resuming interrupted ones, then selects each method's setting on
/// validation accuracy.
pub fn run_grid(
    base: &RunConfig,
    grid: &Grid,
    out: &Path,
    launcher: &Launcher,
    options: RunOptions,
) -> Result<Comparison, LabError> {
    // The grid's folder (tables, plots) is this process's; each run locks its own folder.
    let _lock = crate::lock::lock(out)?;
    let lrs = if grid.lrs.is_empty() {
        vec![base.optim.lr]
    } else {
        grid.lrs.clone()
    };
    // Every cell (method, setting) with its points, one per seed.
    let mut cells = Vec::new();
    let mut points = Vec::new();
    let mut methods = Vec::new();
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
                method.apply(&mut config)?;
                if let (Some(t), RuleConfig::Rgd(c)) = (tau, &mut config.method.rule) {
                    c.tau = *t;
                    setting.push(format!("tau={t}"));
                }
                config.optim.lr = lr;
                if lrs.len() > 1 {
                    setting.push(format!("lr={lr}"));
                }
                let setting = setting.join(" ");
                let folder = out.join(folder_name(method.name, &setting));
                for &seed in &grid.seeds {
                    config.seed = seed;
                    config.validate()?;
                    points.push(Point {
                        config: config.clone(),
                        folder: folder.join(format!("seed{seed}")),
                    });
                }
                cells.push(Cell {
                    method: method.name.to_string(),
                    setting,
                    runs: Vec::new(),
                });
            }
        }
        methods.push(first..cells.len());
    }
    let mut summaries = run_points(launcher, &points, out, options)?.into_iter();
    for cell in &mut cells {
        cell.runs = summaries.by_ref().take(grid.seeds.len()).collect();
    }
    // Per method, the best mean validation accuracy over seeds; ties to the last setting.
    let selected = methods
        .into_iter()
        .map(|range| {
            let mean = |c: &Cell| summarize(&c.valid_accuracies()).map_or(f64::NAN, |s| s.mean);
            let scores = range.map(|i| (mean(&cells[i]), i));
            best(scores, Ties::Last).expect("every method has at least one cell")
        })
        .collect();
    let comparison = Comparison { cells, selected };
    comparison.write(out)?;
    Ok(comparison)
}

/// The folder of a cell: the method's name, then each `key=value` of its setting as `-keyvalue`.
pub(crate) fn folder_name(method: &str, setting: &str) -> String {
    let mut name = method.to_string();
    for part in setting.split_whitespace() {
        name.push('-');
        name.push_str(&part.replace('=', ""));
    }
    name
}

impl Comparison {
    /// Writes `comparison.json`, `results.md`, `results.csv` and `comparison.svg` into `out`.
    fn write(&self, out: &Path) -> Result<(), LabError> {
        write_json(&out.join("comparison.json"), self)?;
        write_atomic(
            &out.join("results.md"),
            self.table().to_markdown().as_bytes(),
        )?;
        write_atomic(&out.join("results.csv"), self.tidy().to_csv().as_bytes())?;
        self.plot(&out.join("comparison.svg"))?;
        Ok(())
    }

    /// Each method at its selected setting: its cell, test accuracies, and the paired test
    /// difference to ERM (none for ERM itself, or without ERM).
    fn rows(&self) -> Vec<(&Cell, Vec<f64>, Option<PairedDifference>)> {
        let chosen = self.selected.iter().map(|&i| &self.cells[i]);
        let baseline = (chosen.clone().find(|c| c.method == "erm")).map(Cell::test_accuracies);
        chosen
            .map(|cell| {
                let test = cell.test_accuracies();
                let diff = (baseline.as_ref())
                    .filter(|_| cell.method != "erm")
                    .and_then(|b| paired_difference(&test, b, METRIC_TIE, 0.95));
                (cell, test, diff)
            })
            .collect()
    }

    /// `results.csv`: tidy, numbers as numbers (fractions), a row per method at its selected
    /// setting (`tau` and `lr` empty where not tuned, the difference to ERM empty for ERM).
    pub fn tidy(&self) -> Table {
        let columns = [
            "method",
            "tau",
            "lr",
            "seeds",
            "valid_mean",
            "valid_sd",
            "test_mean",
            "test_sd",
        ];
        let mut table = Table::new(columns.into_iter().chain(DIFFERENCE_COLUMNS));
        for (cell, test, diff) in self.rows() {
            let mut row = vec![cell.method.clone()];
            row.extend(["tau", "lr"].map(|k| knob(cell.setting.split_whitespace(), k)));
            row.push(test.len().to_string());
            for values in [&cell.valid_accuracies(), &test] {
                row.extend(mean_sd_cells(summarize(values).as_ref()));
            }
            row.extend(difference_cells(diff.as_ref()));
            table.push_row(row);
        }
        table
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
        for (cell, test, diff) in self.rows() {
            table.push_row([
                cell.method.clone(),
                if cell.setting.is_empty() {
                    "-".into()
                } else {
                    cell.setting.clone()
                },
                fmt_mean_std(&cell.valid_accuracies(), 100.0, 2),
                fmt_mean_std(&test, 100.0, 2),
                diff.as_ref()
                    .map_or("-".into(), |d| fmt_diff_ci(d, 100.0, 2)),
                diff.as_ref().map_or("-".into(), fmt_wtl),
            ]);
        }
        table
    }

    /// `comparison.svg`: each method's paired per-seed difference to ERM at its selected
    /// setting, with the 95% interval and the zero line. Returns whether there was anything to
    /// draw (there is not without ERM and another method).
    pub fn plot(&self, path: &Path) -> Result<bool, LabError> {
        let rows = self.rows();
        let seeds = rows.first().map_or(0, |(_, test, _)| test.len());
        let diffs = rows.into_iter().filter_map(|(cell, _, d)| {
            let label = match cell.setting.as_str() {
                "" => cell.method.clone(),
                setting => format!("{} ({setting})", cell.method),
            };
            Some((label, d?))
        });
        difference_plot(path, seeds, "accuracy", diffs)
    }
}
