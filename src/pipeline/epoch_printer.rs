//! Keras-like epoch lines on stderr while a model trains.

use crate::train::{self, EpochRecord};

/// Prints one Keras-like line per epoch on stderr, with a progress bar within
/// the epoch when stderr is a terminal (none in CI logs).
pub struct EpochPrinter {
    epochs: usize,
    quiet: bool,
    prefix: String,
    bar: Option<indicatif::ProgressBar>,
}

impl EpochPrinter {
    /// A printer for `epochs` epochs; `prefix` names the experiment when
    /// several run at once.
    pub fn new(epochs: usize, quiet: bool, prefix: Option<&str>) -> Self {
        EpochPrinter {
            epochs,
            quiet,
            prefix: prefix.map(|p| format!("[{p}] ")).unwrap_or_default(),
            bar: None,
        }
    }
}

impl train::TrainObserver for EpochPrinter {
    fn on_batch(&mut self, epoch: usize, batch: usize, n_batches: usize, loss: f64) {
        use std::io::IsTerminal;
        if self.quiet || !std::io::stderr().is_terminal() {
            return;
        }
        let bar = self.bar.get_or_insert_with(|| {
            let bar = indicatif::ProgressBar::new(n_batches as u64);
            if let Ok(style) =
                indicatif::ProgressStyle::with_template("{prefix}{pos:>5}/{len} [{bar:30}] {msg}")
            {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        });
        bar.set_prefix(format!("{}Epoch {epoch}/{} ", self.prefix, self.epochs));
        bar.set_position(batch as u64);
        bar.set_message(format!("loss: {loss:.4}"));
    }

    fn on_epoch(&mut self, r: &EpochRecord) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        if self.quiet {
            return;
        }
        let mut line = format!(
            "{}Epoch {}/{} - {:.1}s - loss: {:.4}",
            self.prefix, r.epoch, self.epochs, r.seconds, r.loss
        );
        line.push_str(&format!(" - accuracy: {:.4}", r.accuracy));
        if let Some(v) = r.val_loss {
            line.push_str(&format!(" - val_loss: {v:.4}"));
        }
        if let Some(v) = r.val_accuracy {
            line.push_str(&format!(" - val_accuracy: {v:.4}"));
        }
        eprintln!("{line}");
    }
}
