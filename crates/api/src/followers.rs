//! The background followers a server runs beside its routes: the projectors,
//! the live feeds, webhooks, the audit checkpointer, the NATS relay, the
//! notifier, the national bridge, the incident closer and the deadline
//! watcher. Assembled with the state, started by `serve` (or a test), stopped
//! together.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use aduan_projections::sla_alerts::SlaAlertFeed;
use aduan_projections::{LiveFeed, Projector, Watcher};

use crate::cli::ServeArgs;
use crate::settings;
use crate::state::parts::envelope_options;
use crate::state::AppState;

type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

/// What `AppState::build` made that only the followers use.
pub(crate) struct Parts {
    pub stop: watch::Sender<bool>,
    pub stopped: watch::Receiver<bool>,
    pub live: Arc<LiveFeed>,
    pub alerts: Arc<SlaAlertFeed>,
    pub notifier: Option<aduan_integration::notify::Notifier>,
    pub bridge: crate::national::Bridge,
}

/// The followers, not started yet.
pub struct Followers {
    stop: watch::Sender<bool>,
    stopped: watch::Receiver<bool>,
    tasks: Vec<Task>,
    bridge: Option<crate::national::Bridge>,
}

/// The followers running; `stop` ends them and waits for them.
pub struct Running {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Followers {
    pub(crate) fn new(
        state: &AppState,
        args: &ServeArgs,
        sla: &aduan_domain::sla::SlaConfig,
        parts: Parts,
    ) -> anyhow::Result<Followers> {
        let stopped = parts.stopped;
        let mut tasks: Vec<Task> = Vec::new();
        // The store's own upkeep (SQLite's WAL checkpoints), in every role.
        tasks.push(Box::pin({
            let (log, stopped) = (state.bus.log().clone(), stopped.clone());
            async move { log.upkeep(stopped).await }
        }));
        // The live feeds serve this process's WebSocket subscribers.
        if args.role.serves_api() {
            tasks.push(Box::pin(parts.live.run(stopped.clone())));
            tasks.push(Box::pin(parts.alerts.run(stopped.clone())));
        }
        if !args.role.runs_followers() {
            tracing::info!("role api: the log's followers run in the worker processes");
            return Ok(Followers {
                stop: parts.stop,
                stopped,
                tasks,
                bridge: None,
            });
        }
        tasks.extend(projectors(state, sla, &stopped)?);
        tasks.push(Box::pin(state.webhooks.clone().run()));
        tasks.push(Box::pin({
            let stopped = stopped.clone();
            let audit = state.audit.clone();
            let follow = aduan_store::Checkpoints::for_log(state.bus.log().as_ref());
            async move { follow.run(audit.as_ref(), stopped).await }
        }));
        if let Some(url) = args.nats_url.clone() {
            tasks.push(Box::pin(relay(
                state.bus.log().clone(),
                args.clone(),
                url,
                stopped.clone(),
            )));
        }
        tasks.push(Box::pin({
            let stopped = stopped.clone();
            let closer = crate::incidents::IncidentCloser::new(state.bus.clone());
            async move { closer.run(stopped).await }
        }));
        tasks.push(Box::pin({
            let stopped = stopped.clone();
            let sla = Arc::new(sla.clone());
            let acknowledger = crate::acknowledger::Acknowledger::new(state.bus.clone(), sla);
            async move { acknowledger.run(stopped).await }
        }));
        if let Some(notifier) = parts.notifier {
            let stopped = stopped.clone();
            tasks.push(Box::pin(async move { notifier.run(stopped).await }));
        }
        tasks.extend(watcher(state, args, sla, &stopped)?);
        Ok(Followers {
            stop: parts.stop,
            stopped,
            tasks,
            bridge: Some(parts.bridge),
        })
    }

    /// Starts every follower on the current runtime.
    pub fn spawn(self) -> Running {
        let mut tasks: Vec<JoinHandle<()>> = self.tasks.into_iter().map(tokio::spawn).collect();
        if let Some(bridge) = self.bridge {
            tasks.extend(bridge.spawn(&self.stopped));
        }
        Running {
            stop: self.stop,
            tasks,
        }
    }
}

impl Running {
    /// Tells every follower to stop and waits until they have.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// The durable projections: the complaint summary, SLA timers, survey and hand-offs.
fn projectors(
    state: &AppState,
    sla: &aduan_domain::sla::SlaConfig,
    stopped: &watch::Receiver<bool>,
) -> anyhow::Result<Vec<Task>> {
    let (summary, timers) = settings::projections(sla)?;
    let summary = Projector::new(state.bus.log().clone(), summary);
    let timers = Projector::new(state.bus.log().clone(), timers);
    let survey = Projector::new(state.bus.log().clone(), settings::survey_projection(sla)?);
    let handoffs = Projector::new(state.bus.log().clone(), settings::handoff_projection(sla)?);
    Ok(vec![
        Box::pin({
            let stopped = stopped.clone();
            async move { handoffs.run(stopped).await }
        }),
        Box::pin({
            let stopped = stopped.clone();
            async move { summary.run(stopped).await }
        }),
        Box::pin({
            let stopped = stopped.clone();
            async move { timers.run(stopped).await }
        }),
        Box::pin({
            let stopped = stopped.clone();
            async move { survey.run(stopped).await }
        }),
    ])
}

/// The deadline watcher, unless this process is told not to run one.
fn watcher(
    state: &AppState,
    args: &ServeArgs,
    sla: &aduan_domain::sla::SlaConfig,
    stopped: &watch::Receiver<bool>,
) -> anyhow::Result<Option<Task>> {
    let (_, book) = sla.build()?;
    let calendars = sla.calendars()?;
    if !args.watch {
        tracing::info!("deadline watcher off (ADUAN_WATCH=false)");
        return Ok(None);
    }
    let watcher = Watcher::new(state.bus.clone(), Arc::new(calendars), Arc::new(book));
    let interval = std::time::Duration::from_millis(args.watch_interval_ms);
    let stopped = stopped.clone();
    Ok(Some(Box::pin(async move {
        watcher.run(interval, stopped).await
    })))
}

/// Relays every event to NATS JetStream until shutdown. NATS may be down when
/// the server starts: the relay connects when it can, and catches up from its
/// checkpoint (the server itself does not wait for NATS).
async fn relay(
    log: Arc<dyn aduan_store::EventLog>,
    args: ServeArgs,
    url: String,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    use aduan_integration::nats::Publisher;
    let publisher = loop {
        match Publisher::connect(&url, &args.nats_stream, &args.nats_subject_prefix).await {
            Ok(p) => break p,
            Err(e) => {
                tracing::warn!(error = %e, "relay: NATS not reachable; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(std::time::Duration::from_secs(2)) => {}
                    _ = stopped.changed() => return,
                }
            }
        }
    };
    tracing::info!(stream = %args.nats_stream, "relaying events to NATS JetStream");
    let options = envelope_options(&args, args.nats_personal_data);
    aduan_integration::NatsRelay::new(log, publisher, options, &args.nats_subject_prefix)
        .run(stopped)
        .await
}
