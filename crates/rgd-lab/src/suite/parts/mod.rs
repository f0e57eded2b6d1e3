//! The parts of every suite, one file per family of suites.

/// The optimizer of most parts: AdamW with weight decay 0.01 on a cosine schedule after 20
/// warm-up steps (a TOML table, open for more keys).
const ADAMW: &str = r#"[optim]
name = "adamw"
weight_decay = 0.01
schedule = "cosine"
warmup_steps = 20"#;

mod images;
mod tabular;
mod text;

pub(crate) use images::{domains, images, images_converged, images_vit, images_vit_epochs, noise};
pub(crate) use tabular::{imbalance, tabular};
pub(crate) use text::{
    text, text_finetuned, text_finetuned_epochs, text_finetuned_lodo, text_transformer,
};
