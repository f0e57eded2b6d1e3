//! Progress on long work: a bar on a terminal, plain lines otherwise, nothing with `--quiet`.

use std::io::IsTerminal;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

/// How much the lab prints while it works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verbosity {
    /// Progress bars (terminal) or plain progress lines (pipes, logs).
    #[default]
    Normal,
    /// Nothing but errors and the final result.
    Quiet,
}

/// Progress of one run's steps.
pub struct Progress {
    bar: Option<ProgressBar>,
    plain: bool,
    label: String,
    total: u64,
    next_line: u64,
    started: Instant,
    start_step: u64,
}

impl Progress {
    /// Starts reporting `total` steps, `done` of them already done (a resumed run).
    pub fn new(label: &str, done: u64, total: u64, verbosity: Verbosity) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let bar = (verbosity == Verbosity::Normal && terminal).then(|| {
            let bar = ProgressBar::new(total).with_position(done);
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix:>24} [{bar:30}] {pos}/{len} {per_sec} eta {eta} {msg}",
                )
                .expect("the template is valid")
                .progress_chars("=> "),
            );
            bar.set_prefix(label.to_string());
            bar
        });
        Progress {
            bar,
            plain: verbosity == Verbosity::Normal && !terminal,
            label: label.to_string(),
            total,
            next_line: done + total / 4,
            started: Instant::now(),
            start_step: done,
        }
    }

    /// Reports that `step` steps are done, with a short status message.
    pub fn update(&mut self, step: u64, message: impl FnOnce() -> String) {
        if let Some(bar) = &self.bar {
            bar.set_position(step);
            if step.is_multiple_of(10) || step == self.total {
                bar.set_message(message());
            }
        } else if self.plain && (step >= self.next_line || step == self.total) {
            self.next_line = step + (self.total / 4).max(1);
            let rate =
                (step - self.start_step) as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
            eprintln!(
                "{}: step {step}/{} ({rate:.1} steps/s) {}",
                self.label,
                self.total,
                message()
            );
        }
    }

    /// Ends the report.
    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}
