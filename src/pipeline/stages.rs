//! The stages of a run, each a cached step with its own key.

use super::outcome::RunOutcome;
use super::runner::Runner;
use super::tables::{self, Encoded, EncodedInputs};
use super::RunOptions;
use crate::cache::{hash_file, Artifact, Cache, StageKey};
use crate::data::{self, Item, Prepared};
use crate::model::{self, Model, ModelInput};
use crate::report::ReportData;
use crate::spec::{self, Spec, VectorizeMode};
use crate::text::{self, Tokenizer};
use crate::train::{self, EpochRecord, TaskInfo};
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::Instant;

/// Settings that decide what the load stage reads.
#[derive(Serialize)]
struct LoadSettings<'a> {
    data: &'a spec::DataSpec,
}

/// Facts about the loaded data, stored with the split stage.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DataInfo {
    /// Class names in output order (empty for regression).
    pub classes: Vec<String>,
    /// Rows skipped as malformed.
    pub skipped_rows: usize,
    /// Source files with their content hashes.
    pub sources: Vec<(String, String)>,
}

fn items_to_table(items: Vec<Item>) -> data::Table {
    data::Table {
        rows: items
            .into_iter()
            .map(|i| data::Row {
                id: i.id,
                text: i.text,
                label: i.label,
                extra: i.extra,
            })
            .collect(),
        skipped: 0,
        columns: Vec::new(),
    }
}

/// Run every stage of the experiment in `spec_path`.
pub fn run(spec_path: &Path, opts: &RunOptions) -> Result<RunOutcome> {
    let (spec, locator) = spec::load_spec(spec_path)?;
    super::validate(&spec, spec_path, &locator)?;
    run_spec(&spec, spec_path, opts)
}

/// Run every stage of an already parsed and checked spec (`spec_path` locates
/// relative data files and names the spec in messages).
pub fn run_spec(spec: &Spec, spec_path: &Path, opts: &RunOptions) -> Result<RunOutcome> {
    let start = Instant::now();
    let spec = spec.clone();
    let Some(data_spec) = &spec.data else {
        return forward_report(&spec, spec_path, opts, start);
    };
    let spec_dir = spec_path.parent().unwrap_or(Path::new("."));
    let mut runner = Runner::new(Cache::new(&opts.cache_dir), opts.force, opts.quiet);
    if let Some(prefix) = &opts.log_prefix {
        runner.set_prefix(prefix);
    }
    let author = crate::workflow::resolve_author(opts.author.as_deref(), &spec);

    // load: read the source files as they are.
    let (data_dir, dir_source) = data::data_dir(opts.data_dir.as_deref());
    if let Some(name) = &data_spec.dataset {
        // Like keras.datasets: fetch a missing built-in dataset once, verified.
        let needed = data::builtin_files(name, &data_dir);
        if needed.is_some_and(|(train, test)| !train.is_file() || !test.is_file()) {
            runner.log(&format!(
                "dataset `{name}` not found in {}; fetching it",
                data_dir.display()
            ));
            let opts = data::fetch::FetchOptions {
                progress: !opts.quiet,
                ..Default::default()
            };
            data::fetch::fetch(name, &data_dir, &opts)?;
        }
    }
    let sources = data::resolve_sources(data_spec, spec_dir, &data_dir, dir_source)?;
    let mut files: Vec<(String, &Path)> = vec![
        ("train".into(), sources.train.path.as_path()),
        ("test".into(), sources.test.path.as_path()),
    ];
    if let Some(v) = &sources.validation {
        files.push(("validation".into(), v.path.as_path()));
    }
    let mut load_key = StageKey::build("load", &LoadSettings { data: data_spec });
    let mut source_hashes = Vec::new();
    for (label, path) in &files {
        let h = hash_file(path)?;
        load_key = load_key.file(label, &h);
        source_hashes.push((path.display().to_string(), h));
    }
    let load_key = load_key.finish();
    let load = runner.stage(&load_key, |dir| {
        let tables = data::read_sources(data_spec, &sources)?;
        let mut skipped = 0;
        let mut named = vec![("train", tables.train), ("test", tables.test)];
        if let Some(v) = tables.validation {
            named.push(("validation", v));
        }
        for (label, table) in named {
            skipped += table.skipped;
            let items: Vec<Item> = table
                .rows
                .into_iter()
                .map(|r| Item {
                    id: r.id,
                    text: r.text,
                    label: r.label,
                    target: f32::NAN,
                    extra: r.extra,
                })
                .collect();
            data::write_items(&dir.join(format!("{label}.parquet")), &items)?;
        }
        fs::write(dir.join("skipped.json"), serde_json::to_string(&skipped)?)?;
        Ok(())
    })?;

    // split: limit, validation split, targets.
    let split_key = StageKey::build(
        "split",
        &(
            spec.seed,
            data_spec.limit,
            &data_spec.validation,
            &spec.task,
        ),
    )
    .input(&load_key)
    .finish();
    let split = runner.stage(&split_key, |dir| {
        let read = |name: &str| -> Result<data::Table> {
            Ok(items_to_table(data::read_items(
                &load.file(&format!("{name}.parquet")),
            )?))
        };
        let validation = if sources.validation.is_some() {
            Some(read("validation")?)
        } else {
            None
        };
        let mut prepared = data::prepare_with_cleaner(
            read("train")?,
            read("test")?,
            validation,
            &spec,
            &text::clean,
        )?;
        let skipped: usize = serde_json::from_slice(&fs::read(load.file("skipped.json"))?)?;
        prepared.skipped_rows += skipped;
        data::write_items(&dir.join("train.parquet"), &prepared.train)?;
        data::write_items(&dir.join("validation.parquet"), &prepared.validation)?;
        data::write_items(&dir.join("test.parquet"), &prepared.test)?;
        let info = DataInfo {
            classes: prepared.classes.clone(),
            skipped_rows: prepared.skipped_rows,
            sources: source_hashes.clone(),
        };
        fs::write(dir.join("info.json"), serde_json::to_vec_pretty(&info)?)?;
        Ok(())
    })?;
    let info: DataInfo = serde_json::from_slice(&fs::read(split.file("info.json"))?)?;
    super::validate::check_classes(&spec, spec_path, info.classes.len())?;
    let prepared_lazy = || -> Result<Prepared> {
        Ok(Prepared {
            classes: info.classes.clone(),
            train: data::read_items(&split.file("train.parquet"))?,
            validation: data::read_items(&split.file("validation.parquet"))?,
            test: data::read_items(&split.file("test.parquet"))?,
            skipped_rows: info.skipped_rows,
        })
    };
    // Read the splits once, and only if some stage needs them.
    let prepared_cell = std::cell::OnceCell::new();
    let prepared = || cached(&prepared_cell, prepared_lazy);

    // vocabulary: fit on the training split only.
    let vocab_settings = match spec.vectorize.mode {
        VectorizeMode::Int => serde_json::to_value(&spec.tokenizer)?,
        _ => serde_json::to_value(&spec.vectorize)?,
    };
    let vocab_key = StageKey::build("vocabulary", &vocab_settings)
        .input(&split_key)
        .finish();
    let vocab = runner.stage(&vocab_key, |dir| {
        let p = prepared()?;
        let texts: Vec<&str> = p.train.iter().map(|i| i.text.as_str()).collect();
        match spec.vectorize.mode {
            VectorizeMode::Int => {
                let tok = Tokenizer::fit(&spec.tokenizer, &texts)?;
                let (terms, counts): (Vec<String>, Vec<u64>) =
                    tok.vocabulary().iter().cloned().unzip();
                tables::write_vocabulary(&dir.join("vocabulary.parquet"), &terms, &counts, &[])
            }
            _ => {
                let targets: Vec<f32> = p.train.iter().map(|i| i.target).collect();
                let nb = spec.vectorize.nb_weighting.then_some(targets.as_slice());
                let v = text::Vectorizer::fit(&spec.vectorize, &texts, nb)?;
                let mut weights: Vec<(&str, &[f32])> = vec![("idf", v.idf())];
                if let Some(nb) = v.nb_weights() {
                    weights.push(("nb", nb));
                }
                tables::write_vocabulary(
                    &dir.join("vocabulary.parquet"),
                    v.terms(),
                    v.document_frequencies(),
                    &weights,
                )?;
                fs::write(
                    dir.join(super::predict::NUM_DOCS_FILE),
                    serde_json::to_vec(&v.num_docs())?,
                )?;
                Ok(())
            }
        }
    })?;

    // encode: token sequences padded to maxlen.
    let encode_key = StageKey::build("encode", &(&spec.sequence, spec.vectorize.mode))
        .input(&vocab_key)
        .input(&split_key)
        .finish();
    let encode = runner.stage(&encode_key, |dir| {
        let p = prepared()?;
        let texts =
            |items: &[Item]| -> Vec<String> { items.iter().map(|i| i.text.clone()).collect() };
        // The training split fixes the width (maxlen unset: its longest sequence).
        let train_inputs = super::predict::encode_texts(
            &spec,
            &vocab.dir,
            &texts(&p.train),
            spec.sequence.maxlen,
        )?;
        let maxlen = match &train_inputs {
            EncodedInputs::Tokens { width, .. } => Some(*width),
            EncodedInputs::Sparse { .. } => None,
        };
        let mut train_inputs = Some(train_inputs);
        for (name, items) in [
            ("train", &p.train),
            ("validation", &p.validation),
            ("test", &p.test),
        ] {
            let inputs = match train_inputs.take() {
                Some(t) => t,
                None => super::predict::encode_texts(&spec, &vocab.dir, &texts(items), maxlen)?,
            };
            let enc = Encoded {
                ids: items.iter().map(|i| i.id).collect(),
                targets: items.iter().map(|i| i.target).collect(),
                inputs,
            };
            tables::write_encoded(&dir.join(format!("{name}.parquet")), &enc)?;
        }
        Ok(())
    })?;

    // train.
    let task = TaskInfo {
        kind: spec.task.kind,
        n_classes: info.classes.len(),
    };
    let train_key = StageKey::build("train", &(&spec.model, &spec.train, spec.seed))
        .input(&encode_key)
        .finish();
    let train_input = |e: &Encoded| -> train::Dataset { to_dataset(e) };
    let train_stage = runner.stage(&train_key, |dir| {
        let tr = tables::read_encoded(&encode.file("train.parquet"))?;
        let va = tables::read_encoded(&encode.file("validation.parquet"))?;
        let input = model_input(&tr);
        // Token id k+1 is the k-th vocabulary word (id 1 is the OOV token when set).
        let mut words: Vec<String> = spec.tokenizer.oov_token.iter().cloned().collect();
        if spec.vectorize.mode == VectorizeMode::Int {
            words.extend(tables::read_vocabulary(&vocab.file("vocabulary.parquet"))?.terms);
        }
        let ctx = model::BuildContext {
            vocabulary: Some(&words),
            spec_dir: Some(spec_dir),
            ..Default::default()
        };
        let mut m = Model::with_context(&spec.model.layers, &input, spec.seed, &ctx)?;
        if let Some(c) = m.embedding_coverage() {
            fs::write(dir.join("coverage.json"), serde_json::to_vec(&c)?)?;
        }
        let mut observer =
            EpochPrinter::new(spec.train.epochs, opts.quiet, opts.log_prefix.as_deref());
        let va = (!va.ids.is_empty()).then(|| train_input(&va));
        let history = train::fit_with(
            &mut m,
            &train_input(&tr),
            va.as_ref(),
            &spec.train,
            &task,
            spec.seed,
            &mut observer,
            &train::FitContext {
                class_names: Some(&info.classes),
            },
        )?;
        m.save(&dir.join("model.safetensors"))?;
        fs::write(
            dir.join("history.json"),
            serde_json::to_vec_pretty(&history.epochs)?,
        )?;
        fs::write(
            dir.join("summary.json"),
            serde_json::to_vec_pretty(&m.summary())?,
        )?;
        Ok(())
    })?;
    let history: Vec<EpochRecord> =
        serde_json::from_slice(&fs::read(train_stage.file("history.json"))?)?;
    let summary: model::Summary =
        serde_json::from_slice(&fs::read(train_stage.file("summary.json"))?)?;

    // evaluate on the test split only.
    let eval_key = StageKey::build("evaluate", &spec.metrics)
        .input(&train_key)
        .input(&split_key)
        .finish();
    let evaluate = runner.stage(&eval_key, |dir| {
        let te = tables::read_encoded(&encode.file("test.parquet"))?;
        let input = model_input(&te);
        let m = Model::load(
            &spec.model.layers,
            &input,
            &train_stage.file("model.safetensors"),
        )?;
        let ds = to_dataset(&te);
        let probs = train::predict(
            &m,
            &ds.inputs,
            &task,
            spec.train.loss.from_logits,
            spec::EVALUATION_BATCH_SIZE,
        )?;
        let test_loss = train::evaluate_loss(
            &m,
            &ds,
            &spec.train.loss,
            &task,
            spec::EVALUATION_BATCH_SIZE,
        )?;
        let p = prepared()?;
        let (preds, mut metrics) =
            super::score::score(&spec, &info.classes, &p.train, &p.test, &probs)?;
        metrics.insert("loss".into(), serde_json::json!(test_loss));
        tables::write_predictions(&dir.join("predictions.parquet"), &preds, &info.classes)?;
        fs::write(
            dir.join("metrics.json"),
            serde_json::to_vec_pretty(&metrics)?,
        )?;
        Ok(())
    })?;
    let metrics: BTreeMap<String, serde_json::Value> =
        serde_json::from_slice(&fs::read(evaluate.file("metrics.json"))?)?;

    // report.
    let stage_keys = runner.keys.clone();
    let report_key = StageKey::build("report", &(&spec, &author))
        .file("template", &crate::report::template_fingerprint())
        .input(&eval_key)
        .input(&train_key)
        .input(&split_key)
        .finish();
    let report_stage = runner.stage(&report_key, |dir| {
        let preds = tables::read_predictions(&evaluate.file("predictions.parquet"))?;
        let inputs = super::report::ReportInputs {
            spec: &spec,
            spec_path,
            prepared: prepared()?,
            sources: &info.sources,
            history: &history,
            summary: &summary,
            metrics: &metrics,
            predictions: &preds,
            stage_keys: &stage_keys,
            coverage: match fs::read(train_stage.file("coverage.json")) {
                Ok(bytes) => Some(serde_json::from_slice(&bytes)?),
                Err(_) => None,
            },
        };
        let mut data: ReportData = super::report::build(&inputs);
        data.header.author = author.clone();
        let mut manifest =
            crate::workflow::Manifest::new(&spec, metrics.clone(), author.as_deref())?;
        manifest.data_files = files
            .iter()
            .zip(&info.sources)
            .map(|((label, _), (path, hash))| crate::workflow::DataFile {
                path: format!("{label}: {path}"),
                blake3: hash.clone(),
            })
            .collect();
        manifest.stage_keys = stage_keys.clone();
        data.manifest_json = Some(serde_json::to_string(&manifest)?);
        let html = crate::workflow::seal(&crate::report::render(&data)?);
        fs::write(dir.join("report.html"), html)?;
        Ok(())
    })?;
    fs::create_dir_all(&opts.reports_dir).with_context(|| {
        format!(
            "cannot create reports folder {}",
            opts.reports_dir.display()
        )
    })?;
    let report_path = opts.reports_dir.join(format!("{}.html", spec.name));
    publish(&report_stage, &report_path)?;

    let record = crate::workflow::RunRecord {
        name: spec.name.clone(),
        spec: serde_json::to_value(&spec)?,
        metrics: metrics.clone(),
        history: history
            .iter()
            .map(serde_json::to_value)
            .collect::<std::result::Result<_, _>>()?,
        report: Some(report_path.display().to_string()),
    };
    crate::workflow::save_record(&opts.cache_dir, &record)?;
    Ok(RunOutcome {
        name: spec.name.clone(),
        metrics,
        stages: runner.statuses.clone(),
        history,
        report: report_path,
        artifacts: runner.artifacts.clone(),
        params: summary.total_params,
        skipped_rows: info.skipped_rows,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// The value in `cell`, computed by `load` on first use.
fn cached<T>(cell: &std::cell::OnceCell<T>, load: impl FnOnce() -> Result<T>) -> Result<&T> {
    if let Some(v) = cell.get() {
        return Ok(v);
    }
    let v = load()?;
    Ok(cell.get_or_init(|| v))
}

/// Copy the cached report to its published path atomically.
fn publish(report: &Artifact, target: &Path) -> Result<()> {
    let tmp = target.with_extension("html.tmp");
    fs::copy(report.file("report.html"), &tmp)?;
    fs::rename(&tmp, target).with_context(|| format!("cannot write {}", target.display()))?;
    Ok(())
}

fn model_input(e: &Encoded) -> ModelInput {
    match &e.inputs {
        EncodedInputs::Tokens { width, .. } => ModelInput::Sequence { maxlen: *width },
        EncodedInputs::Sparse { width, .. } => ModelInput::Features { width: *width },
    }
}

fn to_dataset(e: &Encoded) -> train::Dataset {
    let inputs = match &e.inputs {
        EncodedInputs::Tokens { ids, width } => train::InputData::Sequences {
            ids: ids.clone(),
            width: *width,
        },
        EncodedInputs::Sparse { rows, width } => train::InputData::Sparse {
            rows: rows.clone(),
            width: *width,
        },
    };
    train::Dataset {
        inputs,
        targets: e.targets.clone(),
    }
}

/// Prints one Keras-like line per epoch on stderr, with a progress bar within
/// the epoch when stderr is a terminal (none in CI logs).
struct EpochPrinter {
    epochs: usize,
    quiet: bool,
    prefix: String,
    bar: Option<indicatif::ProgressBar>,
}

impl EpochPrinter {
    fn new(epochs: usize, quiet: bool, prefix: Option<&str>) -> Self {
        EpochPrinter {
            epochs,
            quiet,
            prefix: prefix.map(|p| format!("[{p}] ")).unwrap_or_default(),
            bar: None,
        }
    }
}

impl train::TrainObserver for EpochPrinter {
    fn on_batch(&mut self, epoch: usize, batch: usize, n_batches: usize, loss: f64) {
        use std::io::IsTerminal;
        if self.quiet || !std::io::stderr().is_terminal() {
            return;
        }
        let bar = self.bar.get_or_insert_with(|| {
            let bar = indicatif::ProgressBar::new(n_batches as u64);
            if let Ok(style) =
                indicatif::ProgressStyle::with_template("{prefix}{pos:>5}/{len} [{bar:30}] {msg}")
            {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        });
        bar.set_prefix(format!("{}Epoch {epoch}/{} ", self.prefix, self.epochs));
        bar.set_position(batch as u64);
        bar.set_message(format!("loss: {loss:.4}"));
    }

    fn on_epoch(&mut self, r: &EpochRecord) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        if self.quiet {
            return;
        }
        let mut line = format!(
            "{}Epoch {}/{} - {:.1}s - loss: {:.4}",
            self.prefix, r.epoch, self.epochs, r.seconds, r.loss
        );
        line.push_str(&format!(" - accuracy: {:.4}", r.accuracy));
        if let Some(v) = r.val_loss {
            line.push_str(&format!(" - val_loss: {v:.4}"));
        }
        if let Some(v) = r.val_accuracy {
            line.push_str(&format!(" - val_accuracy: {v:.4}"));
        }
        eprintln!("{line}");
    }
}

/// A spec without data is a hand calculation: its report shows the network
/// and the forward pass of `spec.inputs` instead of training.
fn forward_report(
    spec: &Spec,
    spec_path: &Path,
    opts: &RunOptions,
    start: Instant,
) -> Result<RunOutcome> {
    if spec.inputs.is_empty() {
        bail!(
            "{}: a spec without `data` is a hand calculation; add `inputs: [[1, 3, 2]]` (one row per input vector) to report its forward pass, or use `kerros forward {} --input 1,3,2`",
            spec_path.display(),
            spec_path.display()
        );
    }
    let pass = super::forward::forward_pass(spec, &spec.inputs)?;
    let width = spec.model.input_dim.unwrap_or_default();
    let summary = Model::new(
        &spec.model.layers,
        &ModelInput::Features { width },
        spec.seed,
    )?
    .summary();
    let data =
        super::report::forward_report_data(spec, spec_path, &summary, pass, opts.author.as_deref());
    let html = crate::workflow::seal(&crate::report::render(&data)?);
    fs::create_dir_all(&opts.reports_dir).with_context(|| {
        format!(
            "cannot create reports folder {}",
            opts.reports_dir.display()
        )
    })?;
    let report_path = opts.reports_dir.join(format!("{}.html", spec.name));
    let tmp = report_path.with_extension("html.tmp");
    fs::write(&tmp, html)?;
    fs::rename(&tmp, &report_path)?;
    Ok(RunOutcome {
        name: spec.name.clone(),
        metrics: BTreeMap::new(),
        stages: Vec::new(),
        history: Vec::new(),
        report: report_path,
        artifacts: BTreeMap::new(),
        params: summary.total_params,
        skipped_rows: 0,
        seconds: start.elapsed().as_secs_f64(),
    })
}
