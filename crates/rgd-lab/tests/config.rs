//! Config parsing, overrides and validation: each invalid input is rejected with its message.

use rgd_lab::config::RunConfig;

#[test]
fn defaults_are_pytorch_s_and_round_trip_through_toml() {
    let config = RunConfig::default();
    assert_eq!(config.optim.eps, 1e-8);
    assert_eq!(config.optim.weight_decay, 0.01);
    assert_eq!(config.optim.momentum, 0.0);
    assert_eq!(config.train.selection, "best_valid");
    assert_eq!(RunConfig::from_toml(&config.to_toml()).unwrap(), config);
}

#[test]
fn overrides_set_nested_keys_and_switch_rules() {
    let config = RunConfig::default()
        .with_overrides(&[
            "optim.name=sgd".into(),
            "optim.momentum=0.9".into(),
            "model.hidden=[32, 16]".into(),
            "method.rule.name=term".into(),
            "method.rule.tilt=-2".into(),
            "data.source=keel/letter".into(),
        ])
        .unwrap();
    assert_eq!(config.optim.name, "sgd");
    assert_eq!(config.model.hidden, vec![32, 16]);
    assert_eq!(config.data.source, "keel/letter");
    assert_eq!(
        config.method.rule,
        rgd::RuleConfig::Term(rgd::TermConfig::new(-2.0))
    );
}

#[test]
fn invalid_configs_are_rejected_with_their_message() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["optim.learning_rate=1"],
            "unknown key `optim.learning_rate`; valid keys are: ",
        ),
        (
            &["optim.lr"],
            "override `optim.lr` must have the form key=value",
        ),
        (&["optim.lr=0"], "optim.lr = 0 must be a finite number > 0"),
        (
            &["optim.name=lbfgs"],
            "optim.name = \"lbfgs\" is not one of sgd, adam, adamw",
        ),
        (
            &["model.kind=rnn"],
            "model.kind = \"rnn\" is not one of mlp, cnn",
        ),
        (
            &["model.dropout=1.5"],
            "model.dropout = 1.5 must lie in [0, 1)",
        ),
        (
            &["optim.nesterov=true"],
            "optim.nesterov needs optim.momentum > 0",
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
        (&["method.rule.name=term"], "missing field `tilt`"),
        (&["method.rule.taux=3"], "unknown field `taux`"),
        (
            &["method.loss=hinge"],
            "method.loss = \"hinge\" is not one of cross_entropy, focal",
        ),
    ];
    for (overrides, message) in cases {
        let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
        let err = RunConfig::default().with_overrides(&overrides).unwrap_err();
        assert!(
            err.to_string().contains(message),
            "{overrides:?}: `{err}` does not contain `{message}`"
        );
    }
}

#[test]
fn unknown_keys_in_a_file_are_rejected() {
    let err = RunConfig::from_toml("[optim]\nlearning_rate = 0.1\n").unwrap_err();
    assert!(
        err.to_string().contains("unknown field `learning_rate`"),
        "{err}"
    );
    let err = RunConfig::from_toml("[optim\n").unwrap_err();
    assert!(
        err.to_string().starts_with("invalid configuration: "),
        "{err}"
    );
}
