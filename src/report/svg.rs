//! Inline SVG charts: line chart, heatmap, histogram and grouped bar chart.
//!
//! Every function returns a complete standalone `<svg>` document (with the SVG
//! namespace, so it can also be saved as a `.svg` file) whose text is
//! XML-escaped. The charts use a fixed `viewBox` and scale down to the page
//! width, so they fit an A4 page when printed. No scripts, fonts or images.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::format::{fixed, thousands};

/// One named line of a line chart.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// Legend name.
    pub name: String,
    /// `(x, y)` points in drawing order; non-finite points break the line.
    pub points: Vec<(f64, f64)>,
}

/// One named group member of a grouped bar chart (one value per category).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BarSeries {
    /// Legend name.
    pub name: String,
    /// One value per category; missing trailing values are drawn as 0.
    pub values: Vec<f64>,
}

/// One histogram bin covering `[lo, hi)` (the last bin includes `hi`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HistBin {
    /// Lower edge.
    pub lo: f64,
    /// Upper edge.
    pub hi: f64,
    /// Number of values in the bin.
    pub count: u64,
}

/// Colour-blind-safe series colours (Okabe–Ito), calm enough for print.
pub const PALETTE: [&str; 7] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#7F7F7F",
];

/// Font stack used inside the charts; only locally installed fonts.
const FONT: &str =
    "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";
/// Rough width of one character at 12px, used to lay out labels.
const CHAR_W: f64 = 6.8;
const INK: &str = "#222";
const MUTED: &str = "#555";
const GRID: &str = "#e3e3e3";

/// Escapes text for XML element content and attribute values.
pub fn escape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters other than tab / newline are invalid in XML 1.0.
            c if (c as u32) < 0x20 && c != '\t' && c != '\n' && c != '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Splits `values` into `bins` equal-width bins from the smallest to the
/// largest finite value. Non-finite values are ignored; an empty input
/// gives no bins. When all values are integers and span fewer than `bins`
/// integers, the bins are one integer wide so none is empty by construction.
pub fn histogram_bins(values: &[f64], bins: usize) -> Vec<HistBin> {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() || bins == 0 {
        return Vec::new();
    }
    let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let integers = finite.iter().all(|v| v.fract() == 0.0);
    let (lo, width, n) = if integers && hi - lo + 1.0 <= bins as f64 {
        (lo, 1.0, (hi - lo) as usize + 1)
    } else if hi > lo {
        (lo, (hi - lo) / bins as f64, bins)
    } else {
        (lo - 0.5, 1.0, 1)
    };
    let mut out: Vec<HistBin> = (0..n)
        .map(|i| HistBin {
            lo: lo + i as f64 * width,
            hi: lo + (i + 1) as f64 * width,
            count: 0,
        })
        .collect();
    for v in finite {
        let i = (((v - lo) / width).floor() as usize).min(n - 1);
        out[i].count += 1;
    }
    out
}

/// A rounded axis: its range and tick positions.
#[derive(Debug, Clone, PartialEq)]
struct Scale {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
    decimals: usize,
}

/// Chooses about `target` "nice" ticks (steps of 1, 2 or 5 × 10^k) covering
/// `[lo, hi]`.
fn nice_scale(lo: f64, hi: f64, target: usize) -> Scale {
    let (mut lo, mut hi) = if lo.is_finite() && hi.is_finite() && lo <= hi {
        (lo, hi)
    } else {
        (0.0, 1.0)
    };
    if hi - lo < 1e-12 {
        let pad = if lo.abs() > 0.0 { lo.abs() * 0.1 } else { 1.0 };
        lo -= pad;
        hi += pad;
    }
    let raw = (hi - lo) / target.max(1) as f64;
    let exp = raw.log10().floor() as i32;
    let norm = raw / 10f64.powi(exp);
    let nice = if norm < 1.5 {
        1.0
    } else if norm < 3.0 {
        2.0
    } else if norm < 7.0 {
        5.0
    } else {
        10.0
    };
    // k·step computed as (k·nice)/10^-exp: dividing by an exact power of ten
    // gives the closest float (0.6, not 0.6000000000000001).
    let at = |k: f64| -> f64 {
        let t = if exp < 0 {
            k * nice / 10f64.powi(-exp)
        } else {
            k * nice * 10f64.powi(exp)
        };
        if t == 0.0 {
            0.0
        } else {
            t
        }
    };
    let step = at(1.0);
    // The tolerance points inwards so float noise never adds a whole step.
    let k_lo = (lo / step + 1e-9).floor();
    let k_hi = (hi / step - 1e-9).ceil();
    let (lo_t, hi_t) = (at(k_lo), at(k_hi));
    let ticks = (0..=(k_hi - k_lo).round() as i64)
        .map(|i| at(k_lo + i as f64))
        .collect();
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10() - 1e-9).ceil().max(0.0) as usize
    };
    Scale {
        lo: lo_t,
        hi: hi_t,
        ticks,
        decimals,
    }
}

/// Formats a tick value: thousands separators for whole numbers.
fn tick_label(v: f64, decimals: usize) -> String {
    if decimals == 0 && v.abs() < 1e15 {
        let n = v.round() as i64;
        super::format::thousands_i64(n)
    } else {
        fixed(v, decimals)
    }
}

/// Formats a bar value: whole numbers with separators, others with 1 decimal.
fn value_label(v: f64) -> String {
    value_label_as(v, v.fract() == 0.0)
}

/// Formats a bar value as a whole number or with 1 decimal, so all bars of
/// one chart read alike.
fn value_label_as(v: f64, whole: bool) -> String {
    if whole && v.abs() < 1e15 {
        super::format::thousands_i64(v as i64)
    } else {
        fixed(v, 1)
    }
}

/// Number formatting for attributes (2 decimals is sub-pixel precise).
fn n(v: f64) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// Cuts a label for drawing; the full text goes into a `<title>` tooltip.
fn short(label: &str, max: usize) -> String {
    super::format::truncate_chars(label, max)
}

/// The plotting area inside an SVG of size `w × h`.
struct Frame {
    w: f64,
    h: f64,
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
}

impl Frame {
    fn plot_w(&self) -> f64 {
        self.w - self.left - self.right
    }
    fn plot_h(&self) -> f64 {
        self.h - self.top - self.bottom
    }
    fn x(&self, v: f64, s: &Scale) -> f64 {
        self.left + (v - s.lo) / (s.hi - s.lo) * self.plot_w()
    }
    fn y(&self, v: f64, s: &Scale) -> f64 {
        self.top + self.plot_h() - (v - s.lo) / (s.hi - s.lo) * self.plot_h()
    }
}

/// Opens the `<svg>` element with its title (accessible name) and heading.
fn open(out: &mut String, w: f64, h: f64, title: &str) {
    let t = escape_xml(title);
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 {w} {h}\" \
         width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"{t}\" \
         font-family=\"{FONT}\" font-size=\"12\" fill=\"{INK}\">",
        w = n(w),
        h = n(h),
    );
    let _ = write!(out, "<title>{t}</title>");
    let _ = write!(
        out,
        "<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#fff\"/>",
        n(w),
        n(h)
    );
    let _ = write!(
        out,
        "<text x=\"12\" y=\"20\" font-size=\"14\" font-weight=\"600\">{t}</text>"
    );
}

/// Draws a horizontal legend starting at `(x, y)`.
fn legend(out: &mut String, x: f64, y: f64, names: &[&str], line: bool) {
    let mut cx = x;
    for (i, name) in names.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        if line {
            let _ = write!(
                out,
                "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{color}\" stroke-width=\"2.5\"/>",
                n(cx),
                n(y - 4.0),
                n(cx + 18.0),
                n(y - 4.0)
            );
        } else {
            let _ = write!(
                out,
                "<rect x=\"{}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{color}\"/>",
                n(cx + 3.0),
                n(y - 10.0)
            );
        }
        let label = short(name, 28);
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\">{}</text>",
            n(cx + 23.0),
            n(y),
            escape_xml(&label)
        );
        cx += 23.0 + label.chars().count() as f64 * CHAR_W + 16.0;
    }
}

/// Draws the y grid and tick labels plus the axis titles.
fn axes(out: &mut String, f: &Frame, xs: Option<&Scale>, ys: &Scale, x_label: &str, y_label: &str) {
    for &t in &ys.ticks {
        let y = f.y(t, ys);
        let _ = write!(
            out,
            "<line x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"{GRID}\"/>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"{MUTED}\">{}</text>",
            n(f.left),
            n(f.left + f.plot_w()),
            n(f.left - 6.0),
            n(y + 4.0),
            escape_xml(&tick_label(t, ys.decimals)),
            y = n(y),
        );
    }
    if let Some(xs) = xs {
        for &t in &xs.ticks {
            let x = f.x(t, xs);
            let base = f.top + f.plot_h();
            let _ = write!(
                out,
                "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"{MUTED}\"/>\
                 <text x=\"{x}\" y=\"{}\" text-anchor=\"middle\" fill=\"{MUTED}\">{}</text>",
                n(base),
                n(base + 4.0),
                n(base + 17.0),
                escape_xml(&tick_label(t, xs.decimals)),
                x = n(x),
            );
        }
    }
    // Axis lines on the left and at the bottom.
    let _ = write!(
        out,
        "<path d=\"M{} {}V{}H{}\" fill=\"none\" stroke=\"{MUTED}\"/>",
        n(f.left),
        n(f.top),
        n(f.top + f.plot_h()),
        n(f.left + f.plot_w())
    );
    let _ = write!(
        out,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
        n(f.left + f.plot_w() / 2.0),
        n(f.h - 8.0),
        escape_xml(x_label)
    );
    let cy = f.top + f.plot_h() / 2.0;
    let _ = write!(
        out,
        "<text x=\"14\" y=\"{cy}\" text-anchor=\"middle\" transform=\"rotate(-90 14 {cy})\">{}</text>",
        escape_xml(y_label),
        cy = n(cy),
    );
}

/// Draws a "no data" placeholder in an otherwise empty chart.
fn no_data(out: &mut String, w: f64, h: f64) {
    let _ = write!(
        out,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{MUTED}\">no data</text></svg>",
        n(w / 2.0),
        n(h / 2.0)
    );
}

/// A line chart of one or more series sharing both axes, with a legend.
///
/// Whole-number x values (such as epochs) get whole-number ticks. Points
/// with a non-finite coordinate are skipped and break the line.
pub fn line_chart(title: &str, x_label: &str, y_label: &str, series: &[Series]) -> String {
    // Narrow enough that two charts side by side keep readable text.
    let (w, h) = (480.0, 300.0);
    let mut out = String::new();
    open(&mut out, w, h, title);
    let finite: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|s| s.points.iter().copied())
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    if finite.is_empty() {
        no_data(&mut out, w, h);
        return out;
    }
    let (mut x0, mut x1, mut y0, mut y1) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for &(x, y) in &finite {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    let integer_x = finite.iter().all(|(x, _)| x.fract() == 0.0);
    let xs = if integer_x && x1 - x0 <= 12.0 {
        // Epoch axes: one tick per whole number, padded so the first and
        // last points do not sit on the axis.
        let pad = if x1 > x0 { 0.25 } else { 1.0 };
        Scale {
            lo: x0 - pad,
            hi: x1 + pad,
            ticks: (x0 as i64..=x1 as i64).map(|v| v as f64).collect(),
            decimals: 0,
        }
    } else {
        let mut s = nice_scale(x0, x1, 8);
        if integer_x && s.decimals > 0 {
            s.decimals = 0;
            s.ticks.retain(|t| t.fract() == 0.0);
        }
        s
    };
    let ys = nice_scale(y0, y1, 5);
    let f = Frame {
        w,
        h,
        left: 60.0,
        right: 16.0,
        top: 54.0,
        bottom: 46.0,
    };
    axes(&mut out, &f, Some(&xs), &ys, x_label, y_label);
    let names: Vec<&str> = series.iter().map(|s| s.name.as_str()).collect();
    legend(&mut out, f.left, 40.0, &names, true);
    for (i, s) in series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let mut segments: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        for &(x, y) in &s.points {
            if x.is_finite() && y.is_finite() {
                if let Some(seg) = segments.last_mut() {
                    seg.push((f.x(x, &xs), f.y(y, &ys)));
                }
            } else if segments.last().is_some_and(|seg| !seg.is_empty()) {
                segments.push(Vec::new());
            }
        }
        let dash = if i % 2 == 1 {
            " stroke-dasharray=\"6 3\""
        } else {
            ""
        };
        for seg in segments.iter().filter(|seg| seg.len() > 1) {
            let pts: Vec<String> = seg
                .iter()
                .map(|(x, y)| format!("{},{}", n(*x), n(*y)))
                .collect();
            let _ = write!(
                out,
                "<polyline points=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"{dash}/>",
                pts.join(" ")
            );
        }
        if s.points.len() <= 60 {
            for &(x, y) in s
                .points
                .iter()
                .filter(|(x, y)| x.is_finite() && y.is_finite())
            {
                let _ = write!(
                    out,
                    "<circle cx=\"{}\" cy=\"{}\" r=\"3\" fill=\"{color}\"><title>{}: ({}, {})</title></circle>",
                    n(f.x(x, &xs)),
                    n(f.y(y, &ys)),
                    escape_xml(&s.name),
                    escape_xml(&fixed(x, if x.fract() == 0.0 { 0 } else { 4 })),
                    escape_xml(&fixed(y, 4)),
                );
            }
        }
    }
    out.push_str("</svg>");
    out
}

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
fn blues(frac: f64) -> String {
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
                super::format::percent(frac),
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
                    super::format::percent(frac),
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
        let y = base + 16.0;
        let transform = if rotate {
            format!(
                " text-anchor=\"end\" transform=\"rotate(-40 {} {})\"",
                n(x),
                n(y - 4.0)
            )
        } else {
            " text-anchor=\"middle\"".to_string()
        };
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\"{transform}><title>{}</title>{}</text>",
            n(x),
            n(y),
            escape_xml(label),
            escape_xml(&short(label, 22)),
        );
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

/// A histogram of pre-computed bins (see [`histogram_bins`]).
pub fn histogram(title: &str, x_label: &str, y_label: &str, bins: &[HistBin]) -> String {
    let (w, h) = (640.0, 300.0);
    let mut out = String::new();
    open(&mut out, w, h, title);
    let valid: Vec<&HistBin> = bins
        .iter()
        .filter(|b| b.lo.is_finite() && b.hi.is_finite() && b.hi > b.lo)
        .collect();
    if valid.is_empty() {
        no_data(&mut out, w, h);
        return out;
    }
    let x0 = valid.iter().map(|b| b.lo).fold(f64::INFINITY, f64::min);
    let x1 = valid.iter().map(|b| b.hi).fold(f64::NEG_INFINITY, f64::max);
    let max = valid.iter().map(|b| b.count).max().unwrap_or(0) as f64;
    let mut xs = nice_scale(x0, x1, 8);
    // Keep the bars flush with the axis ends instead of padding to a tick.
    xs.lo = x0;
    xs.hi = x1;
    xs.ticks.retain(|&t| t >= x0 - 1e-9 && t <= x1 + 1e-9);
    let ys = nice_scale(0.0, max.max(1.0), 5);
    let f = Frame {
        w,
        h,
        left: 66.0,
        right: 20.0,
        top: 36.0,
        bottom: 46.0,
    };
    axes(&mut out, &f, Some(&xs), &ys, x_label, y_label);
    for b in valid {
        let (xa, xb) = (f.x(b.lo, &xs), f.x(b.hi, &xs));
        let y = f.y(b.count as f64, &ys);
        let _ = write!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" stroke=\"#fff\" stroke-width=\"0.5\">\
             <title>{} – {}: {}</title></rect>",
            n(xa),
            n(y),
            n((xb - xa).max(0.5)),
            n(f.top + f.plot_h() - y),
            PALETTE[0],
            escape_xml(&value_label(b.lo)),
            escape_xml(&value_label(b.hi)),
            thousands(b.count),
        );
    }
    out.push_str("</svg>");
    out
}

/// A grouped bar chart: one group per category, one bar per series, with a
/// legend when there is more than one series. Values label the bars when
/// there are few enough bars to read them.
pub fn bar_chart(
    title: &str,
    x_label: &str,
    y_label: &str,
    categories: &[String],
    series: &[BarSeries],
) -> String {
    let w = 640.0;
    let label_chars = categories
        .iter()
        .map(|c| short(c, 20).chars().count())
        .max()
        .unwrap_or(1);
    let group_w = (w - 86.0) / categories.len().max(1) as f64;
    let rotate = label_chars as f64 * CHAR_W > group_w - 4.0;
    let bottom = if rotate {
        34.0 + label_chars as f64 * CHAR_W * 0.72
    } else {
        48.0
    };
    let h = 270.0 + bottom;
    let mut out = String::new();
    open(&mut out, w, h, title);
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    if categories.is_empty() || series.is_empty() {
        no_data(&mut out, w, h);
        return out;
    }
    let ys = nice_scale(0.0, if max > 0.0 { max } else { 1.0 }, 5);
    let top = if series.len() > 1 { 56.0 } else { 40.0 };
    let f = Frame {
        w,
        h,
        left: 66.0,
        right: 20.0,
        top,
        bottom,
    };
    axes(&mut out, &f, None, &ys, x_label, y_label);
    if series.len() > 1 {
        let names: Vec<&str> = series.iter().map(|s| s.name.as_str()).collect();
        legend(&mut out, f.left, 40.0, &names, false);
    }
    let group_w = f.plot_w() / categories.len() as f64;
    let bar_w = group_w * 0.8 / series.len() as f64;
    let show_values = categories.len() * series.len() <= 30 && bar_w >= 14.0;
    let whole = series
        .iter()
        .flat_map(|s| s.values.iter())
        .all(|v| v.fract() == 0.0);
    for (c, cat) in categories.iter().enumerate() {
        let gx = f.left + c as f64 * group_w + group_w * 0.1;
        for (s, ser) in series.iter().enumerate() {
            let v = ser
                .values
                .get(c)
                .copied()
                .filter(|v| v.is_finite())
                .unwrap_or(0.0)
                .max(0.0);
            let x = gx + s as f64 * bar_w;
            let y = f.y(v, &ys);
            let _ = write!(
                out,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{} · {}: {}</title></rect>",
                n(x + 1.0),
                n(y),
                n((bar_w - 2.0).max(1.0)),
                n(f.top + f.plot_h() - y),
                PALETTE[s % PALETTE.len()],
                escape_xml(cat),
                escape_xml(&ser.name),
                escape_xml(&value_label(v)),
            );
            if show_values {
                let _ = write!(
                    out,
                    "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"10\" fill=\"{MUTED}\">{}</text>",
                    n(x + bar_w / 2.0),
                    n(y - 3.0),
                    escape_xml(&value_label_as(v, whole)),
                );
            }
        }
        let x = f.left + c as f64 * group_w + group_w / 2.0;
        let y = f.top + f.plot_h() + 16.0;
        let transform = if rotate {
            format!(
                " text-anchor=\"end\" transform=\"rotate(-40 {} {})\"",
                n(x),
                n(y - 4.0)
            )
        } else {
            " text-anchor=\"middle\"".to_string()
        };
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\"{transform}><title>{}</title>{}</text>",
            n(x),
            n(y),
            escape_xml(cat),
            escape_xml(&short(cat, 20)),
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks that every opening tag is closed in order (self-closing tags
    /// allowed), which is enough to catch unbalanced markup in our output.
    pub(crate) fn balanced(svg: &str) -> Result<(), String> {
        let mut stack: Vec<String> = Vec::new();
        let mut rest = svg;
        while let Some(start) = rest.find('<') {
            let end = rest[start..].find('>').ok_or("unterminated tag")? + start;
            let tag = &rest[start + 1..end];
            if let Some(name) = tag.strip_prefix('/') {
                match stack.pop() {
                    Some(open) if open == name => {}
                    other => return Err(format!("</{name}> closes {other:?}")),
                }
            } else if !tag.ends_with('/') {
                let name = tag.split_whitespace().next().unwrap_or("").to_string();
                stack.push(name);
            }
            rest = &rest[end + 1..];
        }
        if stack.is_empty() {
            Ok(())
        } else {
            Err(format!("unclosed: {stack:?}"))
        }
    }

    #[test]
    fn ticks_are_nice() {
        let s = nice_scale(0.0, 1.0, 5);
        assert_eq!(s.ticks, vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        assert_eq!(s.decimals, 1);
        let s = nice_scale(0.31, 0.69, 5);
        assert_eq!((s.lo, s.hi), (0.3, 0.7));
        assert_eq!(s.decimals, 1);
        let s = nice_scale(0.0, 163201.0, 5);
        assert_eq!(s.ticks.last().copied(), Some(200000.0));
        assert_eq!(tick_label(200000.0, s.decimals), "200,000");
        // A flat series still gets a non-empty range.
        let s = nice_scale(0.5, 0.5, 5);
        assert!(s.lo < 0.5 && s.hi > 0.5);
    }

    #[test]
    fn histogram_bins_count_everything() {
        let bins = histogram_bins(&[1.0, 2.0, 2.0, 10.0], 3);
        assert_eq!(bins.len(), 3);
        assert_eq!(
            bins.iter().map(|b| b.count).collect::<Vec<_>>(),
            vec![3, 0, 1]
        );
        assert_eq!((bins[0].lo, bins[2].hi), (1.0, 10.0));
        // Small integer ranges get one bin per integer (ratings 1–10).
        let bins = histogram_bins(&[1.0, 10.0, 10.0], 20);
        assert_eq!(bins.len(), 10);
        assert_eq!(bins[9].count, 2);
        assert!(histogram_bins(&[], 10).is_empty());
    }

    #[test]
    fn text_is_escaped() {
        let evil = "<script>alert('x')</script> & \"q\"";
        let svg = line_chart(
            evil,
            evil,
            evil,
            &[Series {
                name: evil.into(),
                points: vec![(1.0, 0.5), (2.0, 0.4)],
            }],
        );
        assert!(!svg.contains("<script"));
        assert!(svg.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"));
        balanced(&svg).expect("balanced line chart");
    }

    #[test]
    fn charts_are_well_formed() {
        let labels: Vec<String> = ["neg", "neutral", "a very long class name indeed"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let counts = vec![vec![50, 3, 2], vec![4, 20, 6], vec![1, 2, 163201]];
        let hm = heatmap(&labels, &labels, &counts, "Confusion");
        balanced(&hm).expect("heatmap");
        assert!(hm.contains(">163,201<"));
        assert!(hm.contains("Predicted label") && hm.contains("True label"));
        // Row-normalised shading: the dominant cell of each row is the darkest.
        assert!(hm.contains(&blues(50.0 / 55.0)));
        let bins = histogram_bins(&[1.0, 5.0, 7.0, 200.0], 10);
        balanced(&histogram("Lengths", "words", "reviews", &bins)).expect("histogram");
        let bars = bar_chart(
            "Balance",
            "class",
            "%",
            &labels,
            &[
                BarSeries {
                    name: "train".into(),
                    values: vec![50.0, 25.0, 25.0],
                },
                BarSeries {
                    name: "test".into(),
                    values: vec![40.0, 30.0],
                },
            ],
        );
        balanced(&bars).expect("bar chart");
        for empty in [
            line_chart("t", "x", "y", &[]),
            histogram("t", "x", "y", &[]),
            bar_chart("t", "x", "y", &[], &[]),
            heatmap(&[], &[], &[], "t"),
        ] {
            balanced(&empty).expect("empty chart");
            assert!(empty.contains("no data"));
        }
    }

    #[test]
    fn labels_are_escaped_in_every_chart() {
        let evil = vec!["<script>x</script>".to_string(), "a&b".to_string()];
        let hm = heatmap(&evil, &evil, &[vec![1, 2], vec![3, 4]], "<t>");
        let bars = bar_chart(
            "t",
            "x",
            "y",
            &evil,
            &[BarSeries {
                name: "<s>".into(),
                values: vec![1.0, 2.0],
            }],
        );
        for svg in [&hm, &bars] {
            assert!(!svg.contains("<script") && !svg.contains("<s>") && !svg.contains("a&b"));
            assert!(svg.contains("&lt;script&gt;x&lt;/script&gt;") && svg.contains("a&amp;b"));
            balanced(svg).expect("balanced");
        }
    }

    #[test]
    fn line_breaks_at_non_finite_points() {
        let svg = line_chart(
            "loss",
            "epoch",
            "loss",
            &[Series {
                name: "loss".into(),
                points: vec![
                    (1.0, 1.0),
                    (2.0, 0.8),
                    (3.0, f64::NAN),
                    (4.0, 0.5),
                    (5.0, 0.4),
                ],
            }],
        );
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(svg.matches("<circle").count(), 4);
        assert!(!svg.contains("NaN\""));
    }
}
