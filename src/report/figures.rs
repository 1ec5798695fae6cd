//! Figures for documents: each chart of a report as a standalone SVG and a
//! PNG (rendered with `resvg`), titled with the run's name and key metrics,
//! so a student can paste the confusion matrix into an answer.
//!
//! The figures are drawn from the record embedded in the sealed report, so
//! a cached report gets the same figures as a fresh one.

use super::format::fixed;
use super::svg::escape_xml;
use super::{view, ReportData, ReportError};
use anyhow::{Context, Result};
use resvg::usvg::fontdb;
use resvg::{tiny_skia, usvg};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// Height of the title band above each chart, in SVG units.
const TITLE_BAND: f64 = 30.0;
/// PNG pixels per SVG unit: sharp when pasted into a document.
pub const PNG_SCALE: f32 = 2.0;

/// One chart as a standalone figure.
#[derive(Debug, Clone)]
pub struct Figure {
    /// File name without extension: `<run>-<chart>`, safe on every system.
    pub stem: String,
    /// The standalone SVG document.
    pub svg: String,
    /// Width and height in SVG units (the PNG is [`PNG_SCALE`] times larger).
    pub size: (u32, u32),
}

/// The figures of `data`: every chart of its page, under a title band that
/// names the run and its headline metrics.
pub fn figures(data: &ReportData) -> Result<Vec<Figure>, ReportError> {
    let view = view::build(data, "")?;
    let caption = caption(data);
    let run = super::file_name(&data.header.experiment);
    let run = run.strip_suffix(".html").unwrap_or(&run).to_string();
    let mut used: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for chart in view.charts() {
        let Some((w, h)) = svg_size(chart) else {
            continue;
        };
        let mut slug = slug(&attribute(chart, "aria-label").unwrap_or_default());
        if slug.is_empty() {
            slug = "chart".to_string();
        }
        // Two charts with one title get numbered file names.
        let base = slug.clone();
        let mut k = 2;
        while used.contains(&slug) {
            slug = format!("{base}-{k}");
            k += 1;
        }
        used.push(slug.clone());
        let width = w.max(caption.chars().count() as f64 * 7.0 + 24.0).ceil();
        let height = (h + TITLE_BAND).ceil();
        // The chart keeps its own coordinates, moved below the title band.
        let inner = chart.replacen("<svg ", &format!("<svg x=\"0\" y=\"{TITLE_BAND}\" "), 1);
        let svg = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" font-family=\"DejaVu Sans, Liberation Sans, Arial, sans-serif\">\
             <rect x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\" fill=\"#fff\"/>\
             <text x=\"12\" y=\"20\" font-size=\"13\" font-weight=\"600\" fill=\"#1f2328\">{}</text>{inner}</svg>\n",
            escape_xml(&caption)
        );
        out.push(Figure {
            stem: format!("{run}-{slug}"),
            svg,
            size: (width as u32, height as u32),
        });
    }
    Ok(out)
}

/// `run — Accuracy 0.9089 · Cohen's kappa 0.8178`: the run's name and its
/// first two headline metrics.
fn caption(data: &ReportData) -> String {
    let mut caption = data.header.experiment.clone();
    if let Some(m) = &data.metrics {
        let shown: Vec<String> = m
            .headline
            .iter()
            .take(2)
            .map(|x| format!("{} {}", x.name, fixed(x.value, 4)))
            .collect();
        if !shown.is_empty() {
            caption.push_str(" — ");
            caption.push_str(&shown.join(" · "));
        }
    }
    caption
}

/// Write the figures of the sealed report `report_html` into `dir` as
/// `<stem>.svg` and `<stem>.png`; returns the files written. A font is
/// needed for the PNGs' text: the system's fonts are used, and when none is
/// found the PNGs are written without text and a warning says so.
pub fn write_figures(report_html: &Path, dir: &Path) -> Result<Vec<PathBuf>> {
    let html = std::fs::read_to_string(report_html)
        .with_context(|| format!("cannot read report {}", report_html.display()))?;
    let data = super::rerender::extract_record(&html)
        .map_err(|e| anyhow::anyhow!("{}: {e}", report_html.display()))?;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create figures folder {}", dir.display()))?;
    if fonts().1.is_empty() {
        eprintln!("warning: no system font found; the figures' PNGs have no text (the SVGs do)");
    }
    let mut written = Vec::new();
    for f in figures(&data)? {
        let svg_path = dir.join(format!("{}.svg", f.stem));
        let png_path = dir.join(format!("{}.png", f.stem));
        write_atomically(&svg_path, f.svg.as_bytes())?;
        let png = png(&f.svg).with_context(|| format!("cannot draw {}", png_path.display()))?;
        write_atomically(&png_path, &png)?;
        written.push(svg_path);
        written.push(png_path);
    }
    Ok(written)
}

/// Where `report.figures: true` puts a run's figures:
/// `<reports_dir>/<name>-figures/` (the name made safe as a file name).
pub fn figures_dir(reports_dir: &Path, name: &str) -> PathBuf {
    let file = super::file_name(name);
    let stem = file.strip_suffix(".html").unwrap_or(&file);
    reports_dir.join(format!("{stem}-figures"))
}

/// `kerros run --figures DIR`: the figures of each finished run's report
/// into `dir` (nothing without a `dir`).
pub fn write_for_runs<'a>(
    reports: impl IntoIterator<Item = &'a Path>,
    dir: Option<&Path>,
) -> Result<()> {
    let Some(dir) = dir else {
        return Ok(());
    };
    let mut n = 0;
    for report in reports {
        n += write_figures(report, dir)?.len();
    }
    eprintln!("{n} figure files written to {}", dir.display());
    Ok(())
}

/// Write through a temporary file, so no half-written figure is ever taken
/// for a finished one.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// The system fonts, loaded once, and the family generic `sans-serif`
/// stands for (one that exists here; empty when there is no font at all).
fn fonts() -> &'static (Arc<fontdb::Database>, String) {
    static FONTS: OnceLock<(Arc<fontdb::Database>, String)> = OnceLock::new();
    FONTS.get_or_init(|| {
        let mut db = fontdb::Database::new();
        db.load_system_fonts();
        let has = |family: &str| {
            db.faces()
                .any(|face| face.families.iter().any(|(n, _)| n == family))
        };
        let family = ["DejaVu Sans", "Liberation Sans", "Noto Sans", "Arial"]
            .into_iter()
            .find(|f| has(f))
            .map(str::to_string)
            .or_else(|| {
                db.faces()
                    .next()
                    .and_then(|f| f.families.first().map(|(n, _)| n.clone()))
            })
            .unwrap_or_default();
        if !family.is_empty() {
            db.set_sans_serif_family(family.clone());
        }
        (Arc::new(db), family)
    })
}

/// `svg` drawn as a PNG, [`PNG_SCALE`] pixels per unit.
pub fn png(svg: &str) -> Result<Vec<u8>> {
    let (db, family) = fonts();
    let mut options = usvg::Options {
        fontdb: db.clone(),
        ..usvg::Options::default()
    };
    if !family.is_empty() {
        options.font_family = family.clone();
    }
    let tree = usvg::Tree::from_str(svg, &options).context("the figure is not valid SVG")?;
    let size = tree
        .size()
        .to_int_size()
        .scale_by(PNG_SCALE)
        .context("empty figure")?;
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height())
        .context("the figure is too large to draw")?;
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(PNG_SCALE, PNG_SCALE),
        &mut pixmap.as_mut(),
    );
    pixmap.encode_png().context("cannot encode the PNG")
}

/// The `width` and `height` attributes of the first element of `svg`.
fn svg_size(svg: &str) -> Option<(f64, f64)> {
    let w = attribute(svg, "width")?.parse().ok()?;
    let h = attribute(svg, "height")?.parse().ok()?;
    Some((w, h))
}

/// The value of attribute `name` of the first (`<svg …>`) tag of `svg`,
/// XML entities left as written.
fn attribute(svg: &str, name: &str) -> Option<String> {
    let tag = &svg[..svg.find('>')?];
    let key = format!(" {name}=\"");
    let at = tag.find(&key)? + key.len();
    let end = tag[at..].find('"')?;
    Some(tag[at..at + end].to_string())
}

/// A chart title as a file-name part: lower-case letters and digits, runs
/// of anything else as one `-` (`Confusion matrix (test split)` →
/// `confusion-matrix-test-split`); XML entities are dropped.
fn slug(title: &str) -> String {
    let mut text = String::new();
    let mut rest = title;
    while let Some(at) = rest.find('&') {
        text.push_str(&rest[..at]);
        rest = rest[at..].find(';').map_or("", |e| &rest[at + e + 1..]);
        text.push(' ');
    }
    text.push_str(rest);
    let mut out = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_titles_become_file_names() {
        assert_eq!(
            slug("Confusion matrix (test split)"),
            "confusion-matrix-test-split"
        );
        assert_eq!(slug("Loss &amp; accuracy"), "loss-accuracy");
        assert_eq!(slug("—"), "");
    }

    #[test]
    fn attributes_of_the_first_tag() {
        let svg =
            "<svg width=\"480\" height=\"300\" aria-label=\"A &amp; B\"><rect width=\"9\"/></svg>";
        assert_eq!(svg_size(svg), Some((480.0, 300.0)));
        assert_eq!(attribute(svg, "aria-label").as_deref(), Some("A &amp; B"));
        assert_eq!(attribute(svg, "x"), None);
    }
}
