//! A test hook for the chaos test: `RGD_CRASH_AT_WRITE=N` aborts the process at the `N`-th
//! write point of this process (1-based), as a kill would: half-way through a file's bytes,
//! between the renames of a checkpoint swap, or mid-row in an append-only log. Without the
//! variable every write point is a no-op.

use std::io::Write;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counts a write point; `true` when the process must crash at it.
fn due() -> bool {
    static WRITES: AtomicU64 = AtomicU64::new(0);
    static TARGET: OnceLock<Option<u64>> = OnceLock::new();
    let target = *TARGET.get_or_init(|| std::env::var("RGD_CRASH_AT_WRITE").ok()?.parse().ok());
    target.is_some_and(|n| WRITES.fetch_add(1, Ordering::SeqCst) + 1 == n)
}

/// A write point between two steps of a multi-step update.
pub fn point() {
    if due() {
        std::process::abort();
    }
}

/// Writes `bytes` to `out`; at the crash point, writes only their first half, then aborts.
pub fn write_all(out: &mut impl Write, bytes: &[u8]) -> std::io::Result<()> {
    if due() {
        let _ = out.write_all(&bytes[..bytes.len() / 2]);
        let _ = out.flush();
        std::process::abort();
    }
    out.write_all(bytes)
}

/// A writer whose every write is a crash point (for logs written through a buffer).
#[derive(Debug)]
pub struct Writer<W>(pub W);

impl<W: Write> Write for Writer<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        write_all(&mut self.0, buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}
