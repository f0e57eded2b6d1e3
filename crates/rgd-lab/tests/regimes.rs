//! `rgd reproduce regimes --quick` end to end: the two stages, the map recomputed from the
//! records by hand, the reading rule applied to every cell, the pictures, a rerun that trains
//! nothing, and `--render-only`.

use std::collections::BTreeMap;
use std::path::Path;

mod common;
use common::*;

/// `map.csv` as rows of column -> value.
fn cells(out: &Path) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(out.join("map.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    (reader.records())
        .map(|r| {
            let r = r.unwrap();
            (headers.iter().zip(r.iter()))
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// Test accuracy of a run after `epochs`, from its summary (steps per epoch from its sizes).
fn test_accuracy(run: &Path, epochs: u64) -> f64 {
    let s = summary(run);
    let per_epoch = s["sizes"][0].as_u64().unwrap() / 128;
    let evals = s["evaluations"].as_array().unwrap();
    let e = (evals.iter())
        .find(|e| e["step"].as_u64() == Some(epochs * per_epoch))
        .unwrap_or_else(|| panic!("{}: no evaluation after {epochs} epochs", run.display()));
    assert!(
        e["train"]["accuracy"].is_number(),
        "train.eval_train keeps training accuracy"
    );
    e["test"]["accuracy"].as_f64().unwrap()
}

#[test]
fn the_quick_map_pairs_every_seed_at_every_length_and_reads_each_cell_by_its_rule() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let markdown = ok(
        &["reproduce", "regimes", "--quick", "--quiet", "--out", "q"],
        d,
    );
    let out = d.join("q");
    for file in [
        "results.md",
        "map.csv",
        "meta.json",
        "curves.svg",
        "tau-map.svg",
    ] {
        assert!(out.join(file).is_file(), "{file}");
    }
    assert!(
        markdown.contains("How to read it") && markdown.contains("| magic-sym20"),
        "{markdown}"
    );
    let runs = out.join("runs");
    // Seed 0 at every setting: ERM, RGD at tau 1 and 3, the peer; each evaluated after 1, 3, 10.
    for (method, setting) in [
        ("erm", "lr0.001"),
        ("rgd", "tau1-lr0.001"),
        ("rgd", "tau3-lr0.001"),
        ("term-neg", "lr0.001"),
    ] {
        let run = runs
            .join("magic-clean")
            .join(method)
            .join(setting)
            .join("seed0");
        let s = summary(&run);
        assert_eq!(
            s["evaluations"].as_array().unwrap().len(),
            3,
            "{}",
            run.display()
        );
    }
    let cells = cells(&out);
    // Per regime: RGD at the selected tau, the fixed tau 3 unless selected, the peer; 3 lengths.
    for data in ["magic-clean", "magic-sym20"] {
        let of_data: Vec<_> = cells.iter().filter(|c| c["data"] == data).collect();
        assert!([6, 9].contains(&of_data.len()), "{data}: {}", of_data.len());
        assert!(of_data.iter().all(|c| c["seeds"] == "5"));
    }
    for c in &cells {
        // Recompute the cell's mean difference from the five pairs of records.
        let (data, epochs) = (&c["data"], c["epochs"].parse::<u64>().unwrap());
        let method = if c["comparison"] == "rgd-fixed" {
            "rgd"
        } else {
            c["comparison"].as_str()
        };
        let diffs: Vec<f64> = (0..5)
            .map(|seed| {
                let at = |m: &str, s: &str| {
                    test_accuracy(
                        &runs.join(data).join(m).join(s).join(format!("seed{seed}")),
                        epochs,
                    )
                };
                100.0 * (at(method, &c["setting"]) - at("erm", "lr0.001"))
            })
            .collect();
        let mean = diffs.iter().sum::<f64>() / 5.0;
        let number = |k: &str| c[k].parse::<f64>().unwrap();
        assert!((number("diff_mean") - mean).abs() < 1e-3, "{c:?}: {mean}");
        // The reading follows the stated rule.
        let reading = &c["reading"];
        let (lo, hi, mde) = (
            number("corrected_low"),
            number("corrected_high"),
            number("mde"),
        );
        if reading == "helps" {
            assert!(lo > 0.0, "{c:?}");
        } else if reading == "hurts" {
            assert!(hi < 0.0, "{c:?}");
        }
        // The uncorrected 95% interval and the p-value agree.
        let (l95, h95, p) = (
            number("diff_ci_low"),
            number("diff_ci_high"),
            number("p_value"),
        );
        assert_eq!(l95 > 0.0 || h95 < 0.0, p < 0.05, "{c:?}");
        if reading.starts_with("uncorrected only") {
            assert!(p < 0.05, "{c:?}");
        } else if reading.starts_with("cannot tell") {
            assert!(mde > 0.5 && p >= 0.05, "{c:?}");
        } else if reading.starts_with("no effect") {
            assert!(mde <= 0.5 && p >= 0.05, "{c:?}");
        } else {
            assert!(reading == "helps" || reading == "hurts", "{c:?}");
        }
    }
    // A rerun trains nothing and writes the same map; --render-only writes it from the records.
    let before = std::fs::metadata(runs.join("magic-clean/erm/lr0.001/seed4/summary.json"))
        .unwrap()
        .modified()
        .unwrap();
    let again = ok(
        &["reproduce", "regimes", "--quick", "--quiet", "--out", "q"],
        d,
    );
    let after = std::fs::metadata(runs.join("magic-clean/erm/lr0.001/seed4/summary.json"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(before, after);
    assert_eq!(again, markdown);
    std::fs::remove_file(out.join("map.csv")).unwrap();
    let rendered = ok(
        &[
            "reproduce",
            "regimes",
            "--quick",
            "--render-only",
            "--quiet",
            "--out",
            "q",
        ],
        d,
    );
    assert_eq!(rendered, markdown);
    assert!(out.join("map.csv").is_file());
    // The report draws the map's pictures on the suite's page.
    ok(&["report", "q", "--out", "site"], d);
    let groups = d.join("site/groups");
    let svgs: Vec<String> = walk(&groups)
        .into_iter()
        .filter(|n| n.ends_with(".svg"))
        .collect();
    assert!(
        svgs.iter().any(|n| n == "curves.svg") && svgs.iter().any(|n| n == "tau-map.svg"),
        "{svgs:?}"
    );
}

fn walk(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            names.extend(walk(&path));
        } else {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    names
}

#[test]
fn render_only_needs_a_suite_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = rgd(
        &["reproduce", "regimes", "--render-only", "--out", "nothing"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(64));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no meta.json") && stderr.contains("rgd reproduce regimes"),
        "{stderr}"
    );
}
