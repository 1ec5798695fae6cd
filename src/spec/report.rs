//! `report:` settings: title, author, shown examples, explanations, the
//! author's notes and figures.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Report settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ReportSpec {
    /// Report title; the experiment name when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Author shown in the report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// How many test examples to show.
    pub examples: usize,
    /// "Why this prediction": explain the shown examples word by word (and,
    /// for a bag-of-n-gram model, list its strongest n-grams).
    #[serde(skip_serializing_if = "ExplainMode::is_auto")]
    pub explain: ExplainMode,
    /// A Markdown file (relative to the spec) with the author's discussion,
    /// put into the sealed report (raw HTML in it is shown as text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<PathBuf>,
    /// Also write each chart as a standalone SVG and PNG into
    /// `<reports-dir>/<name>-figures/`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub figures: bool,
}

impl Default for ReportSpec {
    fn default() -> Self {
        ReportSpec {
            title: None,
            author: None,
            examples: 5,
            explain: ExplainMode::Auto,
            notes: None,
            figures: false,
        }
    }
}

/// `report.explain`: `auto` (on when the test split has at most
/// [`ExplainMode::AUTO_MAX_TEST_ROWS`] rows), `true` or `false`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExplainMode {
    /// On for small test sets.
    #[default]
    Auto,
    /// Always on.
    On,
    /// Off.
    Off,
}

impl ExplainMode {
    /// Test splits up to this many rows are explained under `auto`.
    pub const AUTO_MAX_TEST_ROWS: usize = 5_000;

    /// Whether this is `auto` (the default, left out when the spec is written).
    pub fn is_auto(&self) -> bool {
        *self == ExplainMode::Auto
    }

    /// Whether to explain a run whose test split has `test_rows` rows.
    pub fn enabled(&self, test_rows: usize) -> bool {
        match self {
            ExplainMode::Auto => test_rows <= Self::AUTO_MAX_TEST_ROWS,
            ExplainMode::On => true,
            ExplainMode::Off => false,
        }
    }
}

impl Serialize for ExplainMode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ExplainMode::Auto => s.serialize_str("auto"),
            ExplainMode::On => s.serialize_bool(true),
            ExplainMode::Off => s.serialize_bool(false),
        }
    }
}

impl<'de> Deserialize<'de> for ExplainMode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Bool(bool),
            Text(String),
        }
        let invalid = || serde::de::Error::custom("expected `auto`, `true` or `false`");
        match Raw::deserialize(d).map_err(|_: D::Error| invalid())? {
            Raw::Bool(true) => Ok(ExplainMode::On),
            Raw::Bool(false) => Ok(ExplainMode::Off),
            Raw::Text(t) if t == "auto" => Ok(ExplainMode::Auto),
            Raw::Text(t) => Err(serde::de::Error::custom(format!(
                "`{t}` is not a valid value: expected `auto`, `true` or `false`"
            ))),
        }
    }
}
