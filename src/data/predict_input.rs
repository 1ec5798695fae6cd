//! Reading the texts of a file to label with `kerros predict --input` (and
//! the same columns as the spec's training data, so a student can pass the
//! test file itself).

use super::table::ColumnPlan;
use crate::spec::DataSpec;
use anyhow::{Context, Result};
use std::path::Path;

/// One row of a file to label: its id and its (joined) text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputText {
    /// The spec's `id_column` when the file has it, else an `id` column, else
    /// the 0-based row number.
    pub id: String,
    /// The text column, or the text columns joined as the data readers join
    /// them (blank cells left out).
    pub text: String,
}

/// Read every row of the CSV (or TSV, by extension `.tsv` / `.tab`) file
/// `input`.
///
/// The text is the spec's text column(s) (for `dataset: druglib` the three
/// review fields), or `text_columns` when not empty, joined with the spec's
/// separator leaving out blank cells. A missing column is an error listing
/// the file's columns; a malformed row names its line.
pub fn read_input_texts(
    input: &Path,
    data: &DataSpec,
    text_columns: &[String],
) -> Result<Vec<InputText>> {
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
    let mut rows = Vec::new();
    for (row, record) in reader.records().enumerate() {
        // Line numbers count the header line, 1-based.
        let record = record.with_context(|| format!("{}: line {}", input.display(), row + 2))?;
        let cell = |i: usize| record.get(i).unwrap_or("");
        let text = if text_idx.len() == 1 {
            cell(text_idx[0]).to_string()
        } else {
            let parts: Vec<&str> = text_idx.iter().map(|&i| cell(i)).collect();
            // Tagged with the spec's column names, as the model was trained.
            let tags = plan.field_tags && parts.len() == plan.text.len();
            super::join_fields(&plan.text, &parts, &plan.separator, tags)
        };
        let id = match id_idx {
            Some(i) => cell(i).trim().to_string(),
            None => row.to_string(),
        };
        rows.push(InputText { id, text });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(yaml: &str) -> DataSpec {
        serde_yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn joins_text_columns_and_reads_ids() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.csv");
        std::fs::write(&path, "id,a,b\n7,x,y\n8, ,z\n").unwrap();
        let data = spec("{train: t.csv, test: t.csv, text_columns: [a, b], text_separator: ' | '}");
        let rows = read_input_texts(&path, &data, &[]).unwrap();
        assert_eq!(
            rows,
            vec![
                InputText {
                    id: "7".into(),
                    text: "x | y".into()
                },
                InputText {
                    id: "8".into(),
                    text: "z".into()
                },
            ]
        );
    }

    #[test]
    fn missing_column_lists_the_columns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.tsv");
        std::fs::write(&path, "review\tlabel\nfine\tpos\n").unwrap();
        let data = spec("{train: t.csv, test: t.csv}");
        let err = format!("{:#}", read_input_texts(&path, &data, &[]).unwrap_err());
        assert!(err.contains("no text column `text`"), "{err}");
        assert!(err.contains("review, label"), "{err}");
        let rows = read_input_texts(&path, &data, &["review".to_string()]).unwrap();
        assert_eq!(rows[0].id, "0");
        assert_eq!(rows[0].text, "fine");
    }
}
