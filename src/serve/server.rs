//! Starting and stopping the server: bind, say where, serve until SIGINT or
//! SIGTERM, then let requests in flight finish.

use super::limits::Limits;
use super::model::ServedModel;
use super::router::router;
use crate::pipeline::RunOptions;
use anyhow::{Context, Result};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

/// Everything `kerros serve` was asked to do.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The spec whose model is served.
    pub spec: PathBuf,
    /// The variant of a `matrix:` spec.
    pub variant: Option<String>,
    /// Address to bind (127.0.0.1 unless told otherwise).
    pub host: IpAddr,
    /// Port; 0 picks a free one.
    pub port: u16,
    /// Data, cache and report folders for the run that loads the model.
    pub run: RunOptions,
    /// Request limits.
    pub limits: Limits,
}

/// Load the model, then serve until SIGINT or SIGTERM. Prints
/// `listening on http://ADDR` on stderr once the socket is bound.
pub fn serve(options: ServeOptions) -> Result<()> {
    let model = Arc::new(ServedModel::open(
        &options.spec,
        options.variant.as_deref(),
        &options.run,
    )?);
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores)
        .enable_io()
        .enable_time()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run(model, options, cores))
}

async fn run(model: Arc<ServedModel>, options: ServeOptions, workers: usize) -> Result<()> {
    let address = SocketAddr::new(options.host, options.port);
    if !is_local(options.host) {
        eprintln!(
            "warning: binding {address}, which other machines may reach: anyone who can \
             connect can use the model (bind 127.0.0.1, the default, to keep it local)"
        );
    }
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address}"))?;
    let bound = listener
        .local_addr()
        .context("cannot read the bound address")?;
    let app = router(model, options.limits, workers);
    eprintln!("listening on http://{bound}");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("the server failed")?;
    eprintln!("stopped");
    Ok(())
}

/// Loopback addresses only reach this machine.
pub fn is_local(ip: IpAddr) -> bool {
    ip.is_loopback()
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => eprintln!("interrupted; finishing requests in flight"),
        _ = terminate => eprintln!("terminated; finishing requests in flight"),
    }
}
