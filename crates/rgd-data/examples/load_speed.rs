//! Time the loaders on real data (run in release after `scripts/fetch-data.sh keel fashion-mnist`):
//!
//! ```text
//! cargo run --release -p rgd-data --example load_speed
//! ```

use std::time::Instant;

use rgd_data::registry::{cache_dir, load_named};

fn main() {
    let cache = cache_dir();
    for name in [
        "magic",
        "keel/letter",
        "fashion-mnist",
        "fashion-mnist-test",
        "mnist",
    ] {
        // Best of 3, so that the page cache is warm for every name alike.
        let mut best = f64::INFINITY;
        let mut shape = String::new();
        for _ in 0..3 {
            let t = Instant::now();
            match load_named(name, &cache) {
                Ok(ds) => {
                    best = best.min(t.elapsed().as_secs_f64());
                    shape = format!(
                        "{} rows x {} features, {} classes",
                        ds.len(),
                        ds.n_features,
                        ds.n_classes()
                    );
                }
                Err(e) => {
                    println!("{name:<20} skipped: {e}");
                    break;
                }
            }
        }
        if best.is_finite() {
            println!("{name:<20} {:>8.1} ms  ({shape})", best * 1e3);
        }
    }
}
