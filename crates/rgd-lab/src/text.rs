//! Text as numeric data: the 3-domain sentiment set (amazon, imdb, yelp), labels and domains
//! kept, with each sentence as numbers.
//!
//! `sentiment-minilm`: its 384-dimensional MiniLM sentence embedding (masked mean pooling,
//! L2-normalised; see [`crate::bert`]), computed once and cached next to the weights. A linear
//! model on it is a linear probe; `model.hidden = []` gives one.
//!
//! `sentiment-words`: word ids of a word vocabulary (the
//! [`WORD_VOCAB`](crate::transformer::WORD_VOCAB) most frequent words seen at least twice in the
//! training split's sentences), for the from-scratch transformer (`model.kind = "transformer"`).
//!
//! `sentiment-wordpiece`: MiniLM WordPiece ids (`[CLS] ... [SEP]`, at most 128, padded with
//! `[PAD]` = 0 to the longest sentence), for `model.kind = "bert"`.

use std::path::Path;

use burn::prelude::*;
use rgd_data::{Dataset, Vocabulary, WordPieceTokenizer, registry};

use crate::LabError;
use crate::bert::Bert;
use crate::run_dir::write_atomic;

/// The registry-style name of the embedded sentiment set.
pub const SENTIMENT_MINILM: &str = "sentiment-minilm";

/// The registry-style name of the word-id sentiment set.
pub const SENTIMENT_WORDS: &str = "sentiment-words";

/// The registry-style name of the WordPiece-id sentiment set.
pub const SENTIMENT_WORDPIECE: &str = "sentiment-wordpiece";

/// Words kept per sentence in `sentiment-words`.
pub const MAX_WORDS: usize = 64;

/// Sentences per forward pass when embedding.
const EMBED_BATCH: usize = 64;

/// The width of a MiniLM sentence embedding.
const HIDDEN: usize = 384;

/// The sentiment set `name` (one of the three above) as the module docs describe it, but
/// `sentiment-words` as each sentence's row number, the form in which it is split
/// ([`encode_words`] then turns the rows into word ids).
pub fn sentiment(name: &str, cache: &Path) -> Result<Dataset, LabError> {
    let text = registry::load_text_named("sentiment", cache)?;
    let (features, width) = match name {
        SENTIMENT_MINILM => (minilm_embeddings(&text.texts, cache)?, HIDDEN),
        SENTIMENT_WORDS => ((0..text.len()).map(|r| r as f32).collect(), 1), // exact: 3000 < 2^24
        _ => {
            let folder = cache.join("minilm");
            let tokenizer = WordPieceTokenizer::from_file(folder.join("tokenizer.json"), 128)?;
            if tokenizer.pad_id() != 0 {
                return Err(LabError::Config(format!(
                    "the MiniLM tokenizer pads with id {}, but token-id rows pad with 0",
                    tokenizer.pad_id()
                )));
            }
            let texts: Vec<&str> = text.texts.iter().map(String::as_str).collect();
            let encoded = tokenizer.encode_batch(&texts)?;
            let ids = encoded.ids.iter().map(|&id| id as f32).collect();
            (ids, encoded.seq_len)
        }
    };
    let mut ds = Dataset::from_features(name, features, width, text.labels, text.class_names);
    ds.domains = text.domains;
    ds.domain_names = text.domain_names;
    Ok(ds)
}

/// The MiniLM sentence embeddings `[texts.len() * HIDDEN]` of `texts`: the cache file's, else
/// computed (about a minute on 2 cores) in batches padded to their longest sentence, and cached.
fn minilm_embeddings(texts: &[String], cache: &Path) -> Result<Vec<f32>, LabError> {
    let folder = cache.join("minilm");
    let file = folder.join("sentiment-embeddings.safetensors");
    if file.is_file() {
        let bytes = crate::run_dir::read(&file)?;
        let corrupt = |reason: String| {
            LabError::corrupt(&file, format!("{reason}; delete the file to recompute it"))
        };
        let st = safetensors::SafeTensors::deserialize(&bytes)
            .map_err(|e| corrupt(format!("not a safetensors file: {e}")))?;
        return crate::bert::f32_values(&st, "embeddings", &[texts.len(), HIDDEN]).map_err(corrupt);
    }
    eprintln!(
        "embedding {} sentences with MiniLM (cached in {})",
        texts.len(),
        file.display()
    );
    let device = Device::flex();
    let bert = Bert::from_pretrained(&folder, &device)?;
    let tokenizer = WordPieceTokenizer::from_file(folder.join("tokenizer.json"), 128)?;
    let mut out = Vec::new();
    for chunk in texts.chunks(EMBED_BATCH) {
        let batch =
            tokenizer.encode_batch(&chunk.iter().map(String::as_str).collect::<Vec<_>>())?;
        let shape = [batch.batch, batch.seq_len];
        let tensor = |v: &[u32]| {
            let v: Vec<i64> = v.iter().map(|&x| i64::from(x)).collect();
            Tensor::<2, Int>::from_data(TensorData::new(v, shape), &device)
        };
        let (ids, mask) = (tensor(&batch.ids), tensor(&batch.attention_mask));
        let e = Bert::sentence_embedding(bert.forward(ids, mask.clone()), mask);
        out.extend(
            e.into_data()
                .try_into_vec_as::<f32>()
                .map_err(|e| LabError::ReadBack {
                    what: "embeddings",
                    reason: format!("{e:?}"),
                })?,
        );
    }
    let bytes: Vec<u8> = out.iter().flat_map(|v| v.to_le_bytes()).collect();
    let shape = vec![texts.len(), HIDDEN];
    let data = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape, &bytes)
        .and_then(|view| safetensors::serialize([("embeddings", view)], None))
        .map_err(|e| LabError::Config(format!("embeddings: {e}")))?;
    write_atomic(&file, &data)?;
    Ok(out)
}

/// Replaces the row numbers of `sentiment-words` splits (indexing the sentences `texts`) by
/// word ids (`f32`, padded with 0 to the longest sentence of the whole set, at most
/// [`MAX_WORDS`]), with a vocabulary built from the training split's sentences only (see the
/// module docs), so that no word count comes from a held-out sentence.
pub fn encode_words(texts: &[String], splits: [&mut Dataset; 3]) -> Result<(), LabError> {
    if let Some(s) = (splits.iter()).find(|s| s.name != SENTIMENT_WORDS || s.n_features != 1) {
        return Err(LabError::Config(format!(
            "{SENTIMENT_WORDS} is split as sentence rows, but {} is not such a split; it \
             cannot be combined with data.test_source",
            s.name
        )));
    }
    let rows_of = |d: &Dataset| -> Vec<usize> { d.features.iter().map(|&r| r as usize).collect() };
    let training: Vec<&str> = (rows_of(splits[0]).into_iter())
        .map(|r| texts[r].as_str())
        .collect();
    let vocab = Vocabulary::build(&training, 2, crate::transformer::WORD_VOCAB);
    let encoded = vocab.encode_batch(texts, MAX_WORDS);
    let width = encoded.seq_len;
    for split in splits {
        let features = (rows_of(split).into_iter())
            .flat_map(|r| &encoded.ids[r * width..(r + 1) * width])
            .map(|&id| id as f32)
            .collect();
        // The ids in `from_features`' layout; the name, labels and domains stay.
        let ids = Dataset::from_features(SENTIMENT_WORDS, features, width, vec![], vec![]);
        (split.features, split.n_features) = (ids.features, ids.n_features);
        (split.example_shape, split.feature_names) = (ids.example_shape, ids.feature_names);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(rows: &[usize], labels: &[u32]) -> Dataset {
        let features = rows.iter().map(|&r| r as f32).collect();
        let names = vec!["neg".to_string(), "pos".to_string()];
        Dataset::from_features(SENTIMENT_WORDS, features, 1, labels.to_vec(), names)
    }

    #[test]
    fn the_word_vocabulary_comes_from_the_training_rows_alone() {
        let texts: Vec<String> = [
            "good film good plot",
            "bad film bad plot",
            "good good rare words",
            "zebra zebra zebra film",
            "bad",
        ]
        .map(String::from)
        .to_vec();
        let (mut train, mut valid, mut test) = (
            rows(&[0, 1], &[1, 0]),
            rows(&[2], &[1]),
            rows(&[3, 4], &[0, 0]),
        );
        encode_words(&texts, [&mut train, &mut valid, &mut test]).unwrap();
        // Padded to the longest sentence of the whole set (4 words), the same for every split.
        for split in [&train, &valid, &test] {
            assert_eq!(
                (split.n_features, split.name.as_str()),
                (4, SENTIMENT_WORDS)
            );
        }
        assert_eq!(test.labels, vec![0, 0]);
        let id = |d: &Dataset, row: usize, word: usize| d.features[row * 4 + word] as u32;
        let unk = Vocabulary::UNK;
        // "zebra" is frequent, but only in the test split: unknown. "film" was seen twice in
        // training: known, with the same id in every split.
        assert_eq!(id(&test, 0, 0), unk);
        assert_ne!(id(&train, 0, 1), unk);
        assert_eq!(id(&test, 0, 3), id(&train, 0, 1));
        // "rare" and "words" appear once, in validation: unknown; "good" is known.
        assert_eq!((id(&valid, 0, 2), id(&valid, 0, 3)), (unk, unk));
        assert_eq!(id(&valid, 0, 0), id(&train, 0, 0));
        // Padding after the one-word sentence.
        assert_eq!(id(&test, 1, 1), Vocabulary::PAD);
    }

    #[test]
    fn a_split_that_is_not_sentence_rows_is_refused() {
        let texts = vec!["a b".to_string()];
        let mut other = rows(&[0], &[0]);
        other.name = "fashion-mnist".into();
        let err = encode_words(
            &texts,
            [&mut rows(&[0], &[1]), &mut rows(&[0], &[0]), &mut other],
        );
        assert!(err.unwrap_err().to_string().contains("data.test_source"));
    }
}
