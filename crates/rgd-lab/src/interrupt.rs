//! Stopping cleanly: SIGINT (Ctrl-C) and SIGTERM ask the engine to finish its step, write a
//! checkpoint and exit 130 or 143 ([`crate::LabError::Interrupted`]), which a launcher reads as
//! "interrupted, resume later". A second signal while the first is being handled ends the
//! process at once with the same status (the last checkpoint is then the resume point). A closed
//! standard output ends the process by SIGPIPE: [`die_on_closed_stdout`].

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use signal_hook::consts::{SIGINT, SIGTERM};

use crate::LabError;

/// Set by the first signal: which one.
static REQUESTED: OnceLock<Arc<AtomicUsize>> = OnceLock::new();

/// Installs the handlers (once per process; later calls do nothing).
pub fn install() -> Result<(), LabError> {
    if REQUESTED.get().is_some() {
        return Ok(());
    }
    let which = Arc::new(AtomicUsize::new(0));
    let stopping = Arc::new(AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM] {
        let failed =
            |e: std::io::Error| LabError::Device(format!("cannot handle signal {signal}: {e}"));
        // Registered first, so it sees the flag as the previous signal left it.
        signal_hook::flag::register_conditional_shutdown(
            signal,
            128 + signal,
            Arc::clone(&stopping),
        )
        .map_err(failed)?;
        signal_hook::flag::register(signal, Arc::clone(&stopping)).map_err(failed)?;
        signal_hook::flag::register_usize(signal, Arc::clone(&which), signal as usize)
            .map_err(failed)?;
    }
    let _ = REQUESTED.set(which);
    Ok(())
}

/// Restores SIGPIPE's default action, which Rust's runtime sets to "ignore" before `main`: a
/// write to a pipe whose reader has gone then ends the process by the signal, silently, rather
/// than failing with EPIPE and making `println!` panic (exit 70; `rgd bench speed | head -1`
/// even ended in an abort, 134). Call it first thing in `main`; checkpoints are written
/// atomically, so a run killed this way resumes from its last one like any other.
pub fn die_on_closed_stdout() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to SIG_DFL installs no handler code, and no other
    // thread exists yet to race with it (this runs at the top of `main`).
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// The signal that asked to stop, if one has.
pub fn requested() -> Option<i32> {
    let signal = REQUESTED.get()?.load(Ordering::SeqCst);
    (signal != 0).then_some(signal as i32)
}

/// The signal's name for messages.
pub fn name(signal: i32) -> &'static str {
    match signal {
        SIGINT => "SIGINT",
        SIGTERM => "SIGTERM",
        _ => "a signal",
    }
}
