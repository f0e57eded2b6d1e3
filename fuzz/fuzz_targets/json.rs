//! MNIST-digit and sentiment JSON parsers.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(px) = rgd_data::parse_mnist_digit_json(data, "fuzz.json") {
        assert!(!px.is_empty() && px.len() % 784 == 0);
        assert!(px.iter().all(|p| (0.0..=1.0).contains(p)));
    }
    if let Ok(t) = rgd_data::parse_sentiment_json(data, "fuzz.json") {
        assert_eq!(t.texts.len(), t.labels.len());
        assert!(t.labels.iter().all(|&l| l < 2));
    }
});
