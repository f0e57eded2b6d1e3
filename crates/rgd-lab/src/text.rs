//! Text as numeric data: the sentiment sentences embedded once by the pretrained MiniLM encoder
//! (the linear-probe setting), cached next to the weights.
//!
//! `sentiment-minilm` is the 3-domain sentiment set (amazon, imdb, yelp) with each sentence
//! replaced by its 384-dimensional sentence embedding (masked mean pooling, L2-normalised; see
//! [`crate::bert`]). A linear model on it is a linear probe; `model.hidden = []` gives one.
//!
//! `sentiment-words` is the same set as word ids of a word vocabulary (the
//! [`WORD_VOCAB`](crate::transformer::WORD_VOCAB) most frequent words seen at least twice in the
//! sentences, labels unused), for the from-scratch transformer (`model.kind = "transformer"`).

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

/// The embedding cache: `<cache>/minilm/sentiment-embeddings.safetensors`.
fn cache_file(cache: &Path) -> std::path::PathBuf {
    cache
        .join("minilm")
        .join("sentiment-embeddings.safetensors")
}

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
                .map_err(|e| LabError::Config(format!("cannot read the embeddings back: {e:?}")))?,
        );
    }
    Ok(out)
}

/// The sentiment set with MiniLM sentence embeddings as features (domains kept), from the cache
/// file if present, else computed (about a minute on 2 cores) and cached.
pub fn sentiment_minilm(cache: &Path) -> Result<Dataset, LabError> {
    let text = registry::load_text_named("sentiment", cache)?;
    let folder = cache.join("minilm");
    let file = cache_file(cache);
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

/// The sentiment set as word ids (`f32`, padded with 0 to the longest sentence), domains kept.
pub fn sentiment_words(cache: &Path) -> Result<Dataset, LabError> {
    let text = registry::load_text_named("sentiment", cache)?;
    let vocab = Vocabulary::build(&text.texts, 2, crate::transformer::WORD_VOCAB);
    let encoded = vocab.encode_batch(&text.texts, MAX_WORDS);
    let features = encoded.ids.iter().map(|&id| id as f32).collect();
    Ok(numeric(text, SENTIMENT_WORDS, features, encoded.seq_len))
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
    let bytes = std::fs::read(file).map_err(|e| LabError::io(file, e))?;
    let corrupt = |reason: String| LabError::Corrupt {
        path: file.to_path_buf(),
        reason: format!("{reason}; delete the file to recompute it"),
    };
    let st = safetensors::SafeTensors::deserialize(&bytes)
        .map_err(|e| corrupt(format!("not a safetensors file: {e}")))?;
    let view = st
        .tensor("embeddings")
        .map_err(|e| corrupt(format!("no `embeddings` tensor: {e}")))?;
    if view.shape() != [rows, hidden] || view.dtype() != safetensors::Dtype::F32 {
        return Err(corrupt(format!(
            "embeddings are {:?} {:?}, expected F32 [{rows}, {hidden}]",
            view.dtype(),
            view.shape()
        )));
    }
    Ok(Some(
        view.data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
    ))
}
