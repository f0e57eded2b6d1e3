//! Launchers end to end: a grid run by N worker processes gives the records of the grid run in
//! one process (at equal threads per run), failures are reported with their logs, `rgd
//! status` counts the points, and a re-run completes what failed.

use std::path::Path;
use std::process::Command;

mod common;
use common::*;

/// Every `summary.json` under `dir`, relative path -> summary without wall times.
fn records(dir: &Path) -> Vec<(String, serde_json::Value)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name() == Some("summary.json".as_ref()) {
                let run = path.parent().unwrap();
                let name = run.strip_prefix(dir).unwrap().display().to_string();
                out.push((name, summary(run)));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn a_local_pool_gives_the_records_of_one_process_and_reports_failures() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let config = tiny_config(d, "");
    let config = config.to_str().unwrap();
    let grid = |out: &str, launcher: &str| {
        vec![
            "compare".to_string(),
            config.into(),
            "--methods".into(),
            "erm,rgd".into(),
            "--taus".into(),
            "1,3".into(),
            "--seeds".into(),
            "2".into(),
            "--out".into(),
            out.into(),
            "--launcher".into(),
            launcher.into(),
        ]
    };
    let run = |args: Vec<String>, env: &[(&str, &str)]| {
        Command::new(RGD)
            .args(&args)
            .envs(env.iter().copied())
            .current_dir(d)
            .output()
            .unwrap()
    };
    // One process with one thread, against two workers of one thread each on 2 threads.
    let one = run(grid("one", "local"), &[("RAYON_NUM_THREADS", "1")]);
    assert!(
        one.status.success(),
        "{}",
        String::from_utf8_lossy(&one.stderr)
    );
    let pool = run(grid("pool", "local:2"), &[("RAYON_NUM_THREADS", "2")]);
    let stderr = String::from_utf8_lossy(&pool.stderr);
    assert!(pool.status.success(), "{stderr}");
    assert!(stderr.contains("[6/6]"), "progress of the 6 runs: {stderr}");
    let (a, b) = (records(&d.join("one")), records(&d.join("pool")));
    assert_eq!(a.len(), 6);
    assert_eq!(a, b, "local:2 records differ from the in-process ones");
    let status = ok(&["status", "pool"], d);
    assert!(
        status.starts_with("6 points: 6 done, 0 running, 0 pending, 0 failed"),
        "{status}"
    );

    // Every run of a new grid fails (a NaN at step 0): each is reported with its log.
    let failed = run(
        grid("failing", "local:2"),
        &[("RGD_INJECT_NAN_AT_STEP", "0")],
    );
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert_eq!(failed.status.code(), Some(70), "{stderr}");
    assert!(stderr.contains("6 of 6 runs failed"), "{stderr}");
    assert!(
        stderr.contains("failing/erm/seed0: exit status 70; log: failing/erm/seed0/log.txt"),
        "{stderr}"
    );
    let log = std::fs::read_to_string(d.join("failing/erm/seed0/log.txt")).unwrap();
    assert!(log.contains("training diverged at step 1"), "{log}");
    let status = ok(&["status", "failing"], d);
    assert!(
        status.contains("6 points: 0 done, 0 running, 0 pending, 6 failed"),
        "{status}"
    );
    assert!(
        status.contains("failed: failing/rgd-tau3/seed1: exit status 70"),
        "{status}"
    );
    // Without the fault the same command completes them.
    let again = run(grid("failing", "local:2"), &[]);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let status = ok(&["status", "failing"], d);
    assert!(status.starts_with("6 points: 6 done"), "{status}");
}

/// The meta suite's two stages through worker processes (each `rgd resume` of a meta run
/// folder): the records of one process. Needs keel/letter (skips without it unless
/// `RGD_REQUIRE_DATA=1`).
#[test]
fn the_meta_suite_on_a_local_pool_gives_the_records_of_one_process() {
    let cache = rgd_data::registry::cache_dir();
    let cache = if cache.is_absolute() {
        cache
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(cache)
    };
    if !cache.join("keel/balanced/letter.dat").is_file() {
        assert!(
            std::env::var("RGD_REQUIRE_DATA").as_deref() != Ok("1"),
            "RGD_REQUIRE_DATA=1 but keel/letter is not in {}",
            cache.display()
        );
        eprintln!("skipping the meta pool check: keel/letter is not in the cache folder");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let run = |out: &str, launcher: &str, threads: &str| {
        let out = Command::new(RGD)
            .args(["--quiet", "reproduce", "meta", "--quick", "--out", out])
            .args(["--launcher", launcher])
            .env("RGD_DATA_DIR", &cache)
            .env("RAYON_NUM_THREADS", threads)
            .current_dir(d)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run("one", "local", "1");
    run("pool", "local:2", "2");
    let meta_records = |dir: &Path| -> Vec<(String, serde_json::Value)> {
        (records(dir).into_iter())
            .map(|(name, mut s)| {
                s.as_object_mut().unwrap().remove("test_secs");
                (name, s)
            })
            .collect()
    };
    let (a, b) = (meta_records(&d.join("one")), meta_records(&d.join("pool")));
    assert_eq!(a.len(), 12, "the quick suite's 8 tuning and 4 seed runs");
    assert_eq!(a, b, "local:2 meta records differ from the in-process ones");
    let results = |dir: &str| std::fs::read_to_string(d.join(dir).join("results.md")).unwrap();
    let tables = |text: String| text.split_once("\n\n").unwrap().1.to_string();
    assert_eq!(
        tables(results("one")),
        tables(results("pool")),
        "the tables"
    );
    let status = ok(&["status", "pool"], d);
    assert!(status.starts_with("12 points: 12 done"), "{status}");
}

#[test]
fn a_bad_launcher_and_a_folder_without_points_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = rgd(&["compare", "--launcher", "local:0"], d);
    assert_eq!(out.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected local, local:N"));
    let out = rgd(&["status", "."], d);
    assert_eq!(out.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no points.json"));
}

/// Whether a Slurm cluster answers here; the reason when not.
fn slurm() -> Result<(), String> {
    let out = Command::new("sinfo")
        .args(["-h", "-o", "%T"])
        .output()
        .map_err(|e| format!("sinfo cannot run ({e}): no Slurm here"))?;
    let states = String::from_utf8_lossy(&out.stdout);
    if out.status.success()
        && ["idle", "mixed", "allocated"]
            .iter()
            .any(|s| states.contains(s))
    {
        Ok(())
    } else {
        Err(format!(
            "no Slurm node is up (sinfo: {} {}); start one with `bash .ci/slurm.sh start`",
            states.trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The tabular suite's quick grid through a real Slurm job array gives the records of the
/// in-process run; a task cancelled mid-run is reported and the re-submitted grid completes
/// it; a task that fails is reported with its state and log.
#[test]
fn a_slurm_array_gives_the_local_records_survives_scancel_and_reports_failures() {
    if let Err(why) = slurm() {
        assert!(
            std::env::var("RGD_REQUIRE_SLURM").as_deref() != Ok("1"),
            "RGD_REQUIRE_SLURM=1: {why}"
        );
        eprintln!("skipping the Slurm test: {why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let run = |args: &[&str], env: &[(&str, &str)]| {
        Command::new(RGD)
            .args(args)
            .envs(env.iter().copied())
            .current_dir(d)
            .output()
            .unwrap()
    };
    let one_thread = [("RAYON_NUM_THREADS", "1")];
    let local = run(
        &["reproduce", "tabular", "--quick", "--out", "local"],
        &one_thread,
    );
    assert!(
        local.status.success(),
        "{}",
        String::from_utf8_lossy(&local.stderr)
    );
    // Arrays of at most 4 tasks: each stage is submitted as several arrays in turn.
    let slurm_run = run(
        &[
            "reproduce",
            "tabular",
            "--quick",
            "--out",
            "slurm",
            "--launcher",
            "slurm",
            "--max-array-size",
            "4",
        ],
        &[],
    );
    let stderr = String::from_utf8_lossy(&slurm_run.stderr);
    assert!(slurm_run.status.success(), "{stderr}");
    assert!(stderr.contains("as Slurm job array"), "{stderr}");
    // 6 tuning runs and 5 seed runs in arrays of at most 4: four arrays in all.
    assert!(d.join("slurm/slurm/points-3.txt").is_file(), "{stderr}");
    let (a, b) = (records(&d.join("local")), records(&d.join("slurm")));
    assert!(!a.is_empty());
    assert_eq!(a, b, "the Slurm records differ from the in-process ones");
    assert!(ok(&["status", "slurm"], d).contains(&format!("{} done", a.len())));

    // A long grid; one task is cancelled once it has checkpointed.
    let mut grid = vec![
        "compare",
        "--methods",
        "erm",
        "--seeds",
        "2",
        "--out",
        "cancelled",
    ];
    grid.extend(["--launcher", "slurm", "--set", "data.max_train=2000"]);
    grid.extend([
        "--set",
        "train.epochs=30",
        "--set",
        "train.checkpoint_every=50",
    ]);
    let child = Command::new(RGD)
        .args(&grid)
        .current_dir(d)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let target = d.join("cancelled/erm/seed0");
    while !target.join("checkpoint/state.json").exists() {
        assert!(
            started.elapsed().as_secs() < 120,
            "the task never checkpointed"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let queue = Command::new("squeue")
        .args(["-h", "-r", "-n", "rgd-cancelled", "-o", "%i %T"])
        .output()
        .unwrap();
    let queue = String::from_utf8_lossy(&queue.stdout).to_string();
    let task = queue
        .lines()
        .find(|l| l.ends_with("_0 RUNNING") || l.contains("_0 RUNNING"))
        .map(|l| l.split_whitespace().next().unwrap().to_string());
    let task = task.unwrap_or_else(|| panic!("task 0 is not running: {queue}"));
    assert!(
        Command::new("scancel")
            .arg(&task)
            .status()
            .unwrap()
            .success()
    );
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(70), "{stderr}");
    assert!(
        stderr.contains(&format!("Slurm task {task}: CANCELLED")),
        "{stderr}"
    );
    assert!(ok(&["status", "cancelled"], d).contains("1 failed"));
    let again = run(&grid, &[]);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let mut reference: Vec<&str> = grid.iter().copied().filter(|a| *a != "slurm").collect();
    reference.retain(|a| *a != "--launcher");
    reference[6] = "reference";
    let reference = run(&reference, &one_thread);
    assert!(reference.status.success());
    assert_eq!(
        records(&d.join("cancelled")),
        records(&d.join("reference")),
        "the cancelled and resumed task differs"
    );

    // Every task fails: each is reported with its Slurm state and log.
    let failing = run(
        &[
            "compare",
            "--methods",
            "erm",
            "--seeds",
            "1",
            "--out",
            "failing",
            "--launcher",
            "slurm",
        ],
        &[("RGD_INJECT_NAN_AT_STEP", "0")],
    );
    let stderr = String::from_utf8_lossy(&failing.stderr);
    assert_eq!(failing.status.code(), Some(70), "{stderr}");
    assert!(stderr.contains("FAILED, exit code 70:0; log: "), "{stderr}");
}
