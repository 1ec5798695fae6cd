//! Rows as read from a file, and how a spec's column names map onto a file's header.

use super::error::{DataError, DataErrorKind, Result};
use super::options::ReadOptions;
use crate::spec::{BadRows, DataSpec};
use std::collections::BTreeMap;
use std::path::Path;

/// One example as read from a file, before targets are assigned.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The id column's value, or the 0-based data row number when there is no id column.
    pub id: i64,
    /// The text (text columns joined, see [`ColumnPlan::text`]).
    pub text: String,
    /// The label cell, trimmed; never empty.
    pub label: String,
    /// Other columns kept for exploration in the report (column name → cell).
    pub extra: BTreeMap<String, String>,
}

/// Most columns besides text, label and id kept per file as extras (for the
/// report's exploration); later ones are not read at all, so a very wide file
/// costs memory for the columns used only.
pub const MAX_EXTRA_COLUMNS: usize = 64;

/// All rows of one file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    /// The rows in file order.
    pub rows: Vec<Row>,
    /// Malformed rows skipped under `on_bad_rows: skip`, counted as the rows
    /// they span: a record that a stray quote ran over several lines counts
    /// each line it swallowed.
    pub skipped: usize,
    /// The file's column names (after built-in renames).
    pub columns: Vec<String>,
    /// The first malformed row skipped (file and line), for messages.
    pub first_bad: Option<DataError>,
}

impl Table {
    /// Count `rows` skipped rows because of `problem` (kept when it is the first).
    pub(crate) fn skip(&mut self, problem: DataError, rows: usize) {
        self.skipped += rows;
        self.first_bad.get_or_insert(problem);
    }
}

/// Where a row's id comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum IdSource {
    /// A named integer column.
    Column(String),
    /// The column at this 0-based position, whatever its header says.
    Position(usize),
    /// The 0-based data row number (counting skipped rows too, so ids are stable).
    RowNumber,
}

/// The columns to read, resolved from a [`DataSpec`] and built-in dataset defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnPlan {
    /// Text columns; several are joined with `separator`, leaving out empty and
    /// blank cells (so no doubled separators). One column is taken as is, even when empty.
    pub text: Vec<String>,
    /// Placed between joined text cells.
    pub separator: String,
    /// The label column; empty for a file of unlabelled texts (no label read).
    pub label: String,
    /// Where ids come from.
    pub id: IdSource,
    /// Header names replaced by position before lookup (a built-in dataset whose
    /// files disagree on a header).
    pub renames: Vec<(usize, String)>,
    /// Other accepted spellings of a column name: (alias, canonical).
    pub aliases: Vec<(String, String)>,
    /// Stop at or skip malformed rows.
    pub on_bad_rows: BadRows,
    /// How text files are parsed (header, encoding, delimiter, quote).
    pub options: ReadOptions,
    /// `data.weight_column`: per-example weights, checked while reading (a
    /// number ≥ 0) and kept among the row's extras under this name.
    pub weight: Option<String>,
    /// `data.field_tags`: tag each word with its text column (several columns only).
    pub field_tags: bool,
}

/// Druglib's three free-text review fields, the default text for `dataset: druglib`.
pub const DRUGLIB_TEXT_COLUMNS: [&str; 3] =
    ["benefitsReview", "sideEffectsReview", "commentsReview"];

impl ColumnPlan {
    /// The plan for a spec's data section.
    ///
    /// Built-in defaults: `imdb` takes its ids from `id`. `druglib` takes ids from
    /// the first column, names the second column `urlDrugName` in both files (the
    /// train file's header says `DrugName`, the test file's `urlDrugName`; both
    /// spellings are accepted), and when the spec keeps the default `text` / `label`
    /// columns it reads the three review fields joined and the `rating` label.
    /// `drugscom` takes ids from the first column (named `num`) and by default
    /// reads the `review` text and the `rating` label.
    pub fn from_spec(data: &DataSpec) -> ColumnPlan {
        let mut text = if data.text_columns.is_empty() {
            vec![data.text_column.clone()]
        } else {
            data.text_columns.clone()
        };
        let mut label = data.label_column.clone();
        let mut id = match &data.id_column {
            Some(c) => IdSource::Column(c.clone()),
            None => IdSource::RowNumber,
        };
        let mut renames = Vec::new();
        let mut aliases = Vec::new();
        match data.dataset.as_deref() {
            Some("imdb") if data.id_column.is_none() => {
                id = IdSource::Column("id".into());
            }
            Some("druglib") => {
                renames = vec![(0, "num".to_string()), (1, "urlDrugName".to_string())];
                aliases = vec![
                    ("DrugName".to_string(), "urlDrugName".to_string()),
                    ("drugName".to_string(), "urlDrugName".to_string()),
                ];
                if data.id_column.is_none() {
                    id = IdSource::Position(0);
                }
                if data.text_columns.is_empty() && data.text_column == "text" {
                    text = DRUGLIB_TEXT_COLUMNS.iter().map(|s| s.to_string()).collect();
                }
                if data.label_column == "label" {
                    label = "rating".into();
                }
            }
            Some("drugscom") => {
                // The first column (the review's number) has an empty header.
                renames = vec![(0, "num".to_string())];
                if data.id_column.is_none() {
                    id = IdSource::Position(0);
                }
                if data.text_columns.is_empty() && data.text_column == "text" {
                    text = vec!["review".into()];
                }
                if data.label_column == "label" {
                    label = "rating".into();
                }
            }
            _ => {}
        }
        ColumnPlan {
            text,
            separator: data.text_separator.clone(),
            label,
            id,
            renames,
            aliases,
            on_bad_rows: data.on_bad_rows,
            options: ReadOptions::from_spec(data),
            weight: data.weight_column.clone(),
            field_tags: data.field_tags,
        }
    }

    /// Apply the positional renames to a file's header.
    pub fn rename_header(&self, header: &mut [String]) {
        for (pos, name) in &self.renames {
            if let Some(h) = header.get_mut(*pos) {
                *h = name.clone();
            }
        }
    }

    /// Map the plan's column names to positions in `header` (already renamed).
    /// `keep_extra` says which other columns to keep as extras.
    pub(crate) fn resolve(
        &self,
        header: &[String],
        file: &Path,
        keep_extra: impl Fn(usize) -> bool,
    ) -> Result<Resolved> {
        let text = self
            .text
            .iter()
            .map(|c| self.find(header, c, file))
            .collect::<Result<Vec<_>>>()?;
        let label = if self.label.is_empty() {
            None
        } else {
            Some(self.find(header, &self.label, file)?)
        };
        let id = match &self.id {
            IdSource::Column(c) => Some(self.find(header, c, file)?),
            IdSource::Position(p) if *p < header.len() => Some(*p),
            IdSource::Position(p) => {
                return Err(DataError::in_file(
                    DataErrorKind::MissingColumn,
                    file,
                    format!(
                        "the id is read from column {} but the file has only {} columns: {}",
                        p + 1,
                        header.len(),
                        header.join(", ")
                    ),
                ))
            }
            IdSource::RowNumber => None,
        };
        let mut extra: Vec<(usize, String)> = (0..header.len())
            .filter(|i| !text.contains(i) && Some(*i) != label && Some(*i) != id && keep_extra(*i))
            .take(MAX_EXTRA_COLUMNS)
            .map(|i| (i, header[i].clone()))
            .collect();
        // The weight column may be missing from a file that is not trained
        // on (the training split's rows are checked for it when prepared).
        let weight = self
            .weight
            .as_ref()
            .and_then(|w| header.iter().position(|h| h == w));
        if let Some(w) = weight {
            if text.contains(&w) || Some(w) == label || Some(w) == id {
                return Err(DataError::in_file(
                    DataErrorKind::Spec,
                    file,
                    format!(
                        "`data.weight_column` `{}` is also read as text, label or id; weights need a column of their own",
                        header[w]
                    ),
                ));
            }
            if !extra.iter().any(|(i, _)| *i == w) {
                extra.push((w, header[w].clone()));
                extra.sort_unstable();
            }
        }
        Ok(Resolved {
            text,
            label,
            id,
            extra,
            weight,
            names: header.to_vec(),
            tags: (self.field_tags && self.text.len() > 1).then(|| self.text.clone()),
        })
    }

    /// Position of `name` (or its canonical spelling) in `header`.
    fn find(&self, header: &[String], name: &str, file: &Path) -> Result<usize> {
        let canonical = self
            .aliases
            .iter()
            .find(|(a, _)| a == name)
            .map(|(_, c)| c.as_str())
            .unwrap_or(name);
        if let Some(i) = header.iter().position(|h| h == canonical) {
            return Ok(i);
        }
        Err(missing_column(name, header, file, None))
    }
}

/// An example weight cell: a finite number ≥ 0, or `None`.
pub fn parse_weight(cell: &str) -> Option<f32> {
    cell.trim()
        .parse::<f32>()
        .ok()
        .filter(|w| w.is_finite() && *w >= 0.0)
}

/// The "column not found" error, with the columns there are and the nearest name.
pub(crate) fn missing_column(
    name: &str,
    header: &[String],
    file: &Path,
    line: Option<u64>,
) -> DataError {
    let file_name = file
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.display().to_string());
    let mut msg = format!(
        "column `{name}` not found in {file_name}; columns are: {}",
        header.join(", ")
    );
    if let Some(d) = other_delimiter(name, header) {
        let shown = if d == '\t' {
            "\\t".to_string()
        } else {
            d.to_string()
        };
        msg.push_str(&format!(
            " (the header looks split by `{shown}`: set `data.delimiter: \"{shown}\"`)"
        ));
    } else if let Some(near) = nearest(name, header) {
        msg.push_str(&format!(" (did you mean `{near}`?)"));
    }
    let mut e = DataError::in_file(DataErrorKind::MissingColumn, file, msg).at_column(name);
    e.line = line;
    e
}

/// The delimiter a one-column header was probably written with, when
/// splitting it by that character yields the column looked for (`text;label`
/// read as CSV).
fn other_delimiter(name: &str, header: &[String]) -> Option<char> {
    let [only] = header else { return None };
    [';', '\t', '|', ',']
        .into_iter()
        .find(|d| only.contains(*d) && only.split(*d).any(|c| c.trim() == name))
}

/// The closest name by Jaro-Winkler similarity, when it is close enough to be a likely typo.
fn nearest<'a>(name: &str, candidates: &'a [String]) -> Option<&'a str> {
    let lower = name.to_lowercase();
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(&lower, &c.to_lowercase()), c))
        .filter(|(s, _)| *s >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.as_str())
}

/// A [`ColumnPlan`] mapped onto one file's header.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    /// Positions of the text columns.
    pub text: Vec<usize>,
    /// Position of the label column; `None` for unlabelled texts.
    pub label: Option<usize>,
    /// Position of the id column; row numbers when `None`.
    pub id: Option<usize>,
    /// Extra columns kept: (position, name).
    pub extra: Vec<(usize, String)>,
    /// Position of the weight column (`data.weight_column`), when the file has it.
    pub weight: Option<usize>,
    /// The header.
    pub names: Vec<String>,
    /// With `data.field_tags` and several text columns: their names, which
    /// tag each word ([`super::join_fields`]).
    pub tags: Option<Vec<String>>,
}

/// Why a row could not be built: the column and what was wrong.
pub(crate) struct CellProblem {
    /// The column concerned.
    pub column: String,
    /// What was expected.
    pub message: String,
}

impl Resolved {
    /// Whether column `i` is read as text, label or id (not merely kept as an extra).
    pub fn is_needed(&self, i: usize) -> bool {
        self.text.contains(&i) || self.label == Some(i) || self.id == Some(i)
    }

    /// The columns read at all (text, label, id and kept extras), ascending.
    pub fn used(&self) -> Vec<usize> {
        let mut used = self.text.clone();
        used.extend(self.label);
        used.extend(self.id);
        used.extend(self.extra.iter().map(|(i, _)| *i));
        used.sort_unstable();
        used.dedup();
        used
    }

    /// Build a row from its cells, `cell(i)` giving column `i` (indexed like
    /// the header; only [`Resolved::used`] columns are asked for). `index` is
    /// the 0-based data row number, used as the id when there is no id column.
    pub fn build_row<'c>(
        &self,
        cell: impl Fn(usize) -> &'c str,
        index: usize,
        separator: &str,
    ) -> std::result::Result<Row, CellProblem> {
        let label = match self.label {
            Some(l) => {
                let label = cell(l).trim();
                if label.is_empty() {
                    return Err(CellProblem {
                        column: self.names[l].clone(),
                        message: "empty label; every row needs a label".into(),
                    });
                }
                label
            }
            None => "",
        };
        let id = match self.id {
            None => index as i64,
            Some(i) => {
                let raw = cell(i).trim();
                raw.parse::<i64>().map_err(|_| CellProblem {
                    column: self.names[i].clone(),
                    message: format!("expected an integer id, found `{raw}`"),
                })?
            }
        };
        let text = if self.text.len() == 1 {
            cell(self.text[0]).to_string()
        } else {
            let parts: Vec<&str> = self.text.iter().map(|&i| cell(i)).collect();
            match &self.tags {
                Some(columns) => super::join_fields(columns, &parts, separator, true),
                None => super::join_fields(&[], &parts, separator, false),
            }
        };
        if let Some(w) = self.weight {
            let raw = cell(w).trim();
            if parse_weight(raw).is_none() {
                return Err(CellProblem {
                    column: self.names[w].clone(),
                    message: format!(
                        "expected an example weight (a finite number ≥ 0, `data.weight_column`), found `{raw}`"
                    ),
                });
            }
        }
        let extra = self
            .extra
            .iter()
            .map(|(i, name)| (name.clone(), cell(*i).to_string()))
            .collect();
        Ok(Row {
            id,
            text,
            label: label.to_string(),
            extra,
        })
    }
}
