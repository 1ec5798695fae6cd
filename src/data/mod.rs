//! Reading examples: CSV, TSV, Parquet and JSONL files, built-in datasets,
//! seeded splits and targets.
//!
//! The flow: [`data_dir`] and [`resolve_sources`] find the files,
//! [`read_sources`] (or [`read_table`]) reads them into [`Table`]s with the
//! columns a [`ColumnPlan`] names, and [`prepare`] applies `limit`, the
//! validation split, text cleaning and targets to give [`Prepared`] examples.
//! [`write_items`] / [`read_items`] store examples as Parquet artifacts.

mod artifact;
mod clean;
mod decode;
mod delimited;
mod error;
mod export;
mod fields;
pub mod html;
mod jsonl;
mod options;
mod parquet_table;
mod predict_input;
mod prepare;
mod read;
mod skipped;
mod source;
mod split;
mod table;
mod unlabelled;

pub use artifact::{read_item_chunks, read_items, write_items};
pub use clean::clean_text;
pub use decode::DecodingReader;
pub use delimited::{read_delimited, read_delimited_bytes};
pub use error::{DataError, DataErrorKind, Result};
pub use export::{export_items, ExportFormat};
pub use fields::{join_fields, tag_words, TAG_MARK};
pub use jsonl::{read_jsonl, read_jsonl_bytes};
pub use options::{ReadOptions, MAX_BAD_FRACTION};
pub use parquet_table::read_parquet;
pub use predict_input::{read_input_texts, InputText};
pub use prepare::{fold_assignment, infer_classes, prepare, Item, Prepared};
pub use read::{read_sources, read_sources_each, read_table, Tables};
pub use skipped::{
    check_not_empty, check_not_empty_counts, check_skipped, check_skipped_counts, FileRows,
    SkippedRows,
};
pub use source::{
    builtin_files, data_dir, data_dir_from, format_from_extension, resolve_sources, DataDirSource,
    Source, Sources, DATA_DIR_ENV,
};
pub use split::{
    approximate_mode, limit_rows, seeded_rng, stratified_folds, stratified_split,
    stratified_split_for, Stream,
};
pub use table::{
    parse_weight, ColumnPlan, IdSource, Row, Table, DRUGLIB_TEXT_COLUMNS, MAX_EXTRA_COLUMNS,
};

/// Revision of how the readers parse files and count skipped rows; part of
/// the load stage's cache key, so a change re-reads the data.
pub const READER_REVISION: u32 = 2;

/// Names of the built-in datasets a spec may give as `data.dataset` (the
/// spec owns the list, so validating a spec needs nothing from `data`).
pub use crate::spec::BUILTIN_DATASETS;
pub use unlabelled::{builtin_unlabelled, read_unlabelled_texts, resolve_unlabelled};
pub mod fetch;
