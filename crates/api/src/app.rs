//! The HTTP server: binds, runs the routes and the background followers, and
//! shuts down gracefully.

use std::net::SocketAddr;

use crate::cli::{Cli, ServeArgs};
use crate::metrics;
use crate::router::{probes, router};
use crate::state::AppState;

pub async fn serve(cli: &Cli, args: &ServeArgs) -> anyhow::Result<()> {
    let (state, followers) = AppState::build(cli, args).await?;
    metrics::spawn_upkeep(state.metrics.clone());
    let running = followers.spawn();
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    let addr = listener.local_addr()?;
    let routes = if args.role.serves_api() {
        tracing::info!(%addr, role = args.role.as_str(), "listening on http://{addr}/graphql");
        router(state)
    } else {
        tracing::info!(%addr, "listening on http://{addr}/metrics (worker: probes and metrics only)");
        probes(state)
    };
    axum::serve(
        listener,
        routes.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(crate::shutdown::signal())
    .await?;
    running.stop().await;
    tracing::info!("stopped");
    Ok(())
}
