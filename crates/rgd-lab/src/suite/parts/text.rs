//! The text suite's parts: the linear probe, the transformer from scratch, fine-tuning (for
//! 40 steps, for 3 epochs, and with each domain held out).

use super::super::catalog::{Grid, Part, base_config, spec};
use super::ADAMW;
use crate::suite::TAUS;

/// Sentence sentiment (amazon, imdb, yelp) with a linear probe on the pretrained MiniLM sentence
/// embeddings: in-domain, and each domain held out in turn.
pub(crate) fn text(quick: bool) -> Part {
    let base = base_config(&format!(
        r#"
[data]
source = "sentiment-minilm"
[model]
hidden = []
{ADAMW}
[train]
batch_size = 64
epochs = 30
"#
    ));
    let mut data = vec![spec("sentiment-in-domain", &[])];
    if !quick {
        data.extend(rgd_data::SENTIMENT_DOMAINS.iter().map(|d| {
            let (label, test) = (format!("sentiment_{d}"), format!("data.test_domain={d}"));
            spec(&label, &[&test, "data.valid_fraction=0.2"])
        }));
    }
    let notes = if quick {
        "quick mode: in-domain only".into()
    } else {
        "linear probe: a linear classifier on the frozen all-MiniLM-L6-v2 sentence embeddings \
         (384 values, masked mean pooling, L2-normalised, then standardised on the training \
         split) of the 3000 labelled sentences of the sentiment data (1000 each from amazon, \
         imdb, yelp). In-domain: a 70/15/15 split stratified by domain and label; \
         sentiment_<domain>: that domain held out as the test set (1000 sentences), the other \
         two split 80/20 into training and validation; the classifier is an MLP without \
         hidden layers. Test sets of 450-1000 sentences resolve about ±3-4 points (95%) per \
         run"
        .into()
    };
    Part {
        title: "Linear probe on the frozen MiniLM embeddings",
        lrs: if quick { vec![1e-2] } else { vec![3e-3, 1e-2] },
        families: vec!["sentiment_"],
        ..Part::new(quick, base, data, notes)
    }
}

/// The text suite's transformer trained from scratch on word ids (its own vocabulary of the
/// sentences): in-domain and each domain held out, ERM against RGD.
pub(crate) fn text_transformer(quick: bool) -> Part {
    let epochs = if quick { 1 } else { 6 };
    let base = base_config(&format!(
        r#"
[data]
source = "sentiment-words"
standardize = false
[model]
kind = "transformer"
width = 64
depth = 2
heads = 4
# Its records ran on burn-nn's encoder layers, before the fused attention and GELU.
kernels = "burn"
{ADAMW}
lr = 1e-3
[train]
batch_size = 64
epochs = {epochs}
"#
    ));
    let mut part = text(quick);
    part.title = "Transformer trained from scratch";
    part.slug = "transformer";
    part.base = base;
    for data in &mut part.data {
        data.label = format!("transformer-{}", data.label);
    }
    part.families = vec!["transformer-sentiment_"];
    part.methods = vec!["erm", "rgd"];
    part.lrs = vec![1e-3];
    part.grids = vec![Grid::tau(if quick { &TAUS[2..4] } else { &TAUS[1..4] })];
    part.notes = if quick {
        "quick mode: in-domain only".into()
    } else {
        "a transformer encoder trained from scratch on word ids (a vocabulary of the 8192 most \
         frequent words seen at least twice in the training split's sentences; sentences cut at \
         64 words; pre-norm layers with feed-forward width twice the width, learned positions, \
         masked mean pooling, linear head), the linear probe's splits; ERM and RGD only"
            .into()
    };
    part
}

/// The text suite's fine-tuned encoder: all six MiniLM layers trained with a linear head,
/// in-domain only (a step costs about 4.5 s on 2 cores).
pub(crate) fn text_finetuned(quick: bool) -> Part {
    let steps = if quick { 2 } else { 40 };
    let base = base_config(&format!(
        r#"
[data]
source = "sentiment-wordpiece"
standardize = false
[model]
kind = "bert"
# Its records ran on burn-nn's encoder layers, before the fused MiniLM.
kernels = "burn"
[optim]
name = "adamw"
lr = 5e-5
weight_decay = 0.01
schedule = "cosine"
warmup_steps = 4
[train]
batch_size = 32
steps = {steps}
eval_every = {steps}
"#
    ));
    let overrides: &[&str] = if quick { &["data.max_train=64"] } else { &[] };
    let data = vec![spec("bert-sentiment-in-domain", overrides)];
    let notes = if quick {
        "quick mode: 64 training sentences".into()
    } else {
        format!(
            "all-MiniLM-L6-v2 fine-tuned end to end (embeddings and all 6 layers, a linear \
             head on the masked mean of the last layer's outputs, WordPiece tokens from its \
             tokenizer.json, each batch padded to its longest sentence and masked), the \
             linear probe's in-domain split; {steps} steps are 0.6 epoch of the 2100 \
             training sentences, evaluated once at the end. Sized for 2 cores, where a step \
             takes about 4.5 s and an evaluation of the 900 validation and test sentences \
             about 45 s: the 13 runs take about 45 minutes"
        )
    };
    Part {
        title: "Fine-tuning the pretrained encoder",
        slug: "finetuned",
        methods: vec!["erm", "rgd", "term", "focal"],
        lrs: vec![5e-5],
        grids: vec![Grid::tau(&TAUS[2..4])],
        seeds: if quick { 2 } else { 3 },
        ..Part::new(quick, base, data, notes)
    }
}

/// The fine-tuned encoder trained for 3 epochs of the in-domain training split (the first
/// fine-tuning part's 40 steps are 0.6 epoch), evaluated after each: ERM against RGD.
pub(crate) fn text_finetuned_epochs() -> Part {
    let mut part = text_finetuned(false);
    part.title = "Fine-tuning the pretrained encoder for 3 epochs";
    part.slug = "finetuned-epochs";
    let train = &mut part.base.train;
    (train.steps, train.epochs, train.eval_every) = (0, 3, 0);
    part.data[0].label = "bert-sentiment-in-domain-3-epochs".into();
    part.methods = vec!["erm", "rgd"];
    part.seeds = 5;
    part.notes = "the in-domain fine-tuning recipe (all 6 layers, AdamW lr 5e-5, cosine \
                  schedule with 4 warm-up steps, batch 32) trained for 3 epochs of the 2100 \
                  training sentences (195 steps of 32, the usual length of BERT fine-tuning) and \
                  evaluated after each, against the first fine-tuning part's 0.6 epoch: does \
                  RGD differ once the encoder has been fine-tuned to convergence? ERM and RGD \
                  only, tau in {1, 3} on seed 0, then 5 seeds: a run takes about 11-12 minutes \
                  on an AMD Zen 4 here"
        .into();
    part
}

/// The fine-tuned encoder with each domain held out: ERM against RGD at the tau selected
/// in-domain (a run costs about 4 minutes on 2 cores, so the grid and the peers stay in-domain).
pub(crate) fn text_finetuned_lodo() -> Part {
    let mut part = text_finetuned(false);
    part.title = "Fine-tuning the pretrained encoder, each domain held out";
    part.slug = "finetuned-lodo";
    // The linear probe's held-out domains.
    part.data = text(false).data.split_off(1);
    for data in &mut part.data {
        data.label = format!("bert-{}", data.label);
    }
    part.families = vec!["bert-sentiment_"];
    part.methods = vec!["erm", "rgd"];
    part.grids = vec![Grid::tau(&TAUS[3..4])];
    part.notes = "the in-domain fine-tuning recipe on the linear probe's leave-one-domain-out \
                  splits: the held-out domain's 1000 sentences are the test set, the other two \
                  domains split 80/20 into 1600 training and 400 validation sentences (40 steps \
                  are 0.8 epoch). ERM and RGD only, RGD at tau 3, the value selected in-domain \
                  (no grid: a run takes 3.5-4.5 minutes here, the 18 runs about 70 minutes)"
        .into();
    part
}
