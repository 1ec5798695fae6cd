//! Defaults that are not a field of the spec but belong with it: the
//! folders commands use when none is given, and the batch size of inference.

/// Folder for cached stage artifacts when `--cache-dir` is not given.
pub const DEFAULT_CACHE_DIR: &str = ".kerros/cache";
/// Folder reports are written to when `--reports-dir` is not given.
pub const DEFAULT_REPORTS_DIR: &str = "reports";
/// Examples per batch when a trained model is evaluated or predicts (no
/// gradients are kept, so batches can be larger than in training).
pub const EVALUATION_BATCH_SIZE: usize = 1024;
