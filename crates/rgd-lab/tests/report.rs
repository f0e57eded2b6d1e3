//! `rgd report` end to end: a comparison trained here, a single run, and the committed records
//! of a suite (which kept no curves), into one site; its pages, numbers, plots and errors. The
//! pages in a real browser are `crates/rgd-browser`'s test.

mod common;

use std::path::Path;

use common::{ok, rgd, tiny_config};

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn a_report_over_a_comparison_a_run_and_a_suite() {
    let dir = tempfile::tempdir().unwrap();
    let config = tiny_config(dir.path(), "");
    let config = config.to_str().unwrap();
    ok(
        &[
            "--quiet",
            "compare",
            config,
            "--seeds",
            "2",
            "--methods",
            "erm,rgd",
            "--taus",
            "1,3",
            "--out",
            "cmp",
        ],
        dir.path(),
    );
    ok(
        &[
            "--quiet",
            "train",
            config,
            "--set",
            "method.rule.name=term",
            "--runs-dir",
            ".",
            "--name",
            "alone",
        ],
        dir.path(),
    );
    // A link back to a parent folder is not followed (it would loop, or count runs twice).
    std::os::unix::fs::symlink(dir.path(), dir.path().join("cmp/back")).unwrap();
    let imbalance = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../results/imbalance");
    let out = ok(
        &[
            "--json",
            "report",
            "cmp",
            "alone",
            imbalance.to_str().unwrap(),
            "--out",
            "site",
        ],
        dir.path(),
    );
    let built: serde_json::Value = serde_json::from_str(&out).unwrap();
    let site = dir.path().join("site");
    let suite_runs = std::fs::read_dir(site.join("runs"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("imbalance--")
        })
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "html")
        })
        .count();
    assert!(
        suite_runs > 100,
        "the suite's runs have pages: {suite_runs}"
    );
    assert_eq!(built["runs"], 6 + 1 + suite_runs as u64, "{built}");
    assert_eq!(built["groups"], 2, "the comparison and the suite: {built}");

    // The index lists every run with its selected numbers.
    let index = read(&site.join("index.html"));
    assert_eq!(
        index.matches("<tr>").count(),
        1 + 6 + 1 + suite_runs,
        "header and rows"
    );
    let summary = common::summary(&dir.path().join("cmp/rgd-tau3/seed0"));
    let test = summary["selected"]["test"]["accuracy"].as_f64().unwrap();
    assert!(index.contains(&format!("{:.2}", 100.0 * test)));
    assert!(
        index.contains(r#"href="groups/compare-cmp.html""#),
        "{index}"
    );
    assert!(index.contains(r#"href="runs/alone.html""#));
    for asset in ["report.css", "report.js", "report.json"] {
        assert!(site.join(asset).is_file(), "{asset}");
    }

    // A trained run's page: metrics, config and every plot its records allow, beside it.
    let page = read(&site.join("runs/cmp--rgd-tau3--seed0.html"));
    for file in [
        "loss",
        "accuracy",
        "weight-stats",
        "weight-fractions",
        "weights",
        "class-weights",
    ] {
        assert!(
            page.contains(&format!(r#"src="cmp--rgd-tau3--seed0/{file}.svg""#)),
            "{file}"
        );
        assert!(
            site.join(format!("runs/cmp--rgd-tau3--seed0/{file}.svg"))
                .is_file()
        );
    }
    assert!(
        !page.contains("flipped.svg"),
        "no label noise, no flipped-label plot"
    );
    assert!(page.contains("tau = 3.0") && page.contains("numerics version"));
    // A committed record: no curves kept, and the page says so.
    let record = std::fs::read_dir(site.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("imbalance--") && p.is_file())
        .unwrap();
    assert!(read(&record).contains("The curves were not kept in this record"));

    // The comparison's page: the table of results.md and the forest plot.
    let comparison = read(&site.join("groups/compare-cmp.html"));
    assert!(comparison.contains("<table>") && comparison.contains("tau=3"));
    assert!(site.join("groups/compare-cmp/comparison.svg").is_file());
    let forest = read(&site.join("groups/compare-cmp/comparison.svg"));
    assert!(
        forest.contains("percentage points"),
        "the x axis names its unit"
    );
    // The suite's page: the tables of docs/results.md, as the suite renders them.
    let suite = read(&site.join("groups/suite-imbalance.html"));
    assert!(suite.contains("Paired per-seed differences") && suite.contains("yeast1"));
    assert!(
        suite.contains("<img src=\"suite-imbalance/summary.svg\""),
        "the forest plot"
    );

    // Building again replaces the report; a folder that is not a report is refused.
    ok(&["--quiet", "report", "alone", "--out", "site"], dir.path());
    assert!(
        !site.join("runs/cmp--rgd-tau3--seed0.html").exists(),
        "stale pages go"
    );
    std::fs::create_dir(dir.path().join("notes")).unwrap();
    std::fs::write(dir.path().join("notes/todo.txt"), "mine").unwrap();
    let refused = rgd(&["report", "alone", "--out", "notes"], dir.path());
    assert_eq!(refused.status.code(), Some(64));
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("not an rgd report"), "{message}");
    assert_eq!(read(&dir.path().join("notes/todo.txt")), "mine");
}

#[test]
fn a_report_of_nothing_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    let out = rgd(&["report", "empty"], dir.path());
    assert_eq!(out.status.code(), Some(64));
    let message = String::from_utf8_lossy(&out.stderr);
    assert!(message.contains("no finished run under empty"), "{message}");
    let out = rgd(&["report", "missing"], dir.path());
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing"));
}
