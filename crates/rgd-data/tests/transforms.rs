//! Splits, standardisation, domain shifts, long tail, label noise, tokenisers, embedded data.

use std::collections::HashSet;

use rgd_data::*;

fn toy(n: usize, n_classes: u32, d: usize) -> Dataset {
    let features = (0..n * d)
        .map(|i| (i as f32 * 0.37).sin() * 3.0 + (i % d) as f32)
        .collect();
    let labels = (0..n).map(|i| i as u32 % n_classes).collect();
    Dataset::from_features(
        "toy",
        features,
        d,
        labels,
        (0..n_classes).map(|c| format!("c{c}")).collect(),
    )
}

/// Digits whose first pixel encodes the row index, so rows can be traced through transforms.
fn digits(n: usize) -> Dataset {
    let mut ds = Dataset::from_features(
        "digits",
        (0..n * 784)
            .map(|i| {
                if i % 784 == 0 {
                    (i / 784) as f32 / n as f32
                } else {
                    0.5
                }
            })
            .collect(),
        784,
        (0..n).map(|i| (i % 10) as u32).collect(),
        (0..10).map(|d| d.to_string()).collect(),
    );
    ds.example_shape = vec![1, 28, 28];
    ds.feature_names.clear();
    ds
}

#[test]
fn stratified_split_proportions_disjoint_deterministic() {
    let ds = toy(1000, 4, 3);
    let s = stratified_split(&ds, 0.2, 0.1, 42).unwrap();
    assert_eq!(s.train.len() + s.valid.len() + s.test.len(), 1000);
    let counts = ds.class_counts();
    for (part, frac) in [(&s.valid, 0.2), (&s.test, 0.1)] {
        for (c, &n) in part.class_counts().iter().enumerate() {
            assert_eq!(n, (counts[c] as f64 * frac).round() as usize);
        }
    }
    let idx = stratified_indices(&ds.labels, None, 0.2, 0.1, 42).unwrap();
    let all: HashSet<usize> = idx
        .train
        .iter()
        .chain(&idx.valid)
        .chain(&idx.test)
        .copied()
        .collect();
    assert_eq!(all.len(), 1000, "parts overlap or miss rows");
    assert_eq!(
        idx,
        stratified_indices(&ds.labels, None, 0.2, 0.1, 42).unwrap()
    );
    assert_ne!(
        idx,
        stratified_indices(&ds.labels, None, 0.2, 0.1, 43).unwrap()
    );
    assert_eq!(s.train, ds.subset(&idx.train));
    for bad in [(-0.1, 0.1), (0.5, 0.5), (1.0, 0.0), (f64::NAN, 0.1)] {
        assert!(matches!(
            stratified_split(&ds, bad.0, bad.1, 0),
            Err(DataError::InvalidArgument { .. })
        ));
    }
    // With domains, every (domain, class) stratum is split in proportion.
    let mut dd = ds.clone();
    dd.domains = Some((0..1000).map(|i| (i % 2) as u32).collect());
    dd.domain_names = vec!["a".into(), "b".into()];
    let s = stratified_split(&dd, 0.5, 0.0, 1).unwrap();
    let d = s.valid.domains.as_ref().unwrap();
    assert_eq!(d.iter().filter(|&&x| x == 0).count(), 250);
}

#[test]
fn standardizer_is_fitted_on_train_only() {
    let ds = toy(600, 3, 4);
    let mut s = stratified_split(&ds, 0.2, 0.2, 5).unwrap();
    // Shift held-out rows: their statistics must not influence the fit.
    for x in s
        .valid
        .features
        .iter_mut()
        .chain(s.test.features.iter_mut())
    {
        *x += 100.0;
    }
    let z = Standardizer::fit(&s.train);
    let z_train_only = Standardizer::fit(&s.train.clone());
    assert_eq!(z, z_train_only);
    z.apply(&mut s.train).unwrap();
    let again = Standardizer::fit(&s.train);
    for (m, sd) in again.mean.iter().zip(&again.std) {
        assert!(
            m.abs() < 1e-5 && (sd - 1.0).abs() < 1e-4,
            "train not standardised: {m} {sd}"
        );
    }
    z.apply(&mut s.test).unwrap();
    let t = Standardizer::fit(&s.test);
    assert!(
        t.mean.iter().all(|&m| m > 10.0),
        "test rows were used in the fit"
    );
    let json = serde_json::to_string(&z).unwrap();
    assert_eq!(serde_json::from_str::<Standardizer>(&json).unwrap(), z);
    let mut other = toy(10, 2, 2);
    assert!(z.apply(&mut other).is_err());
}

#[test]
fn rotated_mnist_domains_disjoint_and_sized() {
    let ds = digits(64);
    let r = rotated_mnist(&ds, &ROTATED_MNIST_ANGLES).unwrap();
    r.validate().unwrap();
    assert_eq!(r.len(), 64);
    assert_eq!(
        r.domain_names,
        vec!["0°", "15°", "30°", "45°", "60°", "75°"]
    );
    let dom = r.domains.as_ref().unwrap();
    for d in 0..6u32 {
        let expect: Vec<usize> = (d as usize..64).step_by(6).collect();
        let rows: Vec<usize> = (0..r.len()).filter(|&i| dom[i] == d).collect();
        assert_eq!(rows.len(), expect.len());
        let labels: Vec<u32> = rows.iter().map(|&i| r.labels[i]).collect();
        assert_eq!(
            labels,
            expect.iter().map(|&i| ds.labels[i]).collect::<Vec<_>>()
        );
    }
    // Domain 0 is unrotated: rows are the originals images[0::6].
    assert_eq!(r.row(1), ds.row(6));
    // Rotation by 90 degrees four times returns (almost) the image.
    let img: Vec<f32> = (0..784).map(|i| ((i * 31) % 17) as f32 / 17.0).collect();
    let mut x = img.clone();
    for _ in 0..4 {
        x = rotate_image(&x, 28, 28, 90.0);
    }
    assert!(x.iter().zip(&img).all(|(a, b)| (a - b).abs() < 1e-4));
    assert!(rotated_mnist(&toy(10, 2, 3), &[0.0]).is_err());
}

#[test]
fn colored_mnist_recipe() {
    let ds = digits(3000);
    let c = colored_mnist(&ds, 7).unwrap();
    c.validate().unwrap();
    assert_eq!(
        (c.len(), c.n_features, c.example_shape.clone()),
        (3000, 1568, vec![2, 28, 28])
    );
    assert_eq!(c, colored_mnist(&ds, 7).unwrap(), "not deterministic");
    let dom = c.domains.as_ref().unwrap();
    let mut seen = HashSet::new();
    for env in 0..3u32 {
        let rows: Vec<usize> = (0..c.len()).filter(|&i| dom[i] == env).collect();
        assert_eq!(rows.len(), 1000);
        let (mut label_flips, mut colour_flips) = (0, 0);
        for &i in &rows {
            let row = c.row(i);
            let colour = usize::from(row[784..].iter().any(|&v| v != 0.0));
            let src_row = (row[colour * 784] * 3000.0).round() as usize;
            assert!(seen.insert(src_row), "row used twice");
            assert_eq!(
                src_row % 3,
                env as usize,
                "environment is not images[env::3]"
            );
            let clean = u32::from(ds.labels[src_row] >= 5);
            label_flips += usize::from(clean != c.labels[i]);
            colour_flips += usize::from(colour as u32 != c.labels[i]);
            assert!(
                row[(1 - colour) * 784..(2 - colour) * 784]
                    .iter()
                    .all(|&v| v == 0.0)
            );
        }
        let e = COLORED_MNIST_ENVIRONMENTS[env as usize];
        assert!(
            (label_flips as f64 / 1000.0 - 0.25).abs() < 0.05,
            "label flips {label_flips}"
        );
        assert!(
            (colour_flips as f64 / 1000.0 - e).abs() < 0.04,
            "colour flips {colour_flips} for e = {e}"
        );
    }
}

#[test]
fn long_tail_follows_profile() {
    let ds = toy(5000, 10, 2);
    let counts = ds.class_counts();
    let lt = long_tail(&ds, 50.0, 3).unwrap();
    let expect = long_tail_counts(*counts.iter().max().unwrap(), 10, 50.0);
    for c in 0..10 {
        assert_eq!(lt.class_counts()[c], expect[c].min(counts[c]));
    }
    assert_eq!(expect[0], 500);
    assert_eq!(expect[9], 10);
    assert!(expect.windows(2).all(|w| w[0] >= w[1]));
    assert_eq!(lt, long_tail(&ds, 50.0, 3).unwrap());
    assert_eq!(long_tail(&ds, 1.0, 0).unwrap().len(), 5000);
    assert!(long_tail(&ds, 0.5, 0).is_err());
}

#[test]
fn noise_rates_and_masks_exact() {
    let clean: Vec<u32> = (0..1000).map(|i| (i % 10) as u32).collect();
    let mut y = clean.clone();
    let test_labels = clean.clone();
    let mask = symmetric_noise(&mut y, 10, 0.37, 11).unwrap();
    assert_eq!(mask.iter().filter(|&&m| m).count(), 370);
    for i in 0..1000 {
        assert_eq!(mask[i], y[i] != clean[i], "mask wrong at {i}");
        assert!(y[i] < 10);
    }
    assert_eq!(test_labels, clean, "test labels must stay untouched");
    let mut y2 = clean.clone();
    assert_eq!(symmetric_noise(&mut y2, 10, 0.37, 11).unwrap(), mask);
    assert_eq!(y2, y);
    let mut y = clean.clone();
    let mask = asymmetric_noise(&mut y, &FASHION_MNIST_ASYMMETRIC_MAP, 0.3, 2).unwrap();
    assert_eq!(mask.iter().filter(|&&m| m).count(), 6 * 30);
    for i in 0..1000 {
        if mask[i] {
            assert_eq!(y[i], FASHION_MNIST_ASYMMETRIC_MAP[clean[i] as usize]);
        } else {
            assert_eq!(y[i], clean[i]);
        }
    }
    for c in [1, 3, 8, 9] {
        assert!((0..1000).filter(|&i| clean[i] == c).all(|i| !mask[i]));
    }
    assert_eq!(FASHION_MNIST_CLASSES[6], "Shirt");
    assert!(symmetric_noise(&mut y, 10, 1.5, 0).is_err());
    assert!(symmetric_noise(&mut [3], 2, 0.5, 0).is_err());
}

#[test]
fn embedded_magic_shape() {
    let ds = embedded_magic().unwrap();
    assert_eq!((ds.len(), ds.n_features, ds.n_classes()), (19020, 10, 2));
    assert_eq!(ds.class_names, vec!["g", "h"]);
    assert_eq!(ds.class_counts(), vec![12332, 6688]);
    ds.validate().unwrap();
}

#[test]
fn vocabulary_and_padding() {
    let v = Vocabulary::build(["The film, the end!", "the END", "rare"], 2, 100);
    assert_eq!(v.tokens, vec!["[PAD]", "[UNK]", "the", "end"]);
    let e = v.encode_batch(&["the end the", "film"], 2);
    assert_eq!((e.batch, e.seq_len), (2, 2));
    assert_eq!(e.ids, vec![2, 3, 1, 0]);
    assert_eq!(e.attention_mask, vec![1, 1, 1, 0]);
    let back: Vocabulary = serde_json::from_str(&serde_json::to_string(&v).unwrap()).unwrap();
    assert_eq!(back.encode("end", 4), vec![3]);
    assert_eq!(Vocabulary::build(["a b c d"], 1, 3).len(), 3);
}

#[test]
fn wordpiece_pads_to_longest_not_fixed() {
    // A tiny BERT-style tokenizer.json that, like all-MiniLM-L6-v2's, pads to a fixed 128.
    let json = r###"{
      "version": "1.0", "truncation": null,
      "padding": {"strategy": {"Fixed": 128}, "direction": "Right", "pad_to_multiple_of": null,
                  "pad_id": 0, "pad_type_id": 0, "pad_token": "[PAD]"},
      "added_tokens": [],
      "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                     "strip_accents": null, "lowercase": true},
      "pre_tokenizer": {"type": "BertPreTokenizer"},
      "post_processor": {"type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                   {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
        "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
        "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},
                           "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}}},
      "decoder": null,
      "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                "max_input_chars_per_word": 100,
                "vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "a": 4, "man": 5, "eat": 6, "##ing": 7, "food": 8, ".": 9}}
    }"###;
    let tok = WordPieceTokenizer::from_bytes(json.as_bytes(), "tiny.json", 6).unwrap();
    assert_eq!(
        tok.encode("A man eating food.").unwrap(),
        vec![2, 4, 5, 6, 7, 3]
    ); // truncated to 6
    let e = tok.encode_batch(&["man", "a man eating"]).unwrap();
    assert_eq!((e.batch, e.seq_len), (2, 6));
    assert_eq!(e.ids, vec![2, 5, 3, 0, 0, 0, 2, 4, 5, 6, 7, 3]);
    assert_eq!(e.attention_mask, vec![1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
    assert!(WordPieceTokenizer::from_bytes(b"{}", "bad.json", 8).is_err());
}

#[test]
fn registry_reports_missing_data() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "keel/letter",
        "keel-imb/page-blocks0",
        "fashion-mnist",
        "fashion-mnist-test",
        "mnist",
    ] {
        match registry::load_named(name, dir.path()) {
            Err(DataError::NotFetched { fix, .. }) => {
                assert!(fix.contains("scripts/fetch-data.sh"), "{fix}")
            }
            other => panic!("{name}: expected NotFetched, got {other:?}"),
        }
    }
    assert!(matches!(
        registry::load_named("nope", dir.path()),
        Err(DataError::UnknownName { .. })
    ));
    assert!(matches!(
        registry::load_named("keel/nope", dir.path()),
        Err(DataError::UnknownName { .. })
    ));
    std::fs::create_dir_all(dir.path().join("keel/balanced")).unwrap();
    std::fs::write(dir.path().join("keel/balanced/iris.dat"), "1,a\n2,b\n").unwrap();
    let ds = registry::load_named("keel/iris", dir.path()).unwrap();
    assert_eq!(ds.name, "keel/iris");
    let names = registry::list_names(dir.path());
    assert!(names.contains(&("keel/iris".to_string(), true)));
    assert!(names.contains(&("mnist".to_string(), false)));
    assert_eq!(
        names.iter().filter(|(n, _)| n.starts_with("keel/")).count(),
        43
    );
}
