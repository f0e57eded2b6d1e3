//! The `rgd` binary: see `rgd --help`.

use clap::Parser;

// burn's CPU backend allocates large temporaries every op; glibc malloc unmaps and page-faults
// them back each time (2x slower MLP steps measured on 2 cores), mimalloc keeps them.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = rgd_lab::cli::Cli::parse();
    if let Err(err) = cli.run() {
        eprintln!("error: {err}");
        std::process::exit(err.exit_code());
    }
}
