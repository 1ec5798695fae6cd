//! kerros's integration tests, in one test binary.
//!
//! Each file of this folder was its own test binary (`tests/NAME.rs`). Every
//! one of them linked the whole kerros library and its dependencies
//! statically: 43 binaries took about 168 CPU-seconds of each build (README,
//! Quick start); one binary links once. A file's tests are still selected by
//! their module path: `cargo test --release fetch_zip::`.
//!
//! Sharing one process means sharing its environment, current directory and
//! globals: a test here must not change any of them (a variable a spawned
//! `kerros` needs goes to it through `Command::env`, as in `fetch_zip.rs`),
//! and must use its own temporary folders and ports (port 0).

mod fetch_support;
mod support;

mod cache_concurrency;
mod cli_commands;
mod controls_model;
mod controls_train;
mod data_options;
mod data_prepare;
mod data_readers;
mod data_test_split;
mod doc_vectors;
mod drug_explore;
mod drug_pipeline;
mod drug_score;
mod ensemble;
mod fetch_imdb;
mod fetch_real;
mod fetch_zip;
mod grade_assignment;
mod metrics_classification;
mod metrics_regression;
mod pipeline_run;
mod remote_cache;
mod remote_cache_examples;
mod report_browser;
mod report_extras;
mod report_ordinal;
mod report_render;
mod rnn_gradients;
mod rnn_layers;
mod serve_http;
mod sparse_model;
mod sparse_train;
mod spec_bounds;
mod spec_show;
mod task_positive_weights;
mod text_imdb;
mod verify_render;
mod workflow_compare;
mod workflow_cv;
mod workflow_cv_metrics;
mod workflow_decision;
mod workflow_gates;
mod workflow_init;
mod workflow_select;
mod workflow_sweep;
