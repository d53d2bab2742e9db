//! The HTTP server: binds, runs the routes and the background followers, and
//! shuts down gracefully.

use std::net::SocketAddr;

use crate::cli::{Cli, ServeArgs};
use crate::metrics;
use crate::router::router;
use crate::state::AppState;

pub async fn serve(cli: &Cli, args: &ServeArgs) -> anyhow::Result<()> {
    let (state, followers) = AppState::build(cli, args).await?;
    metrics::spawn_upkeep(state.metrics.clone());
    let running = followers.spawn();
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "listening on http://{addr}/graphql");
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(crate::shutdown::signal())
    .await?;
    running.stop().await;
    tracing::info!("stopped");
    Ok(())
}
