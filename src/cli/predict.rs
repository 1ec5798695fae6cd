//! `kerros predict`: label new texts with an experiment's trained model.
//!
//! Output of `--text` (one or more): a tab-separated header line
//! (`predicted`, then `p_<class>` per class, or `raw` for regression) and one
//! line per text; `--json` prints a JSON array instead. `--input FILE
//! --output FILE` writes a CSV with `id`, `predicted` and the same columns.

use super::DirArgs;
use crate::cache::write_file_atomically;
use crate::data::read_input_texts;
use crate::pipeline::predict::{Predictor, TextPrediction};
use crate::pipeline::variant::choose_variant;
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
    /// Where the report of a run needed to train the model is written
    /// (default: `<cache-dir>/reports`, so nothing lands in the working folder).
    #[arg(long, value_name = "DIR")]
    pub reports_dir: Option<PathBuf>,
    /// The variant of a `matrix:` spec to predict with (its full name, or the
    /// part in brackets, e.g. `learning_rate=0.01`); default: the one the
    /// spec's `select:` chooses.
    #[arg(long, value_name = "NAME")]
    pub variant: Option<String>,
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
        reports_dir: args
            .reports_dir
            .clone()
            .unwrap_or_else(|| args.dirs.cache_dir.join("reports")),
        force: false,
        quiet: true,
        author: None,
        log_prefix: None,
        remote: args.remote.open()?,
    };
    let quiet = RunOptions {
        quiet: true,
        ..opts.clone()
    };
    let chosen = choose_variant(&args.spec, args.variant.as_deref(), &quiet)?;
    if let Some(reason) = &chosen.reason {
        eprintln!("using variant {} ({reason})", chosen.spec.name);
    }
    if args.input.is_none() {
        if let Some(plan) = chosen
            .spec
            .data
            .as_ref()
            .map(crate::data::ColumnPlan::from_spec)
        {
            if plan.field_tags && plan.text.len() > 1 {
                return Err(super::InvalidArguments(format!(
                    "this model reads each word tagged with its text column (`data.field_tags`), and --text has no columns: give a CSV with the columns {} via --input FILE --output FILE",
                    plan.text.join(", ")
                ))
                .into());
            }
        }
    }
    let predictor = Predictor::open_spec(chosen.spec, &args.spec, &opts)?;
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

/// Read `input` ([`read_input_texts`]), predict every row, write `output`
/// (atomically: a failed run leaves no half-written file); returns the row
/// count.
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
    let rows = read_input_texts(input, data, text_columns)?;
    let texts: Vec<&str> = rows.iter().map(|r| r.text.as_str()).collect();
    let preds = predictor.predict(&texts)?;
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut head = vec!["id".to_string(), "predicted".to_string()];
    head.extend(value_columns(predictor));
    writer.write_record(&head)?;
    for (row, p) in rows.iter().zip(&preds) {
        let mut rec = vec![row.id.clone(), p.predicted.clone()];
        rec.extend(value_cells(p));
        writer.write_record(&rec)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| anyhow::anyhow!("cannot write the predictions: {e}"))?;
    write_file_atomically(output, &bytes, false)
        .with_context(|| format!("cannot write {}", output.display()))?;
    Ok(preds.len())
}
