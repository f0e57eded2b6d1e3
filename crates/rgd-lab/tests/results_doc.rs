//! docs/results.md holds no hand-edited tables: every generated block equals what
//! `rgd_lab::suite::tables::render` makes from the committed records in results/<suite>/.

use std::path::Path;

#[test]
fn every_generated_block_matches_the_committed_records() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let doc =
        std::fs::read_to_string(root.join("docs/results.md")).expect("docs/results.md exists");
    let mut checked = 0;
    let mut differing = Vec::new();
    for suite in rgd_lab::suite::catalog::SUITES
        .into_iter()
        .chain(["regimes"])
    {
        let Some(block) = rgd_lab::suite::doc::block(&doc, suite) else {
            continue;
        };
        let rendered = rgd_lab::suite::tables::render(&root.join("results").join(suite))
            .unwrap_or_else(|e| panic!("suite {suite}: cannot regenerate from the records: {e}"));
        if block != rendered {
            eprintln!(
                "block `{suite}` in docs/results.md:\n{block}\n\nfrom its records:\n{rendered}"
            );
            differing.push(suite);
        }
        checked += 1;
    }
    assert!(checked > 0, "docs/results.md has no generated block");
    assert!(
        differing.is_empty(),
        "docs/results.md blocks {differing:?} differ from their records (rerun `rgd reproduce \
         <suite>`, which reuses finished runs and rewrites the block)"
    );
}

#[test]
fn splice_replaces_only_its_own_block() {
    use rgd_lab::suite::doc::{block, splice};
    let doc = splice("# Results\n\nprose\n", "tabular", "table 1");
    let doc = splice(&doc, "images", "table 2");
    let doc = splice(&doc, "tabular", "table 3");
    assert_eq!(block(&doc, "tabular"), Some("table 3"));
    assert_eq!(block(&doc, "images"), Some("table 2"));
    assert!(doc.starts_with("# Results\n\nprose\n"));
}

/// Every committed `results*.csv` is tidy: besides the label columns (data set, method,
/// metric, setting), every non-empty cell is a number.
#[test]
fn every_committed_results_csv_holds_numbers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../results");
    let labels = ["data_set", "method", "metric", "setting"];
    let mut files = 0;
    for suite in rgd_lab::suite::catalog::SUITES {
        for entry in std::fs::read_dir(root.join(suite)).expect("the suite's folder") {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if !(name.starts_with("results") && name.ends_with(".csv")) {
                continue;
            }
            let mut reader = csv::Reader::from_path(&path).unwrap();
            let header = reader.headers().unwrap().clone();
            assert!(header.iter().any(|h| h == "data_set"), "{name}: {header:?}");
            let mut rows = 0;
            for record in reader.records() {
                let record = record.unwrap();
                for (column, cell) in header.iter().zip(record.iter()) {
                    if labels.contains(&column) || cell.is_empty() {
                        continue;
                    }
                    assert!(
                        cell.parse::<f64>().is_ok(),
                        "{}: column {column} holds {cell:?}, not a number",
                        path.display()
                    );
                }
                rows += 1;
            }
            assert!(rows > 0, "{name} has no rows");
            files += 1;
        }
    }
    assert!(files >= 7, "a results.csv for every suite: {files}");
}

/// The noise suite's end-of-training table against a direct computation from its records:
/// ERM at 40% symmetric noise, its last test accuracy and its training accuracy on the noisy
/// labels at the end, mean over the 5 seeds.
#[test]
fn the_end_of_training_table_reads_the_records() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../results/noise");
    let (mut last, mut train) = (Vec::new(), Vec::new());
    for seed in 0..5 {
        let path = root.join(format!(
            "runs/symmetric-40%/erm/lr0.001/seed{seed}/summary.json"
        ));
        let text = std::fs::read_to_string(&path).expect("the committed record exists");
        let s: serde_json::Value = serde_json::from_str(&text).unwrap();
        last.push(s["last"]["test"]["accuracy"].as_f64().unwrap());
        train.push(s["last"]["train"]["accuracy"].as_f64().unwrap());
    }
    let average = |v: &[f64]| 100.0 * v.iter().sum::<f64>() / v.len() as f64;
    let mean = |v: &[f64]| format!("{:.2} ±", average(v));
    let markdown = std::fs::read_to_string(root.join("results.md")).unwrap();
    let row: Vec<&str> = markdown
        .lines()
        .map(|l| l.split('|').map(str::trim).collect::<Vec<_>>())
        .find(|cells| cells.len() == 9 && cells[1] == "symmetric-40%" && cells[2] == "erm")
        .expect("the end-of-training table has ERM's row at 40% noise");
    assert!(
        row[5].starts_with(&mean(&last)),
        "{row:?} against {}",
        mean(&last)
    );
    assert!(
        row[7].starts_with(&mean(&train)),
        "{row:?} against {}",
        mean(&train)
    );
    assert!(
        average(&train) > average(&last) + 10.0,
        "ERM memorised: it fits the noisy training labels far better than the clean test set"
    );
}
