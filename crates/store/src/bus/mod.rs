//! The command path: take the complaint's state, decide, append — with client
//! idempotency keys and optimistic concurrency, in one database round trip when
//! the case's state is cached, two otherwise (a new submission: its case
//! number's draw, then the append).
//! `check` decides without appending, for callers that refuse before work.

use std::sync::Arc;

use tokio::sync::oneshot;
use uuid::Uuid;

use aduan_domain::{Case, Command, ComplaintServices};

use crate::cache::CaseCache;
use crate::error::{CommandError, StoreError};
use crate::log::EventLog;
use crate::metadata::RequestContext;
use crate::queue::CaseQueue;

mod batch;
mod check;
mod decide;
mod group;
mod one;
mod replay;
mod state;

/// Complaint ids derived from a client's command id live in this namespace, so a
/// retried submission lands on the same complaint instead of creating a second one.
const SUBMIT_NAMESPACE: Uuid = Uuid::from_u128(0x6164_7561_6e2d_7375_626d_6974_2d69_6473);

pub struct CommandRequest {
    pub complaint_id: String,
    pub command: Command,
    pub context: RequestContext,
    /// The client's idempotency key.
    pub command_id: Option<String>,
    /// The version the client last saw; a newer one is a CONFLICT, not a retry.
    pub expected_version: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct CommandOutcome {
    pub case: Case,
    /// The complaint's sequence number after the command.
    pub version: i64,
    /// The global position of the command's last event.
    pub position: i64,
    /// True when the command id had been applied before and nothing was appended.
    pub replayed: bool,
    /// How many statements the command sent to the database (for /metrics and the
    /// bench): 1 for a command on a case in the cache, 2 when the case had to be
    /// read first or for a new submission (its case number is drawn first);
    /// more only on races and replays.
    pub round_trips: u32,
}

/// How many complaints' current states a process keeps (see `cache.rs`).
pub const DEFAULT_CACHED_CASES: usize = 20_000;

/// The most commands on one complaint appended in one statement.
const MAX_GROUP: usize = 64;

type Answer = Result<CommandOutcome, CommandError>;

/// A command waiting in its complaint's queue, and where its answer goes.
struct Waiting {
    request: CommandRequest,
    answer: oneshot::Sender<Answer>,
}

pub struct CommandBus {
    inner: Arc<Inner>,
    queue: Arc<CaseQueue<Waiting>>,
}

struct Inner {
    log: Arc<dyn EventLog>,
    services: ComplaintServices,
    max_attempts: u32,
    cache: CaseCache,
    /// Off only for the audit bench's baseline (`without_chain_for_baseline`).
    chain: bool,
}

impl CommandBus {
    pub fn new(log: Arc<dyn EventLog>, services: ComplaintServices) -> Self {
        CommandBus {
            inner: Arc::new(Inner {
                log,
                services,
                max_attempts: 64,
                cache: CaseCache::new(DEFAULT_CACHED_CASES),
                chain: true,
            }),
            queue: Arc::default(),
        }
    }

    /// Keeps up to `capacity` complaint states in memory (0: none, every command
    /// reads its case's events first).
    pub fn with_cache(self, capacity: usize) -> Self {
        self.inner.cache.resize(capacity);
        self
    }

    /// A bus that stores empty chain hashes instead of computing them: the
    /// audit bench's "before" in the same run. Such a log does not verify;
    /// nothing but that bench may use it.
    #[doc(hidden)]
    #[allow(
        clippy::expect_used,
        reason = "the bench calls it right after new, before anything else holds the bus"
    )]
    pub fn without_chain_for_baseline(self) -> Self {
        let inner = Arc::try_unwrap(self.inner)
            .ok()
            .expect("called right after new");
        CommandBus {
            inner: Arc::new(Inner {
                chain: false,
                ..inner
            }),
            queue: self.queue,
        }
    }

    pub fn log(&self) -> &Arc<dyn EventLog> {
        &self.inner.log
    }

    pub fn services(&self) -> &ComplaintServices {
        &self.inner.services
    }

    /// The id a new complaint gets: derived from the command id when the client sent
    /// one (so retries converge), random otherwise.
    pub fn new_complaint_id(command_id: Option<&str>) -> String {
        match command_id {
            Some(id) => Uuid::new_v5(&SUBMIT_NAMESPACE, id.as_bytes()).to_string(),
            None => Uuid::new_v4().to_string(),
        }
    }

    /// Carries out a command. A lost race is retried against the new state, so an
    /// appended event's preconditions always held at the version it was appended at;
    /// a command whose `expected_version` is stale gets CONFLICT instead.
    ///
    /// Commands on one complaint queue in the process (see `queue.rs`); the one
    /// that finds its complaint's queue idle leads it, in a task of its own, so a
    /// client hanging up strands nobody queued behind it (and a command, once
    /// queued, is carried out or refused whether or not its client still waits).
    pub async fn execute(&self, request: CommandRequest) -> Answer {
        let id = request.complaint_id.clone();
        let (answer, answered) = oneshot::channel();
        if let Some(first) = self.queue.join(&id, Waiting { request, answer }) {
            let (inner, queue) = (self.inner.clone(), self.queue.clone());
            tokio::spawn(async move {
                let _abandon = Abandon(&queue, &id);
                let mut group = vec![first];
                loop {
                    let (requests, answers): (Vec<_>, Vec<_>) =
                        group.into_iter().map(|w| (w.request, w.answer)).unzip();
                    let results = inner.run_group(&requests).await;
                    for (answer, result) in answers.into_iter().zip(results) {
                        let _ = answer.send(result);
                    }
                    match queue.next(&id, MAX_GROUP) {
                        Some(next) => group = next,
                        None => break,
                    }
                }
            });
        }
        answered.await.unwrap_or_else(|_| {
            Err(StoreError::Other("the command's queue stopped before answering".into()).into())
        })
    }
}

/// Closes a complaint's queue if its leader panics, so the commands waiting in it
/// get an error instead of waiting forever, and the next arrival leads.
struct Abandon<'a>(&'a CaseQueue<Waiting>, &'a str);

impl Drop for Abandon<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.abandon(self.1);
        }
    }
}
