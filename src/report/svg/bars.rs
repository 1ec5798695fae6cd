//! Histograms and grouped bar charts.

use std::fmt::Write as _;

use super::*;

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
    let names: Vec<&str> = series.iter().map(|s| s.name.as_str()).collect();
    let layout = legend_layout(&names, 66.0, w - 12.0);
    let extra = legend_rows(&layout).saturating_sub(1) as f64 * LEGEND_ROW;
    let h = 270.0 + bottom + if series.len() > 1 { extra } else { 0.0 };
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
    let top = if series.len() > 1 { 56.0 + extra } else { 40.0 };
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
        legend(&mut out, &layout, 40.0, false);
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
        x_axis_label(&mut out, x, f.top + f.plot_h() + 16.0, rotate, cat, 20);
    }
    out.push_str("</svg>");
    out
}
