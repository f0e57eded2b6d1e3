//! Episodes on the real meta-learning benchmarks (letter; Fashion-MNIST + MNIST digits).
//!
//! Skips with a message when the cache folder lacks the data; fails instead when
//! `RGD_REQUIRE_DATA=1`.

mod common;

use common::load_or_skip;
use rgd_data::*;

/// Every split yields N x (K + Q) rows, all of the split's own classes.
fn check(ds: &Dataset, split: ClassSplit, ways: usize, shots: usize, queries: usize) {
    split.validate(ds.n_classes()).unwrap();
    for s in [MetaSplit::Train, MetaSplit::Valid, MetaSplit::Test] {
        let classes = split.classes(s);
        let sampler = EpisodeSampler::new(ds, classes, ways, shots, queries).unwrap();
        for i in 0..20 {
            let e = sampler.episode(0, i);
            assert_eq!(e.support.len() + e.query.len(), ways * (shots + queries));
            for &r in e.support.iter().chain(&e.query) {
                assert!(
                    classes.contains(&ds.labels[r]),
                    "{s:?} episode uses a foreign class"
                );
            }
        }
    }
}

#[test]
fn letter_episodes() {
    let Some(ds) = load_or_skip("keel/letter") else {
        return;
    };
    assert_eq!(ds.n_classes(), 26);
    // Classes are sorted: meta-train A-P, meta-validation Q-U, meta-test V-Z (docs/meta-learning.md).
    let name = |k: u32| ds.class_names[k as usize].as_str();
    assert_eq!(
        (name(LETTER_SPLIT.train[0]), name(LETTER_SPLIT.train[15])),
        ("A", "P")
    );
    assert_eq!(
        (name(LETTER_SPLIT.valid[0]), name(LETTER_SPLIT.valid[4])),
        ("Q", "U")
    );
    assert_eq!(
        (name(LETTER_SPLIT.test[0]), name(LETTER_SPLIT.test[4])),
        ("V", "Z")
    );
    check(&ds, LETTER_SPLIT, 5, 5, 15);
    check(&ds, LETTER_SPLIT, 5, 1, 15);
}

#[test]
fn image_episodes() {
    let (Some(fashion), Some(mnist)) = (load_or_skip("fashion-mnist"), load_or_skip("mnist"))
    else {
        return;
    };
    let images = combine_image_classes(&fashion, &mnist, 600, 0).unwrap();
    images.validate().unwrap();
    assert_eq!(images.class_counts(), vec![600; 20]);
    check(&images, IMAGE_SPLIT, 5, 5, 15);
}
