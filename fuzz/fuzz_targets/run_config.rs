//! The run and meta configs: TOML text, then `--set` overrides (one per line after a NUL byte).
//! Any input must give a config that validates again after a TOML round trip, or an error.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rgd_lab::config::{ConfigFile, RunConfig};
use rgd_lab::meta::config::MetaConfig;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (toml, overrides) = text.split_once('\0').unwrap_or((text, ""));
    let overrides: Vec<String> = overrides.lines().map(String::from).collect();
    if let Ok(config) = RunConfig::from_toml(toml).and_then(|c| c.with_overrides(&overrides)) {
        let again = toml::to_string(&config).expect("a valid config serialises");
        let back = RunConfig::from_toml(&again).expect("a valid config reads back");
        assert_eq!(back, config, "the config changed in a TOML round trip");
    }
    if let Ok(config) = MetaConfig::from_toml(toml).and_then(|c| c.with_overrides(&overrides)) {
        let again = toml::to_string(&config).expect("a valid meta config serialises");
        let back = MetaConfig::from_toml(&again).expect("a valid meta config reads back");
        assert_eq!(back, config, "the meta config changed in a TOML round trip");
    }
});
