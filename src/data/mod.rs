//! Reading examples: CSV, TSV, Parquet and JSONL files, built-in datasets,
//! seeded splits and targets.

/// Names of the built-in datasets a spec may give as `data.dataset`.
pub const BUILTIN_DATASETS: &[&str] = &["imdb", "druglib"];
pub mod fetch;
