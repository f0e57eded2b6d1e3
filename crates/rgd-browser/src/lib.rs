//! Browser tests of `rgd report` (in `tests/`): no library code. Run them after the main build
//! with `cargo test --manifest-path crates/rgd-browser/Cargo.toml`; they need Debian's
//! `chromium` and `chromium-driver`, and skip with the reason without them unless
//! `RGD_REQUIRE_BROWSER=1`.
