//! The commands behind `rgd`'s arguments: one method of [`Cli`] per command, and the printing.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::{BenchAction, Cli, Command, DataAction};
use crate::LabError;
use crate::compare::{Grid, run_grid};
use crate::config::{ConfigFile, RunConfig};
use crate::launch::Launcher;
use crate::meta::config::MetaConfig;
use crate::meta::train::MetaSummary;
use crate::run_dir::{RunDir, RunOptions, Trainable};
use crate::sweep::Method;
use crate::train::Summary;

impl Cli {
    fn options(&self) -> RunOptions {
        RunOptions {
            quiet: self.quiet,
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
            } => self.train::<RunConfig>(config.as_deref(), overrides, name.as_deref(), runs_dir),
            Command::Meta {
                config,
                overrides,
                name,
                runs_dir,
            } => self.train::<MetaConfig>(config.as_deref(), overrides, name.as_deref(), runs_dir),
            Command::Resume { run } => self.resume(run),
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
                    self.reproduce(name, *quick, *render_only, out.as_deref(), doc, &launcher)?;
                }
                Ok(())
            }
            Command::Status { dir } => self.status(dir),
            Command::Report { paths, out } => self.report(paths, out),
            Command::Eval { run } => crate::inference::eval(run, self.device, self.json),
            Command::Predict { run, input } => {
                crate::inference::predict(run, input, self.device, self.json)
            }
            Command::Export { run, output } => self.export(run, output),
            // Straight into the benchmark: it sets the thread count before burn starts its pool.
            Command::Bench {
                action: BenchAction::Speed(args),
            } => crate::bench::speed_on(args, self.json, self.device),
            Command::Data { action } => data(action, self.json),
        }
    }

    /// `rgd train` and `rgd meta`: trains the config (or reuses its finished run) and prints the
    /// summary.
    fn train<C: CliRun>(
        &self,
        config: Option<&Path>,
        overrides: &[String],
        name: Option<&str>,
        runs_dir: &Path,
    ) -> Result<(), LabError> {
        let config = C::load(config, overrides)?;
        let name = name.map_or_else(|| config.default_name(), str::to_string);
        let folder = runs_dir.join(&name);
        let finished = RunDir::new(&folder).summary().exists();
        let summary = config.run_or_reuse(&folder, self.options())?;
        if finished && !self.quiet {
            eprintln!(
                "{}: reused the finished run of this config (nothing trained); delete the \
                 folder or choose another --name to train it again",
                folder.display()
            );
        }
        self.print_summary::<C>(&folder, &summary);
        Ok(())
    }

    /// `rgd resume`: continues a supervised or meta-learning run from its last checkpoint.
    fn resume(&self, run: &Path) -> Result<(), LabError> {
        // Locked before anything is read: a folder in use is busy (75), whatever it holds.
        let _lock = crate::lock::lock(run)?;
        if crate::meta::is_meta_run(run)? {
            self.resume_as::<MetaConfig>(run)
        } else {
            self.resume_as::<RunConfig>(run)
        }
    }

    /// `rgd resume` of a run folder holding a `C`, whose lock the caller holds: continues it
    /// from its checkpoint (or trains it from the start when it has none, as a launcher's worker
    /// does).
    fn resume_as<C: CliRun>(&self, run: &Path) -> Result<(), LabError> {
        let config = C::from_file(&RunDir::new(run).config())?;
        let summary = config.train_in(run, self.options())?;
        self.print_summary::<C>(run, &summary);
        Ok(())
    }

    /// One suite of `rgd reproduce`: runs it (or renders its records), splices its markdown into
    /// `doc` unless `quick`, and prints it.
    fn reproduce(
        &self,
        name: &str,
        quick: bool,
        render_only: bool,
        out: Option<&Path>,
        doc: &Path,
        launcher: &Launcher,
    ) -> Result<(), LabError> {
        let suffix = if quick { "-quick" } else { "" };
        let folder = out.map_or_else(
            || PathBuf::from("results").join(format!("{name}{suffix}")),
            Path::to_path_buf,
        );
        let markdown = if render_only {
            crate::reproduce::render_only(name, &folder)?
        } else {
            crate::reproduce::run(name, quick, &folder, launcher, self.options())?
        };
        if !quick {
            let old = std::fs::read_to_string(doc).unwrap_or_default();
            let new = crate::suite::doc::splice(&old, name, &markdown);
            crate::run_dir::write_atomic(doc, new.as_bytes())?;
        }
        if self.json {
            let printed = json!({ "suite": name, "out": folder, "markdown": markdown });
            println!("{printed}");
        } else {
            println!("{markdown}");
        }
        Ok(())
    }

    /// `rgd status`: done, running, pending and failed points of a grid folder.
    fn status(&self, dir: &Path) -> Result<(), LabError> {
        let status = crate::launch::status::of(dir)?;
        if self.json {
            super::print_json(&status);
        } else {
            print!("{}", status.render());
        }
        Ok(())
    }

    /// `rgd report`: the HTML site of runs and suites.
    fn report(&self, paths: &[PathBuf], out: &Path) -> Result<(), LabError> {
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

    /// `rgd export`: the selected model's weights as safetensors.
    fn export(&self, run: &Path, output: &Path) -> Result<(), LabError> {
        let (_, model) = crate::inference::load_best(run, self.device)?;
        let n = crate::export::export_safetensors(&model, output)?;
        if !self.quiet {
            println!("wrote {n} tensors to {}", output.display());
        }
        Ok(())
    }

    fn demo(&self, out: &Path, seeds: u64) -> Result<(), LabError> {
        let config = RunConfig::from_toml(DEMO_CONFIG)?;
        if !self.quiet {
            eprintln!(
                "rgd demo: ERM vs RGD (tau = 1) on the embedded MAGIC gamma telescope data \
                 (19020 rows, 10 features, 2 classes), MLP 256-256, AdamW, 15 epochs, {seeds} seeds"
            );
        }
        let grid = grid(&["erm".into(), "rgd".into()], seeds, &[], &[])?;
        self.compare(&config, &grid, out, &Launcher::default())
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
            super::print_json(&comparison);
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

    fn print_summary<C: CliRun>(&self, run: &Path, summary: &C::Summary) {
        if self.json {
            super::print_json(summary);
        } else if !self.quiet {
            C::print_line(run, summary);
        }
    }
}

/// What `rgd train`, `rgd meta` and `rgd resume` need of a run's config beyond [`Trainable`].
trait CliRun: Trainable<Summary: serde::Serialize> {
    /// The run folder's name without `--name` (as the `--name` help says).
    fn default_name(&self) -> String;
    /// Prints the finished run's one line (without `--json`).
    fn print_line(run: &Path, summary: &Self::Summary);
}

impl CliRun for RunConfig {
    fn default_name(&self) -> String {
        let rule = self.method.rule.init().map_or("rule", |r| r.name());
        let source = sanitize(&self.data.source);
        format!("{source}-{rule}-seed{}", self.seed)
    }

    fn print_line(run: &Path, summary: &Summary) {
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

impl CliRun for MetaConfig {
    fn default_name(&self) -> String {
        let rule = self.method.rule.init().map_or("rule", |r| r.name());
        format!(
            "meta-{}-{}-{rule}-{}-seed{}",
            self.data.benchmark(),
            self.learner.kind(),
            self.method.level.name(),
            self.seed
        )
    }

    fn print_line(run: &Path, s: &MetaSummary) {
        println!(
            "{}: {} {} ({} level) seed {}, {} meta-steps in {:.1}s; best meta-valid acc {:.4} at \
             step {}; meta-test acc {:.4} (95% CI {:.4}-{:.4}, worst tenth {:.4}) over {} episodes",
            run.display(),
            s.learner,
            s.rule,
            s.level,
            s.seed,
            s.steps,
            s.wall_secs,
            s.selected.valid_accuracy,
            s.selected.step,
            s.test.mean,
            s.test.ci95_low,
            s.test.ci95_high,
            s.test.worst_tenth,
            s.test.episodes,
        );
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

/// The grid of `rgd compare`: methods by name, seeds `0..seeds`, the tau and lr values.
fn grid(methods: &[String], seeds: u64, taus: &[f64], lrs: &[f64]) -> Result<Grid, LabError> {
    crate::config::check(seeds > 0, || "--seeds must be at least 1".into())?;
    Ok(Grid {
        methods: (methods.iter().map(|m| Method::parse(m))).collect::<Result<_, _>>()?,
        seeds: (0..seeds).collect(),
        taus: taus.to_vec(),
        lrs: lrs.to_vec(),
    })
}

/// A grid's base config (as [`ConfigFile::load`]) and its `[launcher]` table, which is no part of
/// any run's config.
fn load_grid_config(
    path: Option<&Path>,
    overrides: &[String],
) -> Result<(RunConfig, Option<toml::Table>), LabError> {
    let Some(path) = path else {
        return Ok((RunConfig::load(None, overrides)?, None));
    };
    let text = std::fs::read_to_string(path).map_err(|e| LabError::io(path, e))?;
    let in_file = |m: String| LabError::Config(format!("{}: {m}", path.display()));
    let mut table: toml::Table = text.parse().map_err(|e| in_file(format!("{e}")))?;
    let launcher = match table.remove("launcher") {
        Some(toml::Value::Table(t)) => Some(t),
        Some(_) => return Err(in_file("launcher must be a table ([launcher])".into())),
        None => None,
    };
    let base: RunConfig = crate::config::file::from_table(table).map_err(|e| match e {
        LabError::Config(m) => in_file(m),
        other => other,
    })?;
    Ok((base.with_overrides(overrides)?, launcher))
}

fn sanitize(name: &str) -> String {
    let stem = (Path::new(name).file_stem().and_then(|s| s.to_str())).unwrap_or(name);
    stem.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "-")
}

fn data(action: &DataAction, as_json: bool) -> Result<(), LabError> {
    let cache = rgd_data::registry::cache_dir();
    match action {
        DataAction::List => {
            let names = rgd_data::registry::list_names(&cache);
            if as_json {
                let items = (names.iter()).map(|(n, p)| json!({ "name": n, "present": p }));
                println!("{}", serde_json::Value::Array(items.collect()));
            } else {
                println!("data sets (cache: {}):", cache.display());
                for (name, present) in names {
                    let state = if present { "present" } else { "not fetched" };
                    println!("  {name:<32} {state}");
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
