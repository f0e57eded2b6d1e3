//! Config parsing, overrides and validation: each invalid input is rejected with its message.

use rgd_lab::config::{
    AdamConfig, ConfigFile, LabelNoise, LossConfig, MlpConfig, ModelConfig, NoiseRate, Optimizer,
    RunConfig, Schedule, Selection, SgdConfig,
};

fn with(overrides: &[&str]) -> Result<RunConfig, rgd_lab::LabError> {
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    RunConfig::default().with_overrides(&overrides)
}

#[test]
fn defaults_are_pytorch_s_and_round_trip_through_toml() {
    let config = RunConfig::default();
    assert_eq!(
        config.optim.algorithm,
        Optimizer::Adamw(AdamConfig::default())
    );
    assert_eq!(AdamConfig::default().eps, 1e-8);
    assert_eq!(config.optim.weight_decay, 0.01);
    assert_eq!(config.train.selection, Selection::BestValid);
    assert_eq!(RunConfig::from_toml(&config.to_toml()).unwrap(), config);
    // Keys added later are written only when set, so older run folders' configs stay equal.
    for key in ["eval_epochs", "eval_train", "devices"] {
        assert!(!config.to_toml().contains(key), "{key}");
    }
    let set = with(&["train.eval_epochs=[1, 3, 10]", "train.eval_train=true"]).unwrap();
    assert_eq!(set.train.eval_epochs, [1, 3, 10]);
    assert_eq!(RunConfig::from_toml(&set.to_toml()).unwrap(), set);
}

#[test]
fn overrides_set_nested_keys_and_switch_variants() {
    let config = with(&[
        "optim.name=sgd",
        "optim.momentum=0.9",
        "model.hidden=[32, 16]",
        "method.rule.name=term",
        "method.rule.tilt=-2",
        "data.source=keel/letter",
    ])
    .unwrap();
    assert_eq!(
        config.optim.algorithm,
        Optimizer::Sgd(SgdConfig {
            momentum: 0.9,
            nesterov: false
        })
    );
    let ModelConfig::Mlp(mlp) = &config.model else {
        panic!("{:?}", config.model)
    };
    assert_eq!(mlp.hidden, vec![32, 16]);
    assert_eq!(config.data.source, "keel/letter");
    assert_eq!(
        config.method.rule,
        rgd::RuleConfig::Term(rgd::TermConfig::new(-2.0))
    );
    // A variant named alone gets its defaults; keys both variants have keep their values.
    let cnn = with(&["model.dropout=0.25", "model.kind=cnn"]).unwrap();
    let ModelConfig::Cnn(c) = &cnn.model else {
        panic!("{:?}", cnn.model)
    };
    assert_eq!((c.channels.clone(), c.head.dropout), (vec![32, 64], 0.25));
    let cvar = with(&["method.rule.name=cvar"]).unwrap();
    assert_eq!(
        cvar.method.rule,
        rgd::RuleConfig::Cvar(rgd::CvarConfig::new(0.5))
    );
    assert_eq!(
        with(&["method.rule=term"]).unwrap().method.rule,
        rgd::RuleConfig::Term(rgd::TermConfig::new(1.0))
    );
    assert_eq!(
        with(&["optim.schedule=constant"]).unwrap().optim.schedule,
        Schedule::Constant
    );
}

#[test]
fn keys_users_already_type_keep_working() {
    // The README's label-noise example, in either order, and the focal gamma.
    for overrides in [
        ["data.label_noise=symmetric", "data.noise_rate=0.4"],
        ["data.noise_rate=0.4", "data.label_noise=symmetric"],
    ] {
        let noisy = with(&overrides).unwrap_or_else(|e| panic!("{overrides:?}: {e}"));
        assert_eq!(
            noisy.data.label_noise,
            LabelNoise::Symmetric(NoiseRate { rate: 0.4 })
        );
    }
    let focal = with(&["method.loss=focal", "method.focal_gamma=3"]).unwrap();
    assert!(matches!(focal.method.loss, LossConfig::Focal(f) if f.gamma == 3.0));
    let smooth = with(&["method.label_smoothing=0.1"]).unwrap();
    assert!(matches!(smooth.method.loss, LossConfig::CrossEntropy(c) if c.label_smoothing == 0.1));
    let step = with(&["optim.schedule=step", "optim.step_every=50"]).unwrap();
    assert!(matches!(step.optim.schedule, Schedule::Step(s) if s.every == 50 && s.gamma == 0.1));
}

#[test]
fn a_config_of_the_flat_layout_reads_as_the_typed_one() {
    // What config.toml of a run held before typed configs: every key of every variant.
    let flat = r#"
seed = 4
[data]
source = "fashion-mnist"
label_noise = "symmetric"
noise_rate = 0.4
[model]
kind = "vit"
hidden = []
dropout = 0.0
norm = "none"
channels = [32, 64]
patch = 7
width = 128
depth = 4
heads = 4
freeze_layers = 0
[optim]
name = "adamw"
lr = 0.003
momentum = 0.0
nesterov = false
weight_decay = 0.01
beta1 = 0.9
beta2 = 0.999
eps = 0.00000001
schedule = "cosine"
warmup_steps = 20
min_lr_factor = 0.0
step_every = 1000
step_gamma = 0.1
clip_grad_norm = 0.0
[method]
loss = "cross_entropy"
focal_gamma = 2.0
label_smoothing = 0.0
[method.rule]
name = "rgd"
tau = 3.0
[train]
selection = "last"
"#;
    let config = RunConfig::from_toml(flat).unwrap();
    let expected = with(&[
        "seed=4",
        "data.source=fashion-mnist",
        "data.label_noise=symmetric",
        "data.noise_rate=0.4",
        "model.kind=vit",
        "optim.lr=0.003",
        "optim.warmup_steps=20",
        "method.rule.tau=3",
        "train.selection=last",
    ])
    .unwrap();
    assert_eq!(config, expected);
    assert_eq!(RunConfig::from_toml(&config.to_toml()).unwrap(), config);
}

#[test]
fn invalid_configs_are_rejected_with_their_message() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["optim.learning_rate=1"],
            "unknown key `optim.learning_rate`; the keys of `optim` are: ",
        ),
        (
            &["optim.lr"],
            "override `optim.lr` must have the form key=value",
        ),
        (&["optim.lr=0"], "optim.lr = 0 must be a finite number > 0"),
        (
            &["optim.lr=fast"],
            "optim.lr: expected a number, found \"fast\"",
        ),
        (
            &["method.rule.tau=abc"],
            "method.rule.tau: expected a number, found \"abc\"",
        ),
        (&["optim.name=lbfgs"], "optim.name: unknown variant `lbfgs`"),
        (&["model.kind=rnn"], "model.kind: unknown variant `rnn`"),
        (&["model.norm=bach"], "model.norm: unknown variant `bach`"),
        (
            &["train.selection=first"],
            "train.selection: unknown variant `first`",
        ),
        (&["train.batch_size=-1"], "train.batch_size: "),
        (
            &["train.eval_epochs=[3, 1]"],
            "train.eval_epochs = [3, 1] must be increasing epoch counts > 0",
        ),
        (
            &["train.eval_epochs=[0, 1]"],
            "train.eval_epochs = [0, 1] must be increasing epoch counts > 0",
        ),
        (
            &["train.eval_epochs=[1, 3]", "train.eval_every=5"],
            "train.eval_epochs and train.eval_every both set the evaluations: set one of them",
        ),
        (
            &["model.dropout=1.5"],
            "model.dropout = 1.5 must lie in [0, 1)",
        ),
        (
            &["optim.name=sgd", "optim.nesterov=true"],
            "optim.nesterov needs optim.momentum > 0",
        ),
        (
            &["optim.momentum=0.9"],
            "unknown key `optim.momentum`; the keys of `optim` are: ",
        ),
        (
            &["model.channels=[8]"],
            "unknown key `model.channels`; the keys of `model` are: ",
        ),
        (&["train.batch_size=0"], "train.batch_size must be > 0"),
        (
            &["data.valid_fraction=0.6", "data.test_fraction=0.5"],
            "data.valid_fraction = 0.6 and data.test_fraction = 0.5 must be > 0 with a sum below 1",
        ),
        (
            &["method.rule.tau=-1"],
            "invalid RGD config: tau = -1 is out of range; tau must be a finite number > 0 (try 1.0)",
        ),
        (&["method.rule.taux=3"], "unknown key `method.rule.taux`"),
        (
            &["method.rule.name=erm", "method.rule.tau=3"],
            "unknown key `method.rule.tau`",
        ),
        (
            &["method.loss=hinge"],
            "method.loss.name: unknown variant `hinge`",
        ),
        (
            &["data.noise_rate=0.3"],
            "unknown key `data.label_noise.rate`; the keys of `data.label_noise` are: kind",
        ),
        (
            &["data.label_noise=symmetric", "data.noise_rate=1.5"],
            "data.label_noise.rate = 1.5 must lie in [0, 1]",
        ),
    ];
    for (overrides, message) in cases {
        let err = with(overrides).unwrap_err();
        assert!(
            err.to_string().contains(message),
            "{overrides:?}: `{err}` does not contain `{message}`"
        );
    }
}

#[test]
fn unknown_keys_and_bad_values_in_a_file_are_named() {
    let cases = [
        (
            "[optim]\nlearning_rate = 0.1\n",
            "unknown key `optim.learning_rate`; the keys of `optim` are: ",
        ),
        (
            "[model]\nkind = \"mlp\"\nchannels = [8]\n",
            "unknown key `model.channels`",
        ),
        (
            "[method.rule]\nname = \"rgd\"\ntau = \"x\"\n",
            "method.rule.tau: expected a number, found \"x\"",
        ),
        (
            "[model]\nnorm = \"bach\"\n",
            "model.norm: unknown variant `bach`",
        ),
        (
            "seeds = 3\n",
            "unknown key `seeds`; the keys at the top level are: ",
        ),
    ];
    for (text, message) in cases {
        let err = RunConfig::from_toml(text).unwrap_err().to_string();
        assert!(err.contains(message), "{text:?}: `{err}` lacks `{message}`");
    }
    // A model table without its kind is the default kind's.
    let mlp = RunConfig::from_toml("[model]\nhidden = [8]\n").unwrap();
    assert_eq!(
        mlp.model,
        ModelConfig::Mlp(MlpConfig {
            hidden: vec![8],
            ..MlpConfig::default()
        })
    );
    let err = RunConfig::from_toml("[optim\n").unwrap_err();
    assert!(
        err.to_string().starts_with("invalid configuration: "),
        "{err}"
    );
}
