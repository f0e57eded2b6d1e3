//! Golden test of the BERT encoder on the real all-MiniLM-L6-v2 weights (data.md's values).
//! Skipped with a printed reason when the weights are not in the cache; fails instead when
//! RGD_REQUIRE_DATA=1.

use std::path::PathBuf;

use burn::prelude::*;
use rgd_data::WordPieceTokenizer;
use rgd_lab::bert::Bert;

fn minilm() -> Option<PathBuf> {
    let cache = rgd_data::registry::cache_dir();
    let cache = if cache.is_absolute() {
        cache
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(cache)
    };
    let folder = cache.join("minilm");
    if folder.join("model.safetensors").is_file() {
        return Some(folder);
    }
    assert!(
        std::env::var("RGD_REQUIRE_DATA").as_deref() != Ok("1"),
        "RGD_REQUIRE_DATA=1 but {} is missing (scripts/fetch-data.sh minilm)",
        folder.display()
    );
    eprintln!(
        "skipping the MiniLM golden test: {} is missing (run scripts/fetch-data.sh minilm)",
        folder.display()
    );
    None
}

#[test]
fn minilm_sentence_embeddings_match_the_reference() {
    let Some(folder) = minilm() else { return };
    let device = Device::flex();
    let bert = Bert::from_pretrained(&folder, &device).unwrap();
    let tokenizer = WordPieceTokenizer::from_file(folder.join("tokenizer.json"), 128).unwrap();
    let batch = tokenizer
        .encode_batch(&["A man is eating food.", "A man is eating a piece of bread."])
        .unwrap();
    let shape = [batch.batch, batch.seq_len];
    let ints = |v: &[u32]| v.iter().map(|&x| i64::from(x)).collect::<Vec<_>>();
    let ids = Tensor::<2, Int>::from_data(TensorData::new(ints(&batch.ids), shape), &device);
    let mask =
        Tensor::<2, Int>::from_data(TensorData::new(ints(&batch.attention_mask), shape), &device);
    let hidden = bert.forward(ids, mask.clone());
    let e: Vec<f32> = Bert::sentence_embedding(hidden, mask)
        .into_data()
        .try_into_vec_as::<f32>()
        .unwrap();
    let (a, b) = e.split_at(384);
    let cosine: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    assert!((cosine - 0.7553).abs() < 5e-4, "cosine {cosine}");
    for (got, want) in a
        .iter()
        .zip([0.03324f32, 0.00441, -0.00628, 0.04838, -0.1387])
    {
        assert!((got - want).abs() < 1e-4, "first values {:?}", &a[..5]);
    }
}
