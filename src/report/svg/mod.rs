//! Inline SVG charts: line chart, heatmap, histogram and grouped bar chart.
//!
//! Every function returns a complete standalone `<svg>` document (with the SVG
//! namespace, so it can also be saved as a `.svg` file) whose text is
//! XML-escaped. The charts use a fixed `viewBox` and scale down to the page
//! width, so they fit an A4 page when printed. No scripts, fonts or images.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::format::{fixed, thousands};

mod bars;
mod heatmap;
mod line;
#[cfg(test)]
mod tests;

pub use bars::{bar_chart, histogram};
pub use heatmap::{heatmap, heatmap_with_axes};
pub use line::{line_chart, line_chart_with, LineOptions, Marker};

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
    /// Lower end (its log10 on a log axis).
    lo: f64,
    /// Upper end (its log10 on a log axis).
    hi: f64,
    /// Tick values (the values themselves, also on a log axis).
    ticks: Vec<f64>,
    decimals: usize,
    /// Logarithmic axis: positions are log10 of the values.
    log: bool,
}

/// A base-10 log axis covering the positive values `[lo, hi]`: one tick per
/// power of ten (every other one when they are many), so values that differ
/// a thousandfold are all readable.
fn log_scale(lo: f64, hi: f64) -> Scale {
    let (lo, hi) = if lo > 0.0 && hi >= lo && hi.is_finite() {
        (lo, hi)
    } else {
        (0.1, 1.0)
    };
    let k_lo = (lo.log10() + 1e-9).floor();
    let mut k_hi = (hi.log10() - 1e-9).ceil();
    if k_hi <= k_lo {
        k_hi = k_lo + 1.0;
    }
    let step = if k_hi - k_lo > 8.0 { 2.0 } else { 1.0 };
    let mut ticks = Vec::new();
    let mut k = k_lo;
    while k <= k_hi + 1e-9 {
        ticks.push(10f64.powi(k as i32));
        k += step;
    }
    Scale {
        lo: k_lo,
        hi: k_hi,
        ticks,
        decimals: 0,
        log: true,
    }
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
        log: false,
    }
}

impl Scale {
    /// Where `v` lies between the ends, 0 at `lo` and 1 at `hi`.
    fn fraction(&self, v: f64) -> f64 {
        let t = if self.log { v.log10() } else { v };
        (t - self.lo) / (self.hi - self.lo)
    }
}

/// Formats a tick of `s`: powers of ten in plain decimals where short
/// (`0.001`, `100`), else as `1e-6`.
fn scale_tick_label(v: f64, s: &Scale) -> String {
    if !s.log {
        return tick_label(v, s.decimals);
    }
    let k = v.log10().round() as i32;
    match k {
        0..=6 => thousands(10u64.pow(k as u32)),
        -4..=-1 => fixed(v, (-k) as usize),
        _ => format!("1e{k}"),
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
        self.left + s.fraction(v) * self.plot_w()
    }
    fn y(&self, v: f64, s: &Scale) -> f64 {
        self.top + self.plot_h() - s.fraction(v) * self.plot_h()
    }
}

/// Opens the `<svg>` element with its title (accessible name) and heading.
/// One category label under an x axis, centred on `x` (or rotated by 40°
/// when the labels would collide), cut to `max` characters with the full
/// text as its tooltip.
fn x_axis_label(out: &mut String, x: f64, y: f64, rotate: bool, label: &str, max: usize) {
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
        escape_xml(&short(label, max)),
    );
}

fn open(out: &mut String, w: f64, h: f64, title: &str) {
    let t = escape_xml(title);
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 {w} {h}\" \
         width=\"{w}\" height=\"{h}\" style=\"--w:{w}px\" role=\"img\" aria-label=\"{t}\" \
         font-family=\"{FONT}\" font-size=\"12\" fill=\"{INK}\">",
        w = n(w),
        h = n(h),
    );
    let _ = write!(out, "<title>{t}</title>");
    let _ = write!(
        out,
        "<rect class=\"bg\" x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#fff\"/>",
        n(w),
        n(h)
    );
    let _ = write!(
        out,
        "<text x=\"12\" y=\"20\" font-size=\"14\" font-weight=\"600\">{t}</text>"
    );
}

/// Height of one legend row.
const LEGEND_ROW: f64 = 18.0;

/// Where each legend entry goes: `(x, row, label)`. Entries flow left to
/// right from `x0` and wrap to a new row before passing `max_x`, so every
/// entry stays inside the chart; a label too long for a whole row is cut.
fn legend_layout(names: &[&str], x0: f64, max_x: f64) -> Vec<(f64, usize, String)> {
    let fit_chars = (((max_x - x0 - 23.0) / CHAR_W).floor() as usize).max(4);
    let mut out = Vec::new();
    let (mut cx, mut row) = (x0, 0);
    for name in names {
        let label = short(name, fit_chars);
        let width = 23.0 + label.chars().count() as f64 * CHAR_W;
        if cx > x0 && cx + width > max_x {
            cx = x0;
            row += 1;
        }
        out.push((cx, row, label));
        cx += width + 16.0;
    }
    out
}

/// The number of rows [`legend_layout`] needs.
fn legend_rows(layout: &[(f64, usize, String)]) -> usize {
    layout.last().map_or(0, |(_, row, _)| row + 1)
}

/// Draws a legend laid out by [`legend_layout`], its first row's text
/// baseline at `y`. Each entry is a `<g class="legend-entry">`.
fn legend(out: &mut String, layout: &[(f64, usize, String)], y: f64, line: bool) {
    for (i, (cx, row, label)) in layout.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let y = y + *row as f64 * LEGEND_ROW;
        out.push_str("<g class=\"legend-entry\">");
        if line {
            let dash = if i % 2 == 1 {
                " stroke-dasharray=\"6 3\""
            } else {
                ""
            };
            let _ = write!(
                out,
                "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{color}\" stroke-width=\"2.5\"{dash}/>",
                n(*cx),
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
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\">{}</text></g>",
            n(cx + 23.0),
            n(y),
            escape_xml(label)
        );
    }
}

/// Draws the y grid and tick labels plus the axis titles.
fn axes(out: &mut String, f: &Frame, xs: Option<&Scale>, ys: &Scale, x_label: &str, y_label: &str) {
    for &t in &ys.ticks {
        let y = f.y(t, ys);
        let _ = write!(
            out,
            "<line x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"{GRID}\" class=\"grid\"/>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"{MUTED}\" class=\"muted\">{}</text>",
            n(f.left),
            n(f.left + f.plot_w()),
            n(f.left - 6.0),
            n(y + 4.0),
            escape_xml(&scale_tick_label(t, ys)),
            y = n(y),
        );
    }
    if let Some(xs) = xs {
        for &t in &xs.ticks {
            let x = f.x(t, xs);
            let base = f.top + f.plot_h();
            let _ = write!(
                out,
                "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"{MUTED}\" class=\"axis\"/>\
                 <text x=\"{x}\" y=\"{}\" text-anchor=\"middle\" fill=\"{MUTED}\" class=\"muted\">{}</text>",
                n(base),
                n(base + 4.0),
                n(base + 17.0),
                escape_xml(&scale_tick_label(t, xs)),
                x = n(x),
            );
        }
    }
    // Axis lines on the left and at the bottom.
    let _ = write!(
        out,
        "<path class=\"axis\" d=\"M{} {}V{}H{}\" fill=\"none\" stroke=\"{MUTED}\"/>",
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
