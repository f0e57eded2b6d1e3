//! Progress on long work: a bar on a terminal, plain lines otherwise, nothing with `--quiet`.

/// How much the lab prints while it works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verbosity {
    /// Progress bars (terminal) or plain progress lines (pipes, logs).
    #[default]
    Normal,
    /// Nothing but errors and the final result.
    Quiet,
}
