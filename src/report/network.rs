//! The hand-calculation network drawn as inline SVG: one column of neurons
//! per layer (inputs first), every edge labelled with its weight, biases on
//! the neurons and activation names under each layer.

use std::fmt::Write as _;

use super::data::ForwardPass;
use super::format::compact;
use super::svg::escape_xml;

const FONT: &str =
    "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";
/// Above this many edges the weight labels would be unreadable; the
/// matrices below the diagram still show every weight.
const MAX_LABELLED_EDGES: usize = 120;

/// Draws the network of `fp`. `input_names` are the first column's labels;
/// layer `l`'s weights are `units × inputs`. Dimensions must already be
/// validated (see `view::check_forward`); missing values are drawn as 0.
pub fn network_diagram(fp: &ForwardPass, input_names: &[String]) -> String {
    let mut columns: Vec<usize> = vec![input_names.len()];
    columns.extend(fp.layers.iter().map(|l| l.bias.len()));
    let tallest = columns.iter().copied().max().unwrap_or(1).max(1);
    let (radius, gap_y, gap_x) = (24.0, 84.0, 230.0);
    let (left, top) = (70.0, 64.0);
    let w = left * 2.0 + gap_x * (columns.len().saturating_sub(1)) as f64;
    let h = top + gap_y * tallest as f64 + 40.0;
    let pos = |col: usize, i: usize| -> (f64, f64) {
        let n = columns[col] as f64;
        // Centre each column vertically against the tallest one.
        let offset = (tallest as f64 - n) * gap_y / 2.0;
        (
            left + col as f64 * gap_x,
            top + offset + gap_y * (i as f64 + 0.5),
        )
    };
    let max_abs = fp
        .layers
        .iter()
        .flat_map(|l| l.weights.iter().flatten())
        .fold(0.0f64, |m, w| m.max(w.abs()))
        .max(1e-12);
    let edges: usize = fp
        .layers
        .iter()
        .map(|l| l.weights.iter().map(Vec::len).sum::<usize>())
        .sum();
    let label_edges = edges <= MAX_LABELLED_EDGES;

    let mut out = String::new();
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart network\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" \
         role=\"img\" aria-label=\"Network diagram\" font-family=\"{FONT}\" font-size=\"12\" fill=\"#222\">\
         <title>Network diagram</title><rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"#fff\"/>",
        w = w.round(),
        h = h.round()
    );
    // Edges first so the neurons are drawn over them.
    let mut labels = String::new();
    for (l, layer) in fp.layers.iter().enumerate() {
        let (n_out, n_in) = (columns[l + 1], columns[l]);
        for j in 0..n_out {
            for i in 0..n_in {
                let wv = layer
                    .weights
                    .get(j)
                    .and_then(|r| r.get(i))
                    .copied()
                    .unwrap_or(0.0);
                let (x1, y1) = pos(l, i);
                let (x2, y2) = pos(l + 1, j);
                let color = if wv < 0.0 { "#D55E00" } else { "#0072B2" };
                let width = 0.8 + 2.2 * wv.abs() / max_abs;
                let _ = write!(
                    out,
                    "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{color}\" stroke-opacity=\"0.7\" stroke-width=\"{width:.2}\"/>",
                    x1 + radius,
                    y1,
                    x2 - radius,
                    y2
                );
                if label_edges {
                    // At t = 1/(targets+1) along the edge, source i and
                    // target j land at height ∝ (i·targets + j)/(targets+1),
                    // distinct for every edge, so labels do not collide.
                    let t = (1.0 / (n_out as f64 + 1.0)).clamp(0.15, 0.35);
                    let (sx, ex) = (x1 + radius, x2 - radius);
                    let (lx, ly) = (sx + (ex - sx) * t, y1 + (y2 - y1) * t);
                    let _ = write!(
                        labels,
                        "<text x=\"{lx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"11\" fill=\"{color}\" \
                         stroke=\"#fff\" stroke-width=\"3\" paint-order=\"stroke\">{}</text>",
                        ly - 3.0,
                        escape_xml(&compact(wv, 3))
                    );
                }
            }
        }
    }
    out.push_str(&labels);
    for (col, &count) in columns.iter().enumerate() {
        let (x, _) = pos(col, 0);
        let (heading, activation) = if col == 0 {
            ("input".to_string(), String::new())
        } else {
            let layer = &fp.layers[col - 1];
            (layer.name.clone(), layer.activation.clone())
        };
        let _ = write!(
            out,
            "<text x=\"{x:.1}\" y=\"24\" text-anchor=\"middle\" font-weight=\"600\" font-size=\"13\">{}</text>",
            escape_xml(&heading)
        );
        if !activation.is_empty() {
            let _ = write!(
                out,
                "<text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-style=\"italic\" fill=\"#555\">{}</text>",
                h - 14.0,
                escape_xml(&activation)
            );
        }
        for i in 0..count {
            let (cx, cy) = pos(col, i);
            let (fill, stroke) = if col == 0 {
                ("#f3f3f3", "#777")
            } else {
                ("#eef5fb", "#0072B2")
            };
            let _ = write!(
                out,
                "<circle cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"{radius}\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"1.5\"/>"
            );
            if col == 0 {
                let name = input_names.get(i).map(String::as_str).unwrap_or("");
                let _ = write!(
                    out,
                    "<text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-weight=\"600\">{}</text>",
                    cy + 4.0,
                    escape_xml(&super::format::truncate_chars(name, 6))
                );
            } else {
                let layer = &fp.layers[col - 1];
                let b = layer.bias.get(i).copied().unwrap_or(0.0);
                let _ = write!(
                    out,
                    "<text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"10\" fill=\"#555\">{}</text>\
                     <text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"11\">b={}</text>",
                    cy - 4.0,
                    escape_xml(&format!("{}{}", unit_prefix(col, fp.layers.len()), i + 1)),
                    cy + 10.0,
                    escape_xml(&compact(b, 3))
                );
            }
        }
    }
    out.push_str("</svg>");
    out
}

/// Short neuron name: `h1…` for hidden layers (per layer number), `o` for
/// the output layer.
fn unit_prefix(col: usize, layers: usize) -> String {
    if col == layers {
        "o".to_string()
    } else {
        format!("h{col}.")
    }
}
