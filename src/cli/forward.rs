//! `kerros forward`: a hand-calculation network's forward pass, printed as
//! aligned matrices (W, b, Z = W·A + b, A) layer by layer.

use crate::pipeline::forward::forward_pass;
use crate::report::ForwardPass;
use anyhow::{bail, Context, Result};
use clap::Args;
use std::path::PathBuf;

/// Options of `kerros forward`.
#[derive(Debug, Args)]
pub struct ForwardArgs {
    /// The spec file (dense layers with fixed `kernel` / `bias`, `model.input_dim`).
    pub spec: PathBuf,
    /// One input vector as comma-separated numbers, e.g. `1,3,2`; repeatable.
    #[arg(long = "input", value_name = "VALUES")]
    pub inputs: Vec<String>,
    /// A CSV file with one input vector per row (no header).
    #[arg(long, value_name = "CSV")]
    pub input_file: Option<PathBuf>,
    /// Print the matrices as JSON (nested arrays).
    #[arg(long)]
    pub json: bool,
}

fn parse_row(text: &str, what: &str) -> Result<Vec<f64>> {
    text.split(',')
        .map(|v| {
            let v = v.trim();
            v.parse::<f64>().with_context(|| {
                format!("{what}: `{v}` is not a number; write the inputs like 1,3,2")
            })
        })
        .collect()
}

/// `kerros forward`.
pub fn forward(args: ForwardArgs) -> Result<i32> {
    let (spec, locator) = crate::spec::load_spec(&args.spec)?;
    crate::pipeline::validate(&spec, &args.spec, &locator)?;
    let mut rows = Vec::new();
    for (i, text) in args.inputs.iter().enumerate() {
        rows.push(parse_row(text, &format!("--input {}", i + 1))?);
    }
    if let Some(file) = &args.input_file {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            rows.push(parse_row(line, &format!("{}:{}", file.display(), n + 1))?);
        }
    }
    if rows.is_empty() {
        rows = spec.inputs.clone();
    }
    if rows.is_empty() {
        bail!("give an input, e.g. --input 1,3,2 (or `inputs: [[1, 3, 2]]` in the spec)");
    }
    let pass = forward_pass(&spec, &rows)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&pass)?);
    } else {
        print!("{}", render_text(&pass));
    }
    Ok(0)
}

/// A number as a student would write it: integers without decimals.
fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// A matrix as bracketed, right-aligned lines.
fn matrix_lines(rows: &[Vec<f64>]) -> Vec<String> {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|&v| num(v)).collect())
        .collect();
    let cols = cells.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            cells
                .iter()
                .filter_map(|r| r.get(c))
                .map(String::len)
                .max()
                .unwrap_or(1)
        })
        .collect();
    let n = cells.len();
    cells
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let (l, rt) = match (n, i) {
                (1, _) => ('[', ']'),
                (_, 0) => ('⎡', '⎤'),
                (_, i) if i == n - 1 => ('⎣', '⎦'),
                _ => ('⎢', '⎥'),
            };
            let body: Vec<String> = r
                .iter()
                .enumerate()
                .map(|(c, s)| format!("{s:>w$}", w = widths[c]))
                .collect();
            format!("{l} {} {rt}", body.join("  "))
        })
        .collect()
}

fn column(v: &[f64]) -> Vec<Vec<f64>> {
    v.iter().map(|&x| vec![x]).collect()
}

/// Blocks side by side: `label = matrix`, vertically centred.
fn side_by_side(blocks: &[(String, Vec<String>)]) -> String {
    let height = blocks.iter().map(|b| b.1.len()).max().unwrap_or(0);
    let mut out = String::new();
    for line in 0..height {
        let mut parts = Vec::new();
        for (label, lines) in blocks {
            let top = (height - lines.len()) / 2;
            let width = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
            let mid = top + lines.len() / 2;
            let lab = if line == mid {
                format!("{label} = ")
            } else {
                " ".repeat(label.chars().count() + 3)
            };
            let cell = if line >= top && line < top + lines.len() {
                lines[line - top].clone()
            } else {
                String::new()
            };
            let pad = width - cell.chars().count();
            parts.push(format!("{lab}{cell}{}", " ".repeat(pad)));
        }
        out.push_str(parts.join("    ").trim_end());
        out.push('\n');
    }
    out
}

/// The whole forward pass as text.
pub fn render_text(pass: &ForwardPass) -> String {
    let mut out = String::new();
    for input in &pass.inputs {
        out.push_str(&format!("── {} ──\n", input.name));
        out.push_str(&side_by_side(&[(
            "A1".into(),
            matrix_lines(&column(&input.values)),
        )]));
        for (k, (layer, step)) in pass.layers.iter().zip(&input.steps).enumerate() {
            let (w, a_in, z, a) = (
                format!("W{}", k + 1),
                format!("A{}", k + 1),
                format!("Z{}", k + 2),
                format!("A{}", k + 2),
            );
            out.push_str(&format!(
                "\nlayer {} ({}, activation {}): {z} = {w}·{a_in} + b{}, {a} = {}({z})\n",
                k + 1,
                layer.name,
                layer.activation,
                k + 1,
                layer.activation
            ));
            out.push_str(&side_by_side(&[
                (w, matrix_lines(&layer.weights)),
                (format!("b{}", k + 1), matrix_lines(&column(&layer.bias))),
                (z, matrix_lines(&column(&step.z))),
                (a, matrix_lines(&column(&step.a))),
            ]));
        }
        out.push('\n');
    }
    out
}
