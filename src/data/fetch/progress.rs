//! Download progress on stderr: an indicatif bar on a terminal, plain lines
//! otherwise (logs and CI output stay readable), or nothing.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// Bytes between two plain progress lines when the total is unknown.
const PLAIN_STEP_UNKNOWN: u64 = 16 * 1024 * 1024;

/// Reports the progress of one download.
pub struct Progress {
    mode: Mode,
    total: Option<u64>,
    done: u64,
    next_line_at: u64,
}

enum Mode {
    Silent,
    Bar(ProgressBar),
    Lines { label: String },
}

impl Progress {
    /// A reporter for a download labelled `label` of `total` bytes (if known).
    /// `enabled` false makes it silent.
    pub fn new(enabled: bool, label: &str, total: Option<u64>) -> Self {
        let mode = if !enabled {
            Mode::Silent
        } else if std::io::stderr().is_terminal() {
            let bar = match total {
                Some(n) => ProgressBar::new(n),
                None => ProgressBar::no_length(),
            };
            let template = if total.is_some() {
                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}"
            } else {
                "{msg} {spinner} {bytes} {bytes_per_sec}"
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message(label.to_string());
            Mode::Bar(bar)
        } else {
            eprintln!("downloading {label}");
            Mode::Lines {
                label: label.to_string(),
            }
        };
        Progress {
            mode,
            total,
            done: 0,
            next_line_at: step(total),
        }
    }

    /// Records `n` more bytes received.
    pub fn advance(&mut self, n: u64) {
        self.done += n;
        match &self.mode {
            Mode::Silent => {}
            Mode::Bar(bar) => bar.set_position(self.done),
            Mode::Lines { label } => {
                if self.done >= self.next_line_at {
                    match self.total {
                        Some(t) if t > 0 => eprintln!(
                            "{label}: {} of {} bytes ({}%)",
                            self.done,
                            t,
                            self.done.saturating_mul(100) / t
                        ),
                        _ => eprintln!("{label}: {} bytes", self.done),
                    }
                    self.next_line_at = self.done + step(self.total);
                }
            }
        }
    }

    /// Ends the report with a final message (e.g. "verified" or the error).
    pub fn finish(&mut self, message: &str) {
        match &self.mode {
            Mode::Silent => {}
            Mode::Bar(bar) => bar.finish_with_message(message.to_string()),
            Mode::Lines { label } => eprintln!("{label}: {message}"),
        }
    }
}

/// Bytes between plain lines: every 10% of a known total.
fn step(total: Option<u64>) -> u64 {
    match total {
        Some(t) if t >= 10 => t / 10,
        Some(_) => 1,
        None => PLAIN_STEP_UNKNOWN,
    }
}
