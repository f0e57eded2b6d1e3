//! Text as numeric data: the sentiment sentences embedded once by the pretrained MiniLM encoder
//! (the linear-probe setting), cached next to the weights.
//!
//! `sentiment-minilm` is the 3-domain sentiment set (amazon, imdb, yelp) with each sentence
//! replaced by its 384-dimensional sentence embedding (masked mean pooling, L2-normalised; see
//! [`crate::bert`]). A linear model on it is a linear probe; `model.hidden = []` gives one.
//!
//! `sentiment-words` is the same set as word ids of a word vocabulary (the
//! [`WORD_VOCAB`](crate::transformer::WORD_VOCAB) most frequent words seen at least twice in the
//! training split's sentences), for the from-scratch transformer (`model.kind = "transformer"`).

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

/// The registry-style name of the WordPiece-id sentiment set (for `model.kind = "bert"`).
pub const SENTIMENT_WORDPIECE: &str = "sentiment-wordpiece";

/// Words kept per sentence in `sentiment-words`.
pub const MAX_WORDS: usize = 64;

/// Sentences per forward pass when embedding.
const EMBED_BATCH: usize = 64;

/// The sentence embeddings `[texts.len() * H]` of `texts` by the encoder in `folder`, computed in
/// batches padded to their longest sentence.
pub fn sentence_embeddings(
    texts: &[String],
    folder: &Path,
    device: &Device,
) -> Result<Vec<f32>, LabError> {
    let bert = Bert::from_pretrained(folder, device)?;
    let tokenizer = WordPieceTokenizer::from_file(folder.join("tokenizer.json"), 128)?;
    let mut out = Vec::new();
    for chunk in texts.chunks(EMBED_BATCH) {
        let batch =
            tokenizer.encode_batch(&chunk.iter().map(String::as_str).collect::<Vec<_>>())?;
        let shape = [batch.batch, batch.seq_len];
        let ints = |v: &[u32]| v.iter().map(|&x| i64::from(x)).collect::<Vec<_>>();
        let ids = Tensor::<2, Int>::from_data(TensorData::new(ints(&batch.ids), shape), device);
        let mask = Tensor::<2, Int>::from_data(
            TensorData::new(ints(&batch.attention_mask), shape),
            device,
        );
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
    Ok(out)
}

/// The sentiment set with MiniLM sentence embeddings as features (domains kept), from the cache
/// file if present, else computed (about a minute on 2 cores) and cached.
pub fn sentiment_minilm(cache: &Path) -> Result<Dataset, LabError> {
    let text = registry::load_text_named("sentiment", cache)?;
    let folder = cache.join("minilm");
    let file = folder.join("sentiment-embeddings.safetensors");
    let hidden = 384;
    let features = match read_cached(&file, text.len(), hidden)? {
        Some(f) => f,
        None => {
            eprintln!(
                "embedding {} sentences with MiniLM (cached in {})",
                text.len(),
                file.display()
            );
            let f = sentence_embeddings(&text.texts, &folder, &Device::flex())?;
            let bytes: Vec<u8> = f.iter().flat_map(|v| v.to_le_bytes()).collect();
            let view = safetensors::tensor::TensorView::new(
                safetensors::Dtype::F32,
                vec![text.len(), hidden],
                &bytes,
            )
            .map_err(|e| LabError::Config(format!("embeddings: {e}")))?;
            let data = safetensors::serialize([("embeddings", view)], None)
                .map_err(|e| LabError::Config(format!("embeddings: {e}")))?;
            write_atomic(&file, &data)?;
            f
        }
    };
    Ok(numeric(text, SENTIMENT_MINILM, features, hidden))
}

/// The sentiment set with each sentence's row number as its one feature, domains kept: the form
/// in which `sentiment-words` is split. [`encode_words`] then turns the rows into word ids.
pub fn sentiment_rows(cache: &Path) -> Result<Dataset, LabError> {
    let text = registry::load_text_named("sentiment", cache)?;
    let rows = (0..text.len()).map(|r| r as f32).collect(); // exact: 3000 < 2^24
    Ok(numeric(text, SENTIMENT_WORDS, rows, 1))
}

/// Replaces the row numbers of [`sentiment_rows`] splits (indexing the sentences `texts`) by
/// word ids (`f32`, padded with 0 to the longest sentence of the whole set, at most
/// [`MAX_WORDS`]), with a vocabulary built from the training split's sentences only (the
/// [`WORD_VOCAB`](crate::transformer::WORD_VOCAB) most frequent words seen at least twice), so
/// that no word count comes from a held-out sentence.
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
        let mut ds = Dataset::from_features(
            SENTIMENT_WORDS,
            features,
            width,
            std::mem::take(&mut split.labels),
            std::mem::take(&mut split.class_names),
        );
        ds.domains = split.domains.take();
        ds.domain_names = std::mem::take(&mut split.domain_names);
        *split = ds;
    }
    Ok(())
}

/// The sentiment set as MiniLM WordPiece ids (`f32`, `[CLS] ... [SEP]`, at most 128, padded
/// with `[PAD]` = 0 to the longest sentence), domains kept.
pub fn sentiment_wordpiece(cache: &Path) -> Result<Dataset, LabError> {
    let text = registry::load_text_named("sentiment", cache)?;
    let tokenizer =
        WordPieceTokenizer::from_file(cache.join("minilm").join("tokenizer.json"), 128)?;
    if tokenizer.pad_id() != 0 {
        return Err(LabError::Config(format!(
            "the MiniLM tokenizer pads with id {}, but token-id rows pad with 0",
            tokenizer.pad_id()
        )));
    }
    let texts: Vec<&str> = text.texts.iter().map(String::as_str).collect();
    let encoded = tokenizer.encode_batch(&texts)?;
    let features = encoded.ids.iter().map(|&id| id as f32).collect();
    Ok(numeric(
        text,
        SENTIMENT_WORDPIECE,
        features,
        encoded.seq_len,
    ))
}

/// `text` with `width` numeric features per sentence (row-major `features`) in place of its
/// texts; labels and domains kept.
fn numeric(text: rgd_data::TextDataset, name: &str, features: Vec<f32>, width: usize) -> Dataset {
    let mut ds = Dataset::from_features(name, features, width, text.labels, text.class_names);
    ds.domains = text.domains;
    ds.domain_names = text.domain_names;
    ds
}

/// The cached embeddings if the file exists and matches `[rows, hidden]`.
fn read_cached(file: &Path, rows: usize, hidden: usize) -> Result<Option<Vec<f32>>, LabError> {
    if !file.is_file() {
        return Ok(None);
    }
    let bytes = crate::run_dir::read(file)?;
    let corrupt = |reason: String| {
        LabError::corrupt(file, format!("{reason}; delete the file to recompute it"))
    };
    let st = safetensors::SafeTensors::deserialize(&bytes)
        .map_err(|e| corrupt(format!("not a safetensors file: {e}")))?;
    let values = crate::bert::f32_values(&st, "embeddings", &[rows, hidden]).map_err(corrupt)?;
    Ok(Some(values))
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
