//! `rgd bench speed` as a stand-alone example, for timing and profiling:
//!
//! ```text
//! cargo run -p rgd-lab --example bench_speed -- --models mlp --threads 2 --json
//! ```

use clap::Parser;
use rgd_lab::bench::{SpeedArgs, speed_on};
use rgd_lab::device::DeviceChoice;

// As in the `rgd` binary: with glibc malloc, burn's CPU backend page-faults its large
// temporaries back every op.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Times training steps of the lab's models, ERM and RGD interleaved.
#[derive(Parser)]
struct Args {
    #[command(flatten)]
    args: SpeedArgs,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

fn main() {
    rgd_lab::interrupt::die_on_closed_stdout();
    let a = Args::parse();
    if let Err(err) = speed_on(&a.args, a.json, DeviceChoice::Flex) {
        eprintln!("error: {err}");
        std::process::exit(1);
    }
}
