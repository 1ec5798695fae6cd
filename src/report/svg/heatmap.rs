//! The confusion-matrix heatmap.

use std::fmt::Write as _;

use super::*;

/// A heatmap of counts, for a confusion matrix: rows are true classes and
/// columns predicted classes (axis titles "True label" / "Predicted label").
/// Cells show the count and are shaded by the row-normalised fraction, so a
/// small class's errors are as visible as a large class's.
pub fn heatmap(
    row_labels: &[String],
    col_labels: &[String],
    counts: &[Vec<u64>],
    title: &str,
) -> String {
    heatmap_with_axes(
        row_labels,
        col_labels,
        counts,
        title,
        "True label",
        "Predicted label",
    )
}

/// Interpolates the shading from near-white to a calm dark blue.
pub(super) fn blues(frac: f64) -> String {
    let f = frac.clamp(0.0, 1.0);
    let (a, b) = ((247.0, 251.0, 255.0), (8.0, 69.0, 148.0));
    let c = |x: f64, y: f64| (x + (y - x) * f).round() as u8;
    format!("#{:02x}{:02x}{:02x}", c(a.0, b.0), c(a.1, b.1), c(a.2, b.2))
}

/// [`heatmap`] with custom axis titles. Missing cells (ragged rows) count as 0.
pub fn heatmap_with_axes(
    row_labels: &[String],
    col_labels: &[String],
    counts: &[Vec<u64>],
    title: &str,
    row_axis: &str,
    col_axis: &str,
) -> String {
    let rows = row_labels.len().max(counts.len());
    let cols = col_labels
        .len()
        .max(counts.iter().map(Vec::len).max().unwrap_or(0));
    let label_chars = row_labels
        .iter()
        .map(|l| short(l, 22).chars().count())
        .max()
        .unwrap_or(1);
    let cell = (440.0 / rows.max(cols).max(1) as f64).clamp(18.0, 72.0);
    let col_label_chars = col_labels
        .iter()
        .map(|l| short(l, 22).chars().count())
        .max()
        .unwrap_or(1);
    let rotate = col_label_chars as f64 * CHAR_W > cell - 4.0;
    let left = 40.0 + label_chars as f64 * CHAR_W + 10.0;
    let top = 44.0;
    let bottom = if rotate {
        40.0 + col_label_chars as f64 * CHAR_W * 0.72
    } else {
        54.0
    };
    let w = (left + cols as f64 * cell + 24.0).max(300.0);
    let h = top + rows as f64 * cell + bottom;
    let mut out = String::new();
    open(&mut out, w, h, title);
    if rows == 0 || cols == 0 {
        no_data(&mut out, w, h);
        return out;
    }
    let font = (cell * 0.26).clamp(9.0, 14.0);
    for r in 0..rows {
        let row = counts.get(r);
        let total: u64 = row.map(|v| v.iter().sum()).unwrap_or(0);
        for c in 0..cols {
            let v = row.and_then(|row| row.get(c)).copied().unwrap_or(0);
            let frac = if total > 0 {
                v as f64 / total as f64
            } else {
                0.0
            };
            let (x, y) = (left + c as f64 * cell, top + r as f64 * cell);
            let text_color = if frac > 0.5 { "#fff" } else { INK };
            let rl = row_labels.get(r).map(String::as_str).unwrap_or("");
            let cl = col_labels.get(c).map(String::as_str).unwrap_or("");
            let _ = write!(
                out,
                "<g><title>{}: {} → {}: {} ({} of row)</title>\
                 <rect x=\"{}\" y=\"{}\" width=\"{c_}\" height=\"{c_}\" fill=\"{}\" stroke=\"#fff\"/>",
                escape_xml(row_axis),
                escape_xml(rl),
                escape_xml(cl),
                thousands(v),
                crate::report::format::percent(frac),
                n(x),
                n(y),
                blues(frac),
                c_ = n(cell),
            );
            let count_y = if cell >= 44.0 {
                y + cell / 2.0
            } else {
                y + cell / 2.0 + font * 0.35
            };
            let _ = write!(
                out,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"{}\" font-weight=\"600\" fill=\"{text_color}\">{}</text>",
                n(x + cell / 2.0),
                n(count_y),
                n(font),
                thousands(v),
            );
            if cell >= 44.0 {
                let _ = write!(
                    out,
                    "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"{}\" fill=\"{text_color}\">{}</text>",
                    n(x + cell / 2.0),
                    n(y + cell / 2.0 + font * 1.1),
                    n(font * 0.75),
                    crate::report::format::percent(frac),
                );
            }
            out.push_str("</g>");
        }
    }
    for (r, label) in row_labels.iter().enumerate() {
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\"><title>{}</title>{}</text>",
            n(left - 6.0),
            n(top + r as f64 * cell + cell / 2.0 + 4.0),
            escape_xml(label),
            escape_xml(&short(label, 22)),
        );
    }
    let base = top + rows as f64 * cell;
    for (c, label) in col_labels.iter().enumerate() {
        let x = left + c as f64 * cell + cell / 2.0;
        x_axis_label(&mut out, x, base + 16.0, rotate, label, 22);
    }
    let _ = write!(
        out,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-weight=\"600\">{}</text>",
        n(left + cols as f64 * cell / 2.0),
        n(h - 10.0),
        escape_xml(col_axis)
    );
    let cy = top + rows as f64 * cell / 2.0;
    let _ = write!(
        out,
        "<text x=\"16\" y=\"{cy}\" text-anchor=\"middle\" font-weight=\"600\" transform=\"rotate(-90 16 {cy})\">{}</text>",
        escape_xml(row_axis),
        cy = n(cy),
    );
    out.push_str("</svg>");
    out
}
