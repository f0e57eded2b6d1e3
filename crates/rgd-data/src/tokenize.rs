//! Tokenisers: a WordPiece wrapper over `tokenizer.json` and a simple word vocabulary.

use std::collections::HashMap;
use std::path::Path;

use crate::DataError;

/// A batch of token ids padded to its longest sequence, row-major `[batch, seq_len]`.
///
/// `attention_mask[i] == 1` for real tokens and `0` for padding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// `batch * seq_len` token ids.
    pub ids: Vec<u32>,
    /// `batch * seq_len` mask values (1 real, 0 padding).
    pub attention_mask: Vec<u32>,
    /// Number of sequences.
    pub batch: usize,
    /// Length of the longest sequence (all rows padded to it).
    pub seq_len: usize,
}

impl Encoded {
    /// Pad sequences of ids to the longest one with `pad_id`.
    ///
    /// ```
    /// let e = rgd_data::Encoded::pad(&[vec![5, 6, 7], vec![8]], 0);
    /// assert_eq!(e.ids, vec![5, 6, 7, 8, 0, 0]);
    /// assert_eq!(e.attention_mask, vec![1, 1, 1, 1, 0, 0]);
    /// ```
    pub fn pad(seqs: &[Vec<u32>], pad_id: u32) -> Encoded {
        let seq_len = seqs.iter().map(Vec::len).max().unwrap_or(0);
        let mut ids = Vec::with_capacity(seqs.len() * seq_len);
        let mut attention_mask = Vec::with_capacity(seqs.len() * seq_len);
        for s in seqs {
            ids.extend_from_slice(s);
            ids.extend(std::iter::repeat_n(pad_id, seq_len - s.len()));
            attention_mask.extend(std::iter::repeat_n(1, s.len()));
            attention_mask.extend(std::iter::repeat_n(0, seq_len - s.len()));
        }
        Encoded {
            ids,
            attention_mask,
            batch: seqs.len(),
            seq_len,
        }
    }
}

/// A WordPiece (BERT-style) tokenizer loaded from a Hugging Face `tokenizer.json`.
///
/// The file's own padding (all-MiniLM-L6-v2's pads every sentence to 128) is
/// switched off and truncation is set to `max_len` tokens (special tokens
/// included), so a batch is padded only to its longest sentence by
/// [`WordPieceTokenizer::encode_batch`], with `[PAD]`'s id (0 if absent).
///
/// ```no_run
/// let tok = rgd_data::WordPieceTokenizer::from_file("data-cache/minilm/tokenizer.json", 128).unwrap();
/// let e = tok.encode_batch(&["A man is eating food.", "Hi"]).unwrap();
/// assert_eq!(e.batch, 2);
/// ```
pub struct WordPieceTokenizer {
    inner: tokenizers::Tokenizer,
    source: String,
    pad_id: u32,
    max_len: usize,
}

impl std::fmt::Debug for WordPieceTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WordPieceTokenizer")
            .field("source", &self.source)
            .field("pad_id", &self.pad_id)
            .field("max_len", &self.max_len)
            .finish()
    }
}

impl WordPieceTokenizer {
    /// Load `tokenizer.json` from a file; see [`WordPieceTokenizer::from_bytes`].
    pub fn from_file(path: impl AsRef<Path>, max_len: usize) -> Result<Self, DataError> {
        let p = path.as_ref();
        Self::from_bytes(
            &crate::error::read_file(p)?,
            &p.display().to_string(),
            max_len,
        )
    }

    /// Load a tokenizer from the bytes of a `tokenizer.json`; `source` names it in errors.
    pub fn from_bytes(bytes: &[u8], source: &str, max_len: usize) -> Result<Self, DataError> {
        if max_len < 2 {
            return Err(DataError::arg(
                "max_len",
                max_len,
                "at least 2 (room for [CLS] and [SEP])",
            ));
        }
        let mut inner =
            tokenizers::Tokenizer::from_bytes(bytes).map_err(|e| DataError::Tokenizer {
                file: source.into(),
                msg: format!("cannot load ({e}); pass a Hugging Face tokenizer.json"),
            })?;
        inner.with_padding(None);
        inner
            .with_truncation(Some(tokenizers::TruncationParams {
                max_length: max_len,
                ..Default::default()
            }))
            .map_err(|e| DataError::Tokenizer {
                file: source.into(),
                msg: format!("cannot set truncation to {max_len} ({e}); choose a larger max_len"),
            })?;
        let pad_id = inner.token_to_id("[PAD]").unwrap_or(0);
        Ok(WordPieceTokenizer {
            inner,
            source: source.into(),
            pad_id,
            max_len,
        })
    }

    /// Token ids of one text, with special tokens (`[CLS] ... [SEP]`), at most `max_len` long.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, DataError> {
        let e = self
            .inner
            .encode(text, true)
            .map_err(|e| DataError::Tokenizer {
                file: self.source.clone(),
                msg: format!("cannot encode text ({e})"),
            })?;
        Ok(e.get_ids().to_vec())
    }

    /// Encode texts and pad the batch to its longest sequence (never to a fixed length).
    pub fn encode_batch(&self, texts: &[&str]) -> Result<Encoded, DataError> {
        let seqs = texts
            .iter()
            .map(|t| self.encode(t))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Encoded::pad(&seqs, self.pad_id))
    }

    /// The padding id (`[PAD]`'s id, 0 if the vocabulary has no `[PAD]`).
    pub fn pad_id(&self) -> u32 {
        self.pad_id
    }

    /// The truncation length.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// Vocabulary size including added tokens.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }
}

/// A word-level vocabulary for models trained from scratch: `[PAD]` = 0, `[UNK]` = 1.
///
/// Words are lowercase runs of alphanumeric characters (everything else
/// separates words). [`Vocabulary::build`] keeps words seen at least
/// `min_count` times, most frequent first (ties broken alphabetically, so the
/// result is deterministic), up to `max_size` entries including the two
/// special tokens.
///
/// ```
/// let v = rgd_data::Vocabulary::build(["Good film, good!", "bad film"], 1, 10);
/// assert_eq!(v.tokens, vec!["[PAD]", "[UNK]", "film", "good", "bad"]);
/// assert_eq!(v.encode("good, ugly FILM", 8), vec![3, 1, 2]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(from = "Vec<String>", into = "Vec<String>")]
pub struct Vocabulary {
    /// Token strings; index = id.
    pub tokens: Vec<String>,
    index: HashMap<String, u32>,
}

impl Vocabulary {
    /// Id of the padding token.
    pub const PAD: u32 = 0;
    /// Id of the unknown-word token.
    pub const UNK: u32 = 1;

    /// Lowercase `text` and split it into alphanumeric words.
    pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
        text.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
    }

    /// Count words over `texts` and keep the frequent ones (see the type docs).
    pub fn build<I, S>(texts: I, min_count: usize, max_size: usize) -> Vocabulary
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for t in texts {
            for w in Self::words(t.as_ref()) {
                *counts.entry(w).or_default() += 1;
            }
        }
        let mut words: Vec<(String, usize)> = counts
            .into_iter()
            .filter(|(_, c)| *c >= min_count.max(1))
            .collect();
        words.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let mut tokens = vec!["[PAD]".to_string(), "[UNK]".to_string()];
        tokens.extend(
            words
                .into_iter()
                .map(|(w, _)| w)
                .take(max_size.saturating_sub(2)),
        );
        Self::from_tokens(tokens)
    }

    /// Rebuild from a token list (index = id), e.g. after deserialising.
    pub fn from_tokens(tokens: Vec<String>) -> Vocabulary {
        let index = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i as u32))
            .collect();
        Vocabulary { tokens, index }
    }

    /// Number of tokens including `[PAD]` and `[UNK]`.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// True when there are no tokens at all (never after [`Vocabulary::build`]).
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// Ids of the first `max_len` words of `text` (unknown words -> `[UNK]`), unpadded.
    pub fn encode(&self, text: &str, max_len: usize) -> Vec<u32> {
        Self::words(text)
            .take(max_len)
            .map(|w| self.index.get(&w).copied().unwrap_or(Self::UNK))
            .collect()
    }

    /// Encode texts (each truncated to `max_len`) and pad the batch to its longest one with `[PAD]`.
    pub fn encode_batch<S: AsRef<str>>(&self, texts: &[S], max_len: usize) -> Encoded {
        let seqs: Vec<Vec<u32>> = texts
            .iter()
            .map(|t| self.encode(t.as_ref(), max_len))
            .collect();
        Encoded::pad(&seqs, Self::PAD)
    }
}

impl From<Vec<String>> for Vocabulary {
    fn from(tokens: Vec<String>) -> Self {
        Vocabulary::from_tokens(tokens)
    }
}

impl From<Vocabulary> for Vec<String> {
    fn from(v: Vocabulary) -> Self {
        v.tokens
    }
}
