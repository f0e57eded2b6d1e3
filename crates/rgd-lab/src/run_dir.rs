//! The run folder: one self-describing directory per run, every file written atomically.
//!
//! ```text
//! <run>/config.toml        resolved config, command line, versions
//! <run>/schema.json        a table's encoding: column kinds, categories, classes, fills
//! <run>/standardizer.json  the standardisation fitted on the training split
//! <run>/metrics.csv        one tidy row per logged step and per evaluation
//! <run>/weights.jsonl      the batch weights at each evaluation (for the histogram)
//! <run>/checkpoint/        model, optimizer, rule state, step: the resume point
//! <run>/best/model.bpk     the model at the best validation accuracy
//! <run>/summary.json       final metrics, wall time, throughput
//! <run>/plots/*.svg        learning curves and weight histograms
//! ```

use std::path::{Path, PathBuf};

use crate::LabError;
use crate::config::ConfigFile;

/// Options of one run that do not change its result.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Print nothing but errors and the final result (`--quiet`).
    pub quiet: bool,
    /// The backend to compute on.
    pub device: crate::device::DeviceChoice,
}

/// A run's config that trains in a folder: supervised (`RunConfig`) or meta-learning
/// (`MetaConfig`). What a launcher needs of a grid point.
pub trait Trainable: crate::config::file::ConfigFile + PartialEq + Clone {
    /// What the finished run's `summary.json` holds.
    type Summary: serde::de::DeserializeOwned + crate::numerics::Versioned;

    /// Trains the run in `folder`, resuming from its checkpoint if there is one.
    fn train_in(&self, folder: &Path, options: RunOptions) -> Result<Self::Summary, LabError>;

    /// Reuses the finished run in `folder` if it has the same config and was computed with this
    /// build's numerics, else trains it there (which resumes an interrupted run). A folder
    /// holding another config, or a finished run of other numerics, is an error: nothing is
    /// overwritten. The folder is locked ([`crate::lock`]) until this returns.
    fn run_or_reuse(&self, folder: &Path, options: RunOptions) -> Result<Self::Summary, LabError> {
        let (_lock, finished) = stage(self, folder)?;
        finished.map_or_else(|| self.train_in(folder, options), Ok)
    }
}

/// Paths inside one run folder.
#[derive(Debug, Clone)]
pub struct RunDir {
    root: PathBuf,
}

impl RunDir {
    /// The run folder at `root` (not created).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        RunDir { root: root.into() }
    }

    /// The folder itself.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

/// The accessors of [`RunDir`]: each a file or folder of the run, named in its doc.
macro_rules! run_files {
    ($($name:ident => $file:literal,)*) => {
        impl RunDir {
            $(#[doc = concat!("`", $file, "`.")]
            pub fn $name(&self) -> PathBuf {
                self.root.join($file)
            })*
        }
    };
}

run_files! {
    config => "config.toml",
    standardizer => "standardizer.json",
    schema => "schema.json",
    metrics => "metrics.csv",
    weights => "weights.jsonl",
    checkpoint => "checkpoint",
    best => "best",
    summary => "summary.json",
    plots => "plots",
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, flushed to disk, then
/// renamed over `path`. A crash leaves either the old file or the new one, never half of one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), LabError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| LabError::io(parent, e))?;
    }
    let tmp = path.with_extension(format!(
        "{}.tmp",
        path.extension().and_then(|e| e.to_str()).unwrap_or("")
    ));
    let mut file = std::fs::File::create(&tmp).map_err(|e| LabError::io(&tmp, e))?;
    crate::crash::write_all(&mut file, bytes).map_err(|e| LabError::io(&tmp, e))?;
    file.sync_all().map_err(|e| LabError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| LabError::io(path, e))
}

/// Replaces the folder `dir` by one filled by `fill`, atomically: `fill` writes into
/// `dir.tmp`, the old folder moves to `dir.old`, the new one into place, the old one is removed.
/// [`recover_folder`] finishes an interrupted swap.
pub fn replace_folder(
    dir: &Path,
    fill: impl FnOnce(&Path) -> Result<(), LabError>,
) -> Result<(), LabError> {
    let tmp = dir.with_extension("tmp");
    let old = dir.with_extension("old");
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| LabError::io(&tmp, e))?;
    }
    std::fs::create_dir_all(&tmp).map_err(|e| LabError::io(&tmp, e))?;
    fill(&tmp)?;
    crate::crash::point();
    if dir.exists() {
        if old.exists() {
            std::fs::remove_dir_all(&old).map_err(|e| LabError::io(&old, e))?;
        }
        std::fs::rename(dir, &old).map_err(|e| LabError::io(dir, e))?;
        crate::crash::point();
    }
    std::fs::rename(&tmp, dir).map_err(|e| LabError::io(dir, e))?;
    crate::crash::point();
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(|e| LabError::io(&old, e))?;
    }
    Ok(())
}

/// After a crash inside [`replace_folder`], puts the last complete folder back at `dir`.
pub fn recover_folder(dir: &Path) -> Result<(), LabError> {
    let old = dir.with_extension("old");
    if !dir.exists() && old.exists() {
        std::fs::rename(&old, dir).map_err(|e| LabError::io(dir, e))?;
    }
    Ok(())
}

/// Prepares `folder` for a run of `config` without training it (a launcher's first step): the
/// summary of a finished run of this config and numerics, or `None` with the config written
/// (a run to train or resume), beside the folder's lock, held until that file drops. Refuses
/// what [`Trainable::run_or_reuse`] refuses.
pub fn stage<C, S>(config: &C, folder: &Path) -> Result<(std::fs::File, Option<S>), LabError>
where
    C: ConfigFile + PartialEq,
    S: serde::de::DeserializeOwned + crate::numerics::Versioned,
{
    let lock = crate::lock::lock(folder)?;
    let run = RunDir::new(folder);
    // The resolved config (every default written out) after comments naming the command line
    // and the versions that produced it.
    let write = || {
        let header = format!(
            "# Resolved configuration of this run (every default written out).\n\
             # command: {}\n# rgd-lab {}, burn 0.22.1\n\n",
            std::env::args().collect::<Vec<_>>().join(" "),
            env!("CARGO_PKG_VERSION"),
        );
        write_atomic(&run.config(), (header + &config.to_toml()).as_bytes())
    };
    if !run.config().exists() {
        write()?;
        return Ok((lock, None));
    }
    let existing = C::from_file(&run.config())?;
    let started = run.checkpoint().exists() || run.summary().exists();
    if &existing != config && !started {
        // Nothing was trained under the old config (it failed before its first checkpoint).
        write()?;
    } else if &existing != config {
        return Err(LabError::Config(format!(
            "{} holds a run with a different config; delete it or choose another output folder",
            folder.display()
        )));
    }
    if !run.summary().exists() {
        return Ok((lock, None));
    }
    let summary: S = read_json(&run.summary())?;
    let numerics = summary.numerics();
    if numerics != crate::numerics::NUMERICS {
        return Err(LabError::Config(format!(
            "{} holds a run computed with numerics version {numerics}, this build computes \
             version {}: delete the folder to rerun it, or choose another output folder",
            folder.display(),
            crate::numerics::NUMERICS
        )));
    }
    Ok((lock, Some(summary)))
}

/// Reads a file, naming it in the error.
pub fn read(path: &Path) -> Result<Vec<u8>, LabError> {
    std::fs::read(path).map_err(|e| LabError::io(path, e))
}

/// Reads and parses a JSON file, naming it in the error.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, LabError> {
    serde_json::from_slice(&read(path)?).map_err(|e| {
        LabError::corrupt(
            path,
            format!("not valid JSON for this file ({e}); delete it to start over"),
        )
    })
}

/// Serialises `value` as pretty JSON into `path`, atomically.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), LabError> {
    let text = serde_json::to_vec_pretty(value).expect("lab records always serialise");
    write_atomic(path, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_writes_and_folder_swaps_leave_complete_files() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a/summary.json");
        write_atomic(&file, b"one").unwrap();
        write_atomic(&file, b"two").unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"two");
        assert!(!file.with_extension("json.tmp").exists());

        let ckpt = dir.path().join("checkpoint");
        replace_folder(&ckpt, |d| write_atomic(&d.join("x"), b"1")).unwrap();
        replace_folder(&ckpt, |d| write_atomic(&d.join("x"), b"2")).unwrap();
        assert_eq!(std::fs::read(ckpt.join("x")).unwrap(), b"2");
        // A crash between the two renames: only checkpoint.old exists.
        std::fs::rename(&ckpt, ckpt.with_extension("old")).unwrap();
        recover_folder(&ckpt).unwrap();
        assert_eq!(std::fs::read(ckpt.join("x")).unwrap(), b"2");
    }

    #[derive(serde::Deserialize)]
    struct Record {
        numerics: u32,
    }

    impl crate::numerics::Versioned for Record {
        fn numerics(&self) -> u32 {
            self.numerics
        }
    }

    #[test]
    fn a_finished_run_is_reused_only_with_its_config_and_numerics() {
        let dir = tempfile::tempdir().unwrap();
        let config = crate::config::RunConfig::default();
        let reuse = |config: &crate::config::RunConfig, folder: &Path| {
            stage::<_, Record>(config, folder).map(|(_, r)| r.map(|r| r.numerics))
        };
        let run = RunDir::new(dir.path().join("a"));
        assert_eq!(reuse(&config, run.root()).unwrap(), None);
        write_atomic(
            &run.summary(),
            format!("{{\"numerics\": {}}}", crate::numerics::NUMERICS).as_bytes(),
        )
        .unwrap();
        let numerics = Some(crate::numerics::NUMERICS);
        assert_eq!(reuse(&config, run.root()).unwrap(), numerics);
        write_atomic(&run.summary(), b"{\"numerics\": 0}").unwrap();
        let e = reuse(&config, run.root()).unwrap_err().to_string();
        assert!(e.contains("computed with numerics version 0"), "{e}");
        let other = config.with_overrides(&["optim.lr=0.5".into()]).unwrap();
        let e = reuse(&other, run.root()).unwrap_err().to_string();
        assert!(e.contains("holds a run with a different config"), "{e}");
        // A new folder: the config is written, and nothing is reused (the run trains).
        let fresh = dir.path().join("b");
        assert_eq!(reuse(&config, &fresh).unwrap(), None);
        assert!(RunDir::new(&fresh).config().exists());
    }

    #[test]
    fn json_records_read_back_bit_identical_floats() {
        // A resumed run rebuilds its summary from state.json: one ulp lost there and the
        // resumed run no longer equals the uninterrupted one (serde_json's `float_roundtrip`).
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let values: Vec<f64> = (1..2000u32)
            .map(|i| f64::from(i).sqrt() * 1.000_000_123 + 1.0 / f64::from(i))
            .chain([1.214_820_855_528_116_1, 5e-324, f64::MAX, 0.1 + 0.2])
            .collect();
        write_json(&path, &values).unwrap();
        let back: Vec<f64> = read_json(&path).unwrap();
        for (a, b) in values.iter().zip(&back) {
            assert_eq!(a.to_bits(), b.to_bits(), "{a} came back as {b}");
        }
    }
}
