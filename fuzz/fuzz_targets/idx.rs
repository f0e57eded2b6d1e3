//! IDX parsers (raw and gzipped input) and the image/label pairing.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(im) = rgd_data::parse_idx_images(data, "fuzz-images") {
        assert_eq!(im.pixels.len(), im.n * im.rows * im.cols);
        assert!(im.pixels.iter().all(|p| (0.0..=1.0).contains(p)));
    }
    if let Ok(y) = rgd_data::parse_idx_labels(data, "fuzz-labels", 10) {
        assert!(y.iter().all(|&l| l < 10));
    }
});
