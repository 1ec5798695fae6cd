//! kerros turns a YAML experiment spec into a trained text classifier, its
//! metrics and a self-contained HTML report.
//!
//! The modules follow the pipeline: [`spec`] → [`data`] → [`text`] →
//! [`model`] → [`train`] → [`metrics`] → [`report`], with [`cache`] and
//! [`cli`] at the edges and [`pipeline`] running the stages.

pub mod cache;
pub mod cli;
pub mod data;
pub mod metrics;
pub mod model;
pub mod pipeline;
pub mod report;
pub mod serve;
mod simd;
pub mod spec;
pub mod text;
pub mod train;
