//! The comparison page: a [`Comparison`] laid out to fit the screen.

use super::compare::{curve, setting_text, setting_value, Comparison, LAYERS};
use super::{line_chart, Series, PALETTE};
use anyhow::Result;
use serde::Serialize;
use serde_json::Value;

impl Comparison {
    /// A self-contained HTML page (the `compare.html` template), laid out to
    /// fit the screen: per run its name, then the metrics (validation, then
    /// test, as two labelled groups), its layer stack as one line (when the
    /// stacks differ), and only the settings in which it differs from the
    /// baseline run (the baseline lists its own values of those settings);
    /// then validation accuracy and validation loss by epoch, one coloured
    /// line per run drawn with the report's line chart. All text is escaped
    /// by the template.
    pub fn html(&self) -> Result<String> {
        let (header, rows, numeric) = self.grid();
        let first_metric = 1 + self.settings.len();
        let mcnemar_column = self.mcnemar.as_ref().map(|_| header.len() - 1);
        let header: Vec<PageHeader> = header
            .iter()
            .zip(&numeric)
            .enumerate()
            .skip(first_metric)
            .map(|(i, (label, &numeric))| match mcnemar_column == Some(i) {
                // The page names the baseline once; a long run name in the
                // header would widen the table past the screen.
                true => PageHeader {
                    label: "McNemar p".into(),
                    numeric,
                    title: Some(label.clone()),
                },
                // The column group says `test` already.
                false => PageHeader {
                    label: label.strip_prefix("test:").unwrap_or(label).to_string(),
                    numeric,
                    title: None,
                },
            })
            .collect();
        let baseline = self.records.get(self.baseline);
        let baseline_values: Vec<Option<Value>> = self
            .settings
            .iter()
            .map(|p| baseline.and_then(|b| setting_value(b, p)))
            .collect();
        let stacks: Vec<String> = self
            .records
            .iter()
            .map(|r| super::layer_stack::stack_summary(&r.spec))
            .collect();
        let show_models = stacks.iter().any(|s| Some(s) != stacks.first());
        let rows: Vec<PageRow> = rows
            .into_iter()
            .zip(&self.records)
            .zip(&stacks)
            .enumerate()
            .map(|(i, ((row, record), stack))| {
                let is_baseline = i == self.baseline;
                let settings = self
                    .settings
                    .iter()
                    .zip(&self.setting_labels)
                    .zip(&baseline_values)
                    .filter_map(|((path, label), base)| {
                        if path == LAYERS {
                            return None;
                        }
                        let value = setting_value(record, path);
                        (is_baseline || value != *base).then(|| PageSetting {
                            label: label.clone(),
                            path: path.clone(),
                            value: value.map_or("-".to_string(), |v| setting_text(&v)),
                        })
                    })
                    .collect();
                PageRow {
                    name: row[0].clone(),
                    color: PALETTE[i % PALETTE.len()],
                    baseline: is_baseline,
                    cells: row[first_metric..]
                        .iter()
                        .zip(&numeric[first_metric..])
                        .map(|(text, &numeric)| PageCell {
                            text: text.clone(),
                            numeric,
                        })
                        .collect(),
                    model: show_models.then(|| stack.clone()),
                    settings,
                }
            })
            .collect();
        let charts: Vec<String> = [
            ("val_accuracy", "Validation accuracy"),
            ("val_loss", "Validation loss"),
        ]
        .into_iter()
        .map(|(key, title)| {
            let series: Vec<Series> = self
                .records
                .iter()
                .map(|r| Series {
                    name: r.name.clone(),
                    points: curve(&r.history, key),
                })
                .collect();
            line_chart(title, "epoch", key, &series)
        })
        .collect();
        let groups = vec![
            PageGroup {
                label: "validation".into(),
                span: self.validation_metrics.len(),
            },
            PageGroup {
                label: "test".into(),
                span: self.metrics.len(),
            },
            PageGroup {
                label: "vs baseline".into(),
                span: usize::from(self.mcnemar.is_some()),
            },
        ]
        .into_iter()
        .filter(|g| g.span > 0)
        .collect();
        let page = Page {
            groups,
            runs: self.records.len(),
            sorted_by: self.sorted_by.as_ref().map(|(by, _)| by.clone()),
            descending: self.sorted_by.as_ref().is_some_and(|(_, d)| *d),
            baseline: baseline.map(|b| b.name.clone()).unwrap_or_default(),
            show_models,
            show_settings: self.settings.iter().any(|p| p != LAYERS),
            header,
            rows,
            charts,
        };
        let mut tera = tera::Tera::default();
        tera.add_raw_template(TEMPLATE_NAME, TEMPLATE)?;
        tera.autoescape_on(vec![".html"]);
        let html = tera.render(TEMPLATE_NAME, &tera::Context::from_serialize(&page)?)?;
        // Inline SVG needs no namespace; without it the page holds no URL at all.
        Ok(html.replace(" xmlns=\"http://www.w3.org/2000/svg\"", ""))
    }
}

/// The comparison page's layout; `.html` so tera autoescapes it.
const TEMPLATE: &str = include_str!("templates/compare.html");
const TEMPLATE_NAME: &str = "compare.html";

/// What the comparison template shows.
#[derive(Serialize)]
struct Page {
    /// Column groups over the header: run and settings, validation, test.
    groups: Vec<PageGroup>,
    runs: usize,
    sorted_by: Option<String>,
    descending: bool,
    /// The run whose settings the others are compared with.
    baseline: String,
    /// The layer stacks differ, so each row shows its own.
    show_models: bool,
    /// Some setting other than the layer stack differs.
    show_settings: bool,
    /// Headers of the metric columns.
    header: Vec<PageHeader>,
    rows: Vec<PageRow>,
    /// Inline SVG charts, drawn (and escaped) by the chart code.
    charts: Vec<String>,
}

/// A labelled group of `span` adjacent columns.
#[derive(Serialize)]
struct PageGroup {
    label: String,
    span: usize,
}

/// One column header; `title` is the full dotted path of a setting column.
#[derive(Serialize)]
struct PageHeader {
    label: String,
    numeric: bool,
    title: Option<String>,
}

/// One run's row: its name with its curve colour, its metric cells, its
/// layer stack and the settings in which it differs from the baseline.
#[derive(Serialize)]
struct PageRow {
    name: String,
    color: &'static str,
    baseline: bool,
    cells: Vec<PageCell>,
    model: Option<String>,
    settings: Vec<PageSetting>,
}

/// One setting of a run: short label, full dotted path, value.
#[derive(Serialize)]
struct PageSetting {
    label: String,
    path: String,
    value: String,
}

/// One table cell after the name.
#[derive(Serialize)]
struct PageCell {
    text: String,
    numeric: bool,
}

#[cfg(test)]
mod tests {
    use super::super::record::RunRecord;
    use super::*;
    use serde_json::json;

    fn run(name: &str, lr: f64, layers: Value, title: &str) -> RunRecord {
        RunRecord {
            name: name.into(),
            spec: json!({"name": name, "model": {"layers": layers},
                "report": {"title": title, "examples": 5},
                "train": {"epochs": 3, "optimizer": {"learning_rate": lr}}}),
            metrics: serde_json::from_value(json!({"accuracy": 0.8})).unwrap(),
            validation: Default::default(),
            hints: vec![],
            history: vec![],
            report: None,
            predictions: None,
        }
    }

    fn runs() -> Vec<RunRecord> {
        let seq = json!([{"embedding": {"input_dim": 100, "output_dim": 8}}, "flatten", {"dense": {"units": 1}}]);
        let rnn = json!([{"embedding": {"input_dim": 100, "output_dim": 8}}, {"simple_rnn": {"units": 4}}, {"dense": {"units": 1}}]);
        vec![
            run("base", 0.001, seq.clone(), "A"),
            run("faster", 0.01, seq, "B"),
            run("rnn", 0.001, rnn, "C"),
        ]
    }

    #[test]
    fn rows_show_stacks_and_only_differences_from_the_baseline() {
        let c = Comparison::new(&runs(), &[], None, true).unwrap();
        assert_eq!(c.settings, [LAYERS, "train.optimizer.learning_rate"]);
        let h = c.html().unwrap();
        assert!(!h.contains("report.") && !h.contains("examples"), "{h}");
        assert!(h.contains("Embedding(100,8) → SimpleRNN(4) → Dense(1)"));
        // The metric columns come before the model and settings columns.
        let (acc, model) = (h.find(">accuracy<").unwrap(), h.find(">model<").unwrap());
        assert!(acc < model);
        // base lists its own value; faster its learning rate; rnn nothing but its stack.
        let row = |name: &str| {
            let at = h.find(&format!("</span>{name}<")).unwrap();
            h[at..at + h[at..].find("</tr>").unwrap()].to_string()
        };
        assert!(row("base").contains("baseline") && row("base").contains("<code>0.001</code>"));
        assert!(row("faster").contains("<code>0.01</code>"));
        assert!(
            row("rnn").contains("same as the baseline"),
            "{}",
            row("rnn")
        );
    }

    #[test]
    fn a_chosen_baseline_changes_what_differs() {
        let mut c = Comparison::new(&runs(), &[], None, true).unwrap();
        c.set_baseline("faster").unwrap();
        let h = c.html().unwrap();
        let at = h.find("</span>rnn<").unwrap();
        let rnn = &h[at..at + h[at..].find("</tr>").unwrap()];
        assert!(rnn.contains("<code>0.001</code>"), "{rnn}");
        let e = c.set_baseline("fastr").unwrap_err().to_string();
        assert!(
            e.contains("did you mean `faster`") && e.contains("base, faster, rnn"),
            "{e}"
        );
    }
}
