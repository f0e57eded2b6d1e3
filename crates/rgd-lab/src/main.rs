//! The `rgd` binary: see `rgd --help` (its exit statuses are listed there).

use clap::Parser;
use rgd_lab::LabError;

// burn's CPU backend allocates large temporaries every op; glibc malloc unmaps and page-faults
// them back each time (2x slower MLP steps measured on 2 cores), mimalloc keeps them.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    rgd_lab::interrupt::die_on_closed_stdout();
    let cli = rgd_lab::cli::Cli::parse();
    // A panic is a bug: report it as one error line with exit 70, not a backtrace and 101.
    std::panic::set_hook(Box::new(|info| {
        let message = info.payload_as_str().unwrap_or("a panic");
        let at = info
            .location()
            .map_or(String::new(), |l| format!(" at {}:{}", l.file(), l.line()));
        eprintln!("error: {}", LabError::Internal(format!("{message}{at}")));
    }));
    let result = rgd_lab::interrupt::install().and_then(|()| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cli.run()))
            .unwrap_or_else(|_| Err(LabError::Internal("see the message above".into())))
    });
    if let Err(err) = result {
        if !matches!(err, LabError::Internal(_)) {
            eprintln!("error: {err}");
        }
        std::process::exit(err.exit_code());
    }
}
