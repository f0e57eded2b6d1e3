//! Invalid configurations and batches: each rejected with its exact message.

use rgd::{
    AbsgdConfig, ChiSquareConfig, CvarConfig, GroupDroConfig, RgdConfig, RgdError, Rule,
    RuleConfig, TermConfig, reweight_dyn,
};

#[test]
fn invalid_configurations_name_field_value_and_range() {
    let cases: Vec<(RuleConfig, &str)> = vec![
        (
            RuleConfig::Rgd(RgdConfig::new().with_tau(0.0)),
            "invalid RGD config: tau = 0 is out of range; tau must be a finite number > 0 (try 1.0)",
        ),
        (
            RuleConfig::Rgd(RgdConfig::new().with_tau(-1.0)),
            "invalid RGD config: tau = -1 is out of range; tau must be a finite number > 0 (try 1.0)",
        ),
        (
            RuleConfig::Rgd(RgdConfig::new().with_tau(f64::NAN)),
            "invalid RGD config: tau = NaN is out of range; tau must be a finite number > 0 (try 1.0)",
        ),
        (
            RuleConfig::Rgd(RgdConfig::new().with_tau(f64::INFINITY)),
            "invalid RGD config: tau = inf is out of range; tau must be a finite number > 0 (try 1.0)",
        ),
        (
            RuleConfig::Term(TermConfig::new(f64::NAN)),
            "invalid TERM config: tilt = NaN is out of range; tilt must be a finite number \
             (positive: focus on hard examples, negative: suppress outliers)",
        ),
        (
            RuleConfig::Absgd(AbsgdConfig::new(0.0)),
            "invalid ABSGD config: lambda = 0 is out of range; lambda must be a finite, non-zero \
             number (positive: focus on hard examples, negative: suppress outliers)",
        ),
        (
            RuleConfig::Absgd(AbsgdConfig::new(1.0).with_gamma(0.0)),
            "invalid ABSGD config: gamma = 0 is out of range; gamma must lie in (0, 1] (try 0.9)",
        ),
        (
            RuleConfig::Absgd(AbsgdConfig::new(1.0).with_gamma(1.5)),
            "invalid ABSGD config: gamma = 1.5 is out of range; gamma must lie in (0, 1] (try 0.9)",
        ),
        (
            RuleConfig::Cvar(CvarConfig::new(0.0)),
            "invalid CVaR config: alpha = 0 is out of range; alpha must lie in (0, 1] (the \
             fraction of each batch kept; try 0.5)",
        ),
        (
            RuleConfig::Cvar(CvarConfig::new(1.2)),
            "invalid CVaR config: alpha = 1.2 is out of range; alpha must lie in (0, 1] (the \
             fraction of each batch kept; try 0.5)",
        ),
        (
            RuleConfig::ChiSquare(ChiSquareConfig::new(-0.5)),
            "invalid chi-square config: rho = -0.5 is out of range; rho must be a finite number \
             > 0 (the radius of the chi-square ball; try 1.0)",
        ),
        (
            RuleConfig::GroupDro(GroupDroConfig::new(0, 0.1)),
            "invalid Group DRO config: n_groups = 0 is out of range; n_groups must be at least 1 \
             (the number of distinct group ids)",
        ),
        (
            RuleConfig::GroupDro(GroupDroConfig::new(2, f64::NEG_INFINITY)),
            "invalid Group DRO config: eta = -inf is out of range; eta must be a finite number > \
             0 (the group-weight step size; try 0.01)",
        ),
    ];
    for (config, message) in cases {
        let err = config.init().err().expect("config must be rejected");
        assert!(matches!(err, RgdError::InvalidConfig { .. }));
        assert_eq!(err.to_string(), message);
    }
}

#[test]
fn every_rule_rejects_empty_and_non_finite_batches() {
    let configs = [
        RuleConfig::Erm,
        RuleConfig::Rgd(RgdConfig::new()),
        RuleConfig::Term(TermConfig::new(1.0)),
        RuleConfig::Absgd(AbsgdConfig::new(1.0)),
        RuleConfig::Cvar(CvarConfig::new(0.5)),
        RuleConfig::ChiSquare(ChiSquareConfig::new(1.0)),
        RuleConfig::GroupDro(GroupDroConfig::new(2, 0.1)),
    ];
    for config in configs {
        let mut rule = config.init().unwrap();
        let groups = [0, 1];
        let g = config.needs_groups().then_some(&groups[..]);
        assert_eq!(
            reweight_dyn(rule.as_mut(), &[] as &[f32], g.map(|g| &g[..0])).unwrap_err(),
            RgdError::EmptyBatch
        );
        let err = reweight_dyn(rule.as_mut(), &[0.5, f64::NAN], g).unwrap_err();
        assert!(
            matches!(err, RgdError::NonFiniteLoss { index: 1, .. }),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            "loss 1 of the batch is NaN: per-example losses must be finite (check the model \
             output and the learning rate)"
        );
        let err = reweight_dyn(rule.as_mut(), &[f32::INFINITY, 0.5], g).unwrap_err();
        assert!(
            matches!(err, RgdError::NonFiniteLoss { index: 0, .. }),
            "{err}"
        );
    }
}

#[test]
fn group_errors_are_reported() {
    let mut rule = GroupDroConfig::new(2, 0.1).init().unwrap();
    assert_eq!(
        rule.reweight(&[1.0_f64]).unwrap_err().to_string(),
        "Group DRO needs a group id for every example; pass them with `reweight_grouped`"
    );
    assert_eq!(
        rule.reweight_grouped(&[1.0_f64, 2.0], &[0])
            .unwrap_err()
            .to_string(),
        "1 group ids for 2 losses: give exactly one group id per example"
    );
    assert_eq!(
        rule.reweight_grouped(&[1.0_f64, 2.0], &[0, 2])
            .unwrap_err()
            .to_string(),
        "group id 2 of example 1 is out of range: the rule was configured with 2 groups (ids 0..2)"
    );
    // A rejected batch leaves the state untouched.
    assert_eq!(rule.state().steps, 0);
}

#[test]
fn rule_state_round_trips_and_rejects_foreign_state() {
    let mut dro = GroupDroConfig::new(3, 0.5).init().unwrap();
    dro.reweight_grouped(&[1.0_f64, 2.0, 3.0], &[0, 1, 2])
        .unwrap();
    let saved = dro.state();
    let mut fresh = GroupDroConfig::new(3, 0.5).init().unwrap();
    fresh.load_state(&saved).unwrap();
    let a = dro.reweight_grouped(&[0.5_f64, 0.1], &[1, 2]).unwrap();
    let b = fresh.reweight_grouped(&[0.5_f64, 0.1], &[1, 2]).unwrap();
    assert_eq!(a, b);
    let mut rgd = RgdConfig::new().init().unwrap();
    let err = rgd.load_state(&saved).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cannot restore RGD state: expected no values")
    );
    let mut absgd = AbsgdConfig::new(1.0).init().unwrap();
    assert!(absgd.load_state(&saved).is_err());
}
