//! The parts of every suite, one file per family of suites.

mod images;
mod tabular;
mod text;

pub(crate) use images::{domains, images, images_converged, images_vit, images_vit_epochs, noise};
pub(crate) use tabular::{imbalance, tabular};
pub(crate) use text::{
    text, text_finetuned, text_finetuned_epochs, text_finetuned_lodo, text_transformer,
};
