//! `kerros predict`: label new texts with an experiment's trained model.
//!
//! Output of `--text` (one or more): a tab-separated header line
//! (`predicted`, then `p_<class>` per class, or `raw` for regression) and one
//! line per text; `--json` prints a JSON array instead. `--input FILE
//! --output FILE` writes a CSV with `id`, `predicted` and the same columns.

use super::DirArgs;
use crate::data::ColumnPlan;
use crate::pipeline::predict::{Predictor, TextPrediction};
use crate::pipeline::RunOptions;
use anyhow::{Context, Result};
use clap::Args;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// Options of `kerros predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// The spec file of the experiment whose model predicts.
    pub spec: PathBuf,
    /// A text to label; repeat for several.
    #[arg(long, value_name = "TEXT", conflicts_with = "input")]
    pub text: Vec<String>,
    /// A CSV (or TSV by extension `.tsv`) file with one text per row.
    #[arg(long, value_name = "FILE", requires = "output")]
    pub input: Option<PathBuf>,
    /// Where to write the predictions CSV for `--input`.
    #[arg(long, value_name = "FILE", requires = "input")]
    pub output: Option<PathBuf>,
    /// Text column(s) of `--input`, instead of the spec's `text_column` /
    /// `text_columns`; repeat to join several with the spec's `text_separator`.
    #[arg(long, value_name = "NAME", requires = "input")]
    pub text_column: Vec<String>,
    /// Print the `--text` predictions as a JSON array.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub dirs: DirArgs,
    #[command(flatten)]
    pub remote: super::remote::RemoteArgs,
    /// Where the report of a run needed to train the model is written.
    #[arg(long, value_name = "DIR", default_value = crate::spec::DEFAULT_REPORTS_DIR)]
    pub reports_dir: PathBuf,
}

/// Run `kerros predict`; returns the exit code.
pub fn run(args: PredictArgs) -> Result<i32> {
    if args.text.is_empty() && args.input.is_none() {
        return Err(super::InvalidArguments(
            "give texts with --text \"...\" (repeatable) or a file with --input FILE --output FILE"
                .into(),
        )
        .into());
    }
    let opts = RunOptions {
        data_dir: args.dirs.data_dir.clone(),
        cache_dir: args.dirs.cache_dir.clone(),
        reports_dir: args.reports_dir.clone(),
        force: false,
        quiet: true,
        author: None,
        log_prefix: None,
        remote: args.remote.open()?,
    };
    let predictor = Predictor::open(&args.spec, &opts)?;
    if let (Some(input), Some(output)) = (&args.input, &args.output) {
        let n = predict_file(&predictor, input, output, &args.text_column)?;
        eprintln!("{n} predictions written to {}", output.display());
        return Ok(0);
    }
    let preds = predictor.predict(&args.text)?;
    if args.json {
        let rows: Vec<Value> = args
            .text
            .iter()
            .zip(&preds)
            .map(|(t, p)| json_row(&predictor, t, p))
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        print!("{}", text_table(&predictor, &preds));
    }
    Ok(0)
}

/// Column names after `predicted`: `p_<class>` per class, or `raw`.
fn value_columns(p: &Predictor) -> Vec<String> {
    if p.classes().is_empty() {
        vec!["raw".to_string()]
    } else {
        p.classes().iter().map(|c| format!("p_{c}")).collect()
    }
}

/// The values after `predicted`, formatted with 4 decimals.
fn value_cells(p: &TextPrediction) -> Vec<String> {
    match p.raw {
        Some(r) => vec![format!("{r:.4}")],
        None => p.probabilities.iter().map(|v| format!("{v:.4}")).collect(),
    }
}

fn text_table(predictor: &Predictor, preds: &[TextPrediction]) -> String {
    let mut out = String::from("predicted");
    for c in value_columns(predictor) {
        out.push('\t');
        out.push_str(&c);
    }
    out.push('\n');
    for p in preds {
        out.push_str(&p.predicted);
        for v in value_cells(p) {
            out.push('\t');
            out.push_str(&v);
        }
        out.push('\n');
    }
    out
}

fn json_row(predictor: &Predictor, text: &str, p: &TextPrediction) -> Value {
    match p.raw {
        Some(raw) => json!({"text": text, "predicted": p.predicted, "raw": raw}),
        None => {
            let probs: serde_json::Map<String, Value> = predictor
                .classes()
                .iter()
                .zip(&p.probabilities)
                .map(|(c, v)| (c.clone(), json!(v)))
                .collect();
            json!({"text": text, "predicted": p.predicted, "probabilities": probs})
        }
    }
}

/// Read `input`, predict every row, write `output`; returns the row count.
///
/// The text is the spec's text column(s) (for `dataset: druglib` the three
/// review fields), or `text_columns` when given, joined with the spec's
/// separator leaving out blank cells, as the data readers do. The id is the
/// spec's `id_column` when the file has it, else an `id` column, else the
/// 0-based row number.
fn predict_file(
    predictor: &Predictor,
    input: &Path,
    output: &Path,
    text_columns: &[String],
) -> Result<usize> {
    let data = predictor
        .spec()
        .data
        .as_ref()
        .context("the spec has no `data` section")?;
    let plan = ColumnPlan::from_spec(data);
    let wanted = if text_columns.is_empty() {
        plan.text.clone()
    } else {
        text_columns.to_vec()
    };
    let tsv = input
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("tsv") || e.eq_ignore_ascii_case("tab"));
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(if tsv { b'\t' } else { b',' })
        .flexible(false)
        .from_path(input)
        .with_context(|| format!("cannot open {}", input.display()))?;
    let header: Vec<String> = reader
        .headers()
        .with_context(|| format!("{}: cannot read the header line", input.display()))?
        .iter()
        .map(str::to_string)
        .collect();
    let find = |name: &str| -> Option<usize> {
        let canonical = plan
            .aliases
            .iter()
            .find(|(a, _)| a == name)
            .map(|(_, c)| c.as_str());
        header
            .iter()
            .position(|h| h == name || Some(h.as_str()) == canonical)
    };
    let text_idx: Vec<usize> = wanted
        .iter()
        .map(|c| {
            find(c).with_context(|| {
                format!(
                    "{}: no text column `{c}`; its columns are: {} (choose one with --text-column)",
                    input.display(),
                    header.join(", ")
                )
            })
        })
        .collect::<Result<_>>()?;
    let id_idx = data
        .id_column
        .as_deref()
        .and_then(find)
        .or_else(|| find("id"));
    let mut ids = Vec::new();
    let mut texts = Vec::new();
    for (row, record) in reader.records().enumerate() {
        // Line numbers count the header line, 1-based.
        let record = record.with_context(|| format!("{}: line {}", input.display(), row + 2))?;
        let cell = |i: usize| record.get(i).unwrap_or("");
        let text = if text_idx.len() == 1 {
            cell(text_idx[0]).to_string()
        } else {
            text_idx
                .iter()
                .map(|&i| cell(i))
                .filter(|c| !c.trim().is_empty())
                .collect::<Vec<_>>()
                .join(&plan.separator)
        };
        ids.push(match id_idx {
            Some(i) => cell(i).trim().to_string(),
            None => row.to_string(),
        });
        texts.push(text);
    }
    let preds = predictor.predict(&texts)?;
    let mut writer = csv::Writer::from_path(output)
        .with_context(|| format!("cannot create {}", output.display()))?;
    let mut head = vec!["id".to_string(), "predicted".to_string()];
    head.extend(value_columns(predictor));
    writer.write_record(&head)?;
    for (id, p) in ids.iter().zip(&preds) {
        let mut rec = vec![id.clone(), p.predicted.clone()];
        rec.extend(value_cells(p));
        writer.write_record(&rec)?;
    }
    writer
        .flush()
        .with_context(|| format!("cannot write {}", output.display()))?;
    Ok(preds.len())
}
