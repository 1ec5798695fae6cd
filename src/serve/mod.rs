//! `kerros serve`: a local web page and JSON API around an experiment's
//! trained model.
//!
//! The model is loaded once ([`model::ServedModel`], training it first when
//! the cache has none) and shared by every request; predictions run on
//! tokio's blocking pool, concurrent API requests merged into one batch
//! ([`batcher`]). The page (`GET /`) has one text box per text column of the
//! spec and works without JavaScript: a form POST renders the prediction,
//! the class probabilities and the words that drove it (occlusion,
//! [`crate::pipeline::explain`]). Safe by default: loopback address, body,
//! row and time limits ([`limits`]), a Content-Security-Policy that allows
//! nothing external ([`security`]), and an access log without texts
//! ([`access_log`]).
//!
//! - [`server`]: bind, serve, graceful shutdown on SIGINT / SIGTERM.
//! - [`router`]: the routes and their handlers.
//! - [`api`]: the JSON requests, answers and errors.
//! - [`page`]: the HTML page (tera template, the reports' stylesheet).
//! - [`variant`]: which experiment of a `matrix:` spec is served.

pub mod access_log;
pub mod api;
pub mod batcher;
pub mod limits;
pub mod model;
pub mod page;
pub mod router;
pub mod security;
pub mod server;
pub mod variant;

pub use limits::Limits;
pub use server::{serve, ServeOptions};
