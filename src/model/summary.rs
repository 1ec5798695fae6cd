//! Keras-style `model.summary()`.

use super::LayerInfo;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Per-layer rows and parameter totals, as Keras's `model.summary()` prints them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// One row per layer.
    pub layers: Vec<LayerInfo>,
    /// All parameters.
    pub total_params: usize,
    /// Parameters the optimizer updates.
    pub trainable_params: usize,
    /// Parameters of `trainable: false` layers.
    pub non_trainable_params: usize,
    /// Size of all parameters as `f32`, in bytes.
    pub size_bytes: usize,
}

impl Summary {
    /// Totals over the given layer rows.
    pub fn from_infos(infos: &[LayerInfo]) -> Summary {
        let total: usize = infos.iter().map(|i| i.params).sum();
        let trainable: usize = infos.iter().filter(|i| i.trainable).map(|i| i.params).sum();
        Summary {
            layers: infos.to_vec(),
            total_params: total,
            trainable_params: trainable,
            non_trainable_params: total - trainable,
            size_bytes: total * 4,
        }
    }
}

/// `163201` → `163,201`, as Keras prints counts.
pub(crate) fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `652804` bytes → `637.50 KB`, Keras's unit style (1 KB = 1024 bytes).
pub(crate) fn human_bytes(bytes: usize) -> String {
    let b = bytes as f64;
    if b < 1024.0 {
        format!("{bytes} B")
    } else if b < 1024.0 * 1024.0 {
        format!("{:.2} KB", b / 1024.0)
    } else if b < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2} MB", b / (1024.0 * 1024.0))
    } else {
        format!("{:.2} GB", b / (1024.0 * 1024.0 * 1024.0))
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let rows: Vec<[String; 3]> = self
            .layers
            .iter()
            .map(|l| {
                [
                    format!("{} ({})", l.name, keras_class(&l.kind)),
                    l.output_shape.clone(),
                    thousands(l.params),
                ]
            })
            .collect();
        let head = ["Layer (type)", "Output Shape", "Param #"];
        let w: Vec<usize> = (0..3)
            .map(|c| {
                rows.iter()
                    .map(|r| r[c].len())
                    .chain([head[c].len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |f: &mut fmt::Formatter, r: &[&str; 3]| {
            writeln!(
                f,
                "{:<a$}  {:<b$}  {:>c$}",
                r[0],
                r[1],
                r[2],
                a = w[0],
                b = w[1],
                c = w[2]
            )
        };
        let rule = "─".repeat(w[0] + w[1] + w[2] + 4);
        writeln!(f, "{rule}")?;
        line(f, &head)?;
        writeln!(f, "{rule}")?;
        for r in &rows {
            line(f, &[r[0].as_str(), r[1].as_str(), r[2].as_str()])?;
        }
        writeln!(f, "{rule}")?;
        let total = |n: usize| format!("{} ({})", thousands(n), human_bytes(n * 4));
        writeln!(f, " Total params: {}", total(self.total_params))?;
        writeln!(f, " Trainable params: {}", total(self.trainable_params))?;
        write!(
            f,
            " Non-trainable params: {}",
            total(self.non_trainable_params)
        )
    }
}

/// The Keras class name of a spec layer type, for the summary's type column.
fn keras_class(kind: &str) -> &'static str {
    match kind {
        "embedding" => "Embedding",
        "flatten" => "Flatten",
        "dense" => "Dense",
        "dropout" => "Dropout",
        "global_average_pooling1d" => "GlobalAveragePooling1D",
        "global_max_pooling1d" => "GlobalMaxPooling1D",
        _ => "Layer",
    }
}
