//! A small inline-SVG line chart for overlaid learning curves (no scripts,
//! no fonts fetched; all text escaped).

use super::html_escape;
use std::fmt::Write;

/// Line colours, cycled by series index (Okabe–Ito, readable by colour-blind readers).
pub(crate) const PALETTE: &[&str] = &[
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000",
];

/// One line: a label (shown in point tooltips) and its (x, y) points.
pub(crate) struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

const W: f64 = 640.0;
const H: f64 = 300.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 44.0;

/// An SVG chart with one polyline per series (colour `PALETTE[i % len]`).
/// Non-finite points are skipped; a chart without points says so.
pub(crate) fn line_chart(title: &str, x_label: &str, y_label: &str, series: &[Series]) -> String {
    let pts: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|s| s.points.iter().copied())
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="{t}"><text x="{cx}" y="18" text-anchor="middle" font-size="14" font-weight="bold">{t}</text>"#,
        t = html_escape(title),
        cx = W / 2.0
    );
    if pts.is_empty() {
        let _ = write!(
            svg,
            r##"<text x="{}" y="{}" text-anchor="middle" font-size="12" fill="#666">no data</text></svg>"##,
            W / 2.0,
            H / 2.0
        );
        return svg;
    }
    let (x_ticks, x_step) = ticks(
        pts.iter().map(|p| p.0).fold(f64::INFINITY, f64::min),
        pts.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max),
    );
    let (y_ticks, y_step) = ticks(
        pts.iter().map(|p| p.1).fold(f64::INFINITY, f64::min),
        pts.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max),
    );
    let (x0, x1) = (x_ticks[0], x_ticks[x_ticks.len() - 1]);
    let (y0, y1) = (y_ticks[0], y_ticks[y_ticks.len() - 1]);
    let sx = |x: f64| LEFT + (x - x0) / (x1 - x0) * (W - LEFT - RIGHT);
    let sy = |y: f64| H - BOTTOM - (y - y0) / (y1 - y0) * (H - TOP - BOTTOM);

    // Grid, ticks and axis labels.
    for &t in &y_ticks {
        let y = sy(t);
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end" font-size="11">{}</text>"##,
            W - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            tick_label(t, y_step)
        );
    }
    for &t in &x_ticks {
        let x = sx(t);
        let _ = write!(
            svg,
            r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#999"/><text x="{x:.1}" y="{:.1}" text-anchor="middle" font-size="11">{}</text>"##,
            H - BOTTOM,
            H - BOTTOM + 4.0,
            H - BOTTOM + 17.0,
            tick_label(t, x_step)
        );
    }
    let _ = write!(
        svg,
        r##"<line x1="{LEFT}" y1="{b:.1}" x2="{r:.1}" y2="{b:.1}" stroke="#333"/><line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{b:.1}" stroke="#333"/><text x="{cx:.1}" y="{xl:.1}" text-anchor="middle" font-size="12">{xlab}</text><text x="14" y="{cy:.1}" text-anchor="middle" font-size="12" transform="rotate(-90 14 {cy:.1})">{ylab}</text>"##,
        b = H - BOTTOM,
        r = W - RIGHT,
        cx = (LEFT + W - RIGHT) / 2.0,
        xl = H - 8.0,
        cy = (TOP + H - BOTTOM) / 2.0,
        xlab = html_escape(x_label),
        ylab = html_escape(y_label),
    );

    for (i, s) in series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let good: Vec<(f64, f64)> = s
            .points
            .iter()
            .copied()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .collect();
        let coords: Vec<String> = good
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", sx(x), sy(y)))
            .collect();
        if coords.len() > 1 {
            let _ = write!(
                svg,
                r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#,
                coords.join(" ")
            );
        }
        for &(x, y) in &good {
            let _ = write!(
                svg,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{color}"><title>{}: {} {x}, {y:.4}</title></circle>"#,
                sx(x),
                sy(y),
                html_escape(&s.label),
                html_escape(x_label),
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// "Nice" ticks (steps of 1, 2 or 5 × 10^k) covering `[lo, hi]`, and the step.
fn ticks(lo: f64, hi: f64) -> (Vec<f64>, f64) {
    let (lo, hi) = if hi - lo < 1e-12 {
        (lo - 0.5, hi + 0.5)
    } else {
        (lo, hi)
    };
    let raw = (hi - lo) / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).floor();
    let last = (hi / step).ceil();
    let n = (last - first) as usize;
    ((0..=n).map(|i| (first + i as f64) * step).collect(), step)
}

fn tick_label(v: f64, step: f64) -> String {
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    let s = format!("{v:.decimals$}");
    // Avoid "-0" and "-0.00" for values that round to zero.
    if s.trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        s.trim_start_matches('-').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ticks() {
        let (t, s) = ticks(0.52, 0.87);
        assert_eq!(s, 0.1);
        assert_eq!(t.len(), 5); // 0.5 .. 0.9
        assert!((t[0] - 0.5).abs() < 1e-12 && (t[4] - 0.9).abs() < 1e-12);
        let (t, s) = ticks(1.0, 10.0);
        assert_eq!(s, 2.0);
        assert_eq!(t, vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(tick_label(0.30000000000000004, 0.1), "0.3");
        assert_eq!(tick_label(-0.0, 0.1), "0.0");
    }

    #[test]
    fn chart_escapes_and_draws_each_series() {
        let s = vec![
            Series {
                label: "a<b>".into(),
                points: vec![(1.0, 0.5), (2.0, 0.7)],
            },
            Series {
                label: "c".into(),
                points: vec![(1.0, 0.6), (2.0, f64::NAN), (3.0, 0.8)],
            },
        ];
        let svg = line_chart("val & acc", "epoch", "accuracy", &s);
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(svg.matches("<circle").count(), 4);
        assert!(svg.contains("val &amp; acc") && svg.contains("a&lt;b&gt;"));
        assert!(!svg.contains("a<b>"));
        assert!(line_chart("t", "x", "y", &[]).contains("no data"));
    }
}
