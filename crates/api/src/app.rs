//! The HTTP server: binds, runs the routes and the background followers, and
//! shuts down gracefully (the order is in `shutdown.rs`).

use std::future::IntoFuture;
use std::net::SocketAddr;

use crate::cli::{Cli, ServeArgs};
use crate::followers::Running;
use crate::metrics;
use crate::router::{probes, router};
use crate::shutdown::{self, Shutdown, Signals};
use crate::state::AppState;

pub async fn serve(cli: &Cli, args: &ServeArgs) -> anyhow::Result<()> {
    let (state, followers) = AppState::build(cli, args).await?;
    metrics::spawn_upkeep(state.metrics.clone());
    let running = followers.spawn();
    let mut signals = Signals::listen();
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    let addr = listener.local_addr()?;
    let shutdown = state.shutdown.clone();
    let routes = if args.role.serves_api() {
        tracing::info!(%addr, role = args.role.as_str(), "listening on http://{addr}/graphql");
        router(state)
    } else {
        tracing::info!(%addr, "listening on http://{addr}/metrics (worker: probes and metrics only)");
        probes(state)
    };
    let stopping = shutdown.clone();
    let mut server = tokio::spawn(
        axum::serve(
            listener,
            routes.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move { stopping.stopping().await })
        .into_future(),
    );
    tokio::select! {
        _ = signals.next() => {}
        ended = &mut server => {
            running.stop().await;
            ended??;
            anyhow::bail!("the HTTP server stopped by itself");
        }
    }
    shutdown.drain();
    stop(args, &shutdown, server, running, &mut signals).await;
    tracing::info!("stopped");
    Ok(())
}

/// Everything after the signal: the drain, then requests, WebSockets and
/// followers within the grace period.
async fn stop(
    args: &ServeArgs,
    shutdown: &Shutdown,
    mut server: tokio::task::JoinHandle<std::io::Result<()>>,
    running: Running,
    signals: &mut Signals,
) {
    let grace = args.shutdown.grace();
    let mut running = Some(running);
    if !args.role.serves_api() {
        // No traffic to drain: hand the elections over first.
        tracing::info!("shutting down: stopping the followers");
        let deadline = tokio::time::Instant::now() + grace;
        if let Some(running) = running.take() {
            stop_followers(running, deadline).await;
        }
    } else {
        shutdown::drain_for(args.shutdown.drain(), signals).await;
    }
    let deadline = tokio::time::Instant::now() + grace;
    shutdown.stop();
    tracing::info!(
        websockets = shutdown.open_sockets(),
        "shutting down: not accepting; finishing requests in flight, closing WebSockets (1001)"
    );
    let finished = tokio::time::timeout_at(deadline, async {
        let _ = (&mut server).await;
        shutdown.sockets_closed().await;
    })
    .await;
    if finished.is_err() {
        server.abort();
        tracing::warn!(
            websockets = shutdown.open_sockets(),
            grace = ?grace,
            "the grace period is over: cutting the requests and WebSockets still open"
        );
    }
    if let Some(running) = running {
        stop_followers(running, deadline).await;
    }
}

async fn stop_followers(running: Running, deadline: tokio::time::Instant) {
    if tokio::time::timeout_at(deadline, running.stop())
        .await
        .is_err()
    {
        tracing::warn!("the grace period is over: leaving the followers still stopping (their next run redoes it from their checkpoints)");
    }
}
