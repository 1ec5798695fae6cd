//! Line charts: training curves, gradient norms (on a log axis), ROC and
//! precision-recall curves.

use std::fmt::Write as _;

use super::*;

/// A dashed vertical line marking one x value, e.g. the epoch whose weights
/// early stopping restored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Marker {
    /// Where the line goes on the x axis.
    pub x: f64,
    /// Short text drawn next to the line, e.g. `epoch 13 restored`.
    pub label: String,
}

/// Options of [`line_chart_with`]; the default is a plain linear chart.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LineOptions {
    /// Draw the y axis on a base-10 log scale; points with `y <= 0` are
    /// skipped (and break the line), since they have no logarithm.
    pub log_y: bool,
    /// Both axes span exactly `[0, 1]` (ROC, precision-recall, calibration).
    pub unit_square: bool,
    /// Draw the `y = x` reference line (chance level of ROC, perfect
    /// calibration).
    pub diagonal: bool,
    /// Mark an x value with a dashed vertical line.
    pub marker: Option<Marker>,
}

/// A line chart of one or more series sharing both axes, with a legend.
///
/// Whole-number x values (such as epochs) get whole-number ticks. Points
/// with a non-finite coordinate are skipped and break the line.
pub fn line_chart(title: &str, x_label: &str, y_label: &str, series: &[Series]) -> String {
    line_chart_with(title, x_label, y_label, series, &LineOptions::default())
}

/// Whole-number ticks for an integer axis (epochs): steps of 1, 2, 5, 10,
/// 20, … so at most about 12 ticks, always on values that exist.
fn integer_scale(x0: f64, x1: f64) -> Scale {
    let span = (x1 - x0).max(0.0);
    let mut step = 1.0;
    let mut k = 0;
    while span / step > 12.0 {
        step = [2.0, 5.0, 10.0][k % 3] * 10f64.powi((k / 3) as i32);
        k += 1;
    }
    let mut ticks: Vec<f64> = Vec::new();
    let mut t = (x0 / step).ceil() * step;
    while t <= x1 + 1e-9 {
        ticks.push(t);
        t += step;
    }
    if ticks.first().is_none_or(|&f| f - x0 >= step / 2.0) {
        ticks.insert(0, x0);
    }
    let pad = if x1 > x0 {
        (span * 0.03).max(0.25)
    } else {
        1.0
    };
    Scale {
        lo: x0 - pad,
        hi: x1 + pad,
        ticks,
        decimals: 0,
        log: false,
    }
}

/// A line chart with [`LineOptions`]: log y axis, unit square, reference
/// diagonal, marked x value.
pub fn line_chart_with(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    opts: &LineOptions,
) -> String {
    // Narrow enough that two charts side by side keep readable text.
    let w = 480.0;
    let usable = |&(x, y): &(f64, f64)| x.is_finite() && y.is_finite() && (!opts.log_y || y > 0.0);
    let names: Vec<&str> = series.iter().map(|s| s.name.as_str()).collect();
    let layout = legend_layout(&names, 60.0, w - 12.0);
    let extra = legend_rows(&layout).saturating_sub(1) as f64 * LEGEND_ROW;
    let h = 300.0 + extra;
    let mut out = String::new();
    open(&mut out, w, h, title);
    let finite: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|s| s.points.iter().copied())
        .filter(usable)
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
    let (xs, ys) = if opts.unit_square {
        (nice_scale(0.0, 1.0, 5), nice_scale(0.0, 1.0, 5))
    } else {
        let xs = if integer_x {
            integer_scale(x0, x1)
        } else {
            nice_scale(x0, x1, 8)
        };
        let ys = if opts.log_y {
            log_scale(y0, y1)
        } else {
            nice_scale(y0, y1, 5)
        };
        (xs, ys)
    };
    let f = Frame {
        w,
        h,
        left: 60.0,
        right: 16.0,
        top: 54.0 + extra,
        bottom: 46.0,
    };
    axes(&mut out, &f, Some(&xs), &ys, x_label, y_label);
    legend(&mut out, &layout, 40.0, true);
    if opts.diagonal {
        let _ = write!(
            out,
            "<line class=\"axis\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{MUTED}\" stroke-dasharray=\"3 4\"/>",
            n(f.x(0.0, &xs)),
            n(f.y(0.0, &ys)),
            n(f.x(1.0, &xs)),
            n(f.y(1.0, &ys))
        );
    }
    if let Some(m) = opts.marker.as_ref().filter(|m| m.x.is_finite()) {
        let x = f.x(m.x, &xs);
        let anchor = if x > f.left + f.plot_w() * 0.6 {
            ("end", x - 4.0)
        } else {
            ("start", x + 4.0)
        };
        let _ = write!(
            out,
            "<g class=\"marker\"><line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"{MUTED}\" stroke-dasharray=\"4 3\"/>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"{}\" fill=\"{MUTED}\" class=\"muted\">{}</text></g>",
            n(f.top),
            n(f.top + f.plot_h()),
            n(anchor.1),
            n(f.top + 12.0),
            anchor.0,
            escape_xml(&m.label),
            x = n(x),
        );
    }
    for (i, s) in series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let mut segments: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        for p in &s.points {
            if usable(p) {
                if let Some(seg) = segments.last_mut() {
                    seg.push((f.x(p.0, &xs), f.y(p.1, &ys)));
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
            for &(x, y) in s.points.iter().filter(|p| usable(p)) {
                let _ = write!(
                    out,
                    "<circle cx=\"{}\" cy=\"{}\" r=\"3\" fill=\"{color}\"><title>{}: ({}, {})</title></circle>",
                    n(f.x(x, &xs)),
                    n(f.y(y, &ys)),
                    escape_xml(&s.name),
                    escape_xml(&fixed(x, if x.fract() == 0.0 { 0 } else { 4 })),
                    escape_xml(&super::super::format::significant(y, 4)),
                );
            }
        }
    }
    out.push_str("</svg>");
    out
}
