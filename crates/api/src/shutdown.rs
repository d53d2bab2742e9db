//! Graceful shutdown on SIGTERM (or Ctrl-C), in the order a rolling restart
//! behind a load balancer needs (docs/operations.md, "Rolling restarts"):
//!
//! 1. `/readyz` answers 503 (`draining`) at once, and the process keeps
//!    serving for the drain delay, so the balancer's health check takes it out
//!    of rotation before anything is refused. Responses meanwhile carry
//!    `Connection: close`, so clients' kept-alive connections move on too.
//! 2. Then it stops accepting connections, finishes the requests in flight and
//!    closes every WebSocket with 1001 (Going Away): subscribers reconnect
//!    (to another process) and resume after the last position they saw.
//! 3. The followers stop, giving up their elections, and the process exits 0.
//!
//! Requests, WebSocket closes and followers together get the grace period after
//! the drain; whatever is still running then is cut (the followers redo it from
//! their checkpoints). A worker answers no traffic: it skips the drain and
//! stops its followers first, so the other worker is elected at once.
//! A second signal during the drain cuts the drain short.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

/// `aduan serve`'s shutdown timing.
#[derive(Debug, Clone, clap::Args)]
pub struct ShutdownArgs {
    /// After SIGTERM, how long the process goes on serving while `/readyz`
    /// answers 503, before it stops accepting connections: longer than the
    /// load balancer takes to notice (check interval x failures to mark a
    /// server down). Workers skip it.
    #[arg(long, env = "ADUAN_SHUTDOWN_DRAIN_MS", default_value_t = 5_000)]
    pub shutdown_drain_ms: u64,
    /// Then how long the requests in flight, the WebSocket closes and the
    /// followers' stop may take before the process exits anyway. Give the
    /// orchestrator's kill timeout more than drain + grace.
    #[arg(long, env = "ADUAN_SHUTDOWN_GRACE_MS", default_value_t = 20_000)]
    pub shutdown_grace_ms: u64,
}

impl ShutdownArgs {
    pub fn drain(&self) -> Duration {
        Duration::from_millis(self.shutdown_drain_ms)
    }

    pub fn grace(&self) -> Duration {
        Duration::from_millis(self.shutdown_grace_ms)
    }
}

/// Where the process is in its shutdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    Serving,
    /// Not ready, still serving.
    Draining,
    /// Not accepting; WebSockets closing, requests in flight finishing.
    Stopping,
}

/// The shutdown's phase, shared by the routes (readiness), the WebSocket
/// connections (which close on `Stopping`) and `serve`, which moves it on and
/// waits for the sockets.
#[derive(Debug, Clone)]
pub struct Shutdown {
    phase: Arc<watch::Sender<Phase>>,
    sockets: Arc<watch::Sender<usize>>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown {
            phase: Arc::new(watch::channel(Phase::Serving).0),
            sockets: Arc::new(watch::channel(0).0),
        }
    }
}

impl Shutdown {
    pub fn phase(&self) -> Phase {
        *self.phase.borrow()
    }

    /// Not ready from now on (`/readyz` 503); everything else is served as before.
    pub fn drain(&self) {
        self.advance(Phase::Draining);
    }

    /// The drain is over: stop accepting, close the WebSockets.
    pub fn stop(&self) {
        self.advance(Phase::Stopping);
    }

    fn advance(&self, to: Phase) {
        self.phase.send_if_modified(|phase| {
            let later = to > *phase;
            if later {
                *phase = to;
            }
            later
        });
    }

    /// Resolves once `stop` was called (at once if it was already).
    pub async fn stopping(&self) {
        let mut phase = self.phase.subscribe();
        let _ = phase.wait_for(|p| *p == Phase::Stopping).await;
    }

    /// Counts an open WebSocket until the guard drops.
    pub fn socket(&self) -> OpenSocket {
        self.sockets.send_modify(|n| *n += 1);
        OpenSocket(self.sockets.clone())
    }

    pub fn open_sockets(&self) -> usize {
        *self.sockets.borrow()
    }

    /// Resolves when no WebSocket is open.
    pub async fn sockets_closed(&self) {
        let mut open = self.sockets.subscribe();
        let _ = open.wait_for(|n| *n == 0).await;
    }
}

/// An open WebSocket, counted by `Shutdown` until dropped.
#[derive(Debug)]
pub struct OpenSocket(Arc<watch::Sender<usize>>);

impl Drop for OpenSocket {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// Ctrl-C and SIGTERM, listened for from `listen` on: a SIGTERM that comes
/// before anyone waits is kept, not fatal.
pub(crate) struct Signals {
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    pub(crate) fn listen() -> Signals {
        Signals {
            #[cfg(unix)]
            terminate: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .ok(),
        }
    }

    /// The next Ctrl-C or SIGTERM.
    pub(crate) async fn next(&mut self) {
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let terminate = async {
            match self.terminate.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => {},
            _ = terminate => {},
        }
    }
}

/// The next Ctrl-C or SIGTERM from now on.
pub(crate) async fn signal() {
    Signals::listen().next().await
}

/// The drain: `drain` long, or until the next signal.
pub(crate) async fn drain_for(drain: Duration, signals: &mut Signals) {
    if drain.is_zero() {
        return;
    }
    tracing::info!(
        ?drain,
        "draining: /readyz answers 503; still serving until the load balancer notices"
    );
    tokio::select! {
        _ = tokio::time::sleep(drain) => {}
        _ = signals.next() => tracing::info!("second signal: cutting the drain short"),
    }
}
