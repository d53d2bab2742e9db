//! The command path: take the complaint's state, decide, append — with client
//! idempotency keys and optimistic concurrency, in one database round trip when
//! the case's state is cached (or the command submits a new one), two otherwise.

use std::sync::Arc;
use std::time::Duration;

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;
use uuid::Uuid;

use aduan_audit::chain;
use aduan_domain::{Action, Case, Command, Complaint, ComplaintError, ComplaintServices};

use crate::cache::{CachedCase, CaseCache};
use crate::codec::{self, SealedEvent, StoredEvent};
use crate::error::{CommandError, StoreError};
use crate::log::{CommandRecord, EventLog};
use crate::metadata::{Metadata, RequestContext};
use crate::queue::CaseQueue;

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
    /// bench): 1 for a command on a case in the cache or a new submission, 2 when
    /// the case had to be read first; more only on races and replays.
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

/// What a command appends, and the version it leaves the complaint at.
struct Decision {
    events: Vec<SealedEvent>,
    key: Option<CommandRecord>,
    version: i64,
    /// The chain hash of the last event.
    hash: String,
}

/// The state a command is decided on.
struct State {
    complaint: Complaint,
    version: i64,
    /// The chain hash of the complaint's last event.
    hash: String,
    /// Read from the log just now, not taken from the cache or assumed.
    fresh: bool,
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

impl Inner {
    /// Answers a group of commands on one complaint, in arrival order.
    async fn run_group(&self, requests: &[CommandRequest]) -> Vec<Answer> {
        let mut answers: Vec<Option<Answer>> = requests.iter().map(|_| None).collect();
        if requests.len() > 1 {
            self.together(requests, &mut answers).await;
        }
        let mut out = Vec::with_capacity(requests.len());
        for (request, answer) in requests.iter().zip(answers) {
            out.push(match answer {
                Some(answer) => answer,
                None => self.execute_one(request).await,
            });
        }
        out
    }

    /// Decides a group's plain commands (no `expectedVersion`, no submission) one
    /// after another on the case's state and appends all their events in one
    /// statement. What that cannot settle (a refusal, to be confirmed against the
    /// log; a lost race; a command id used before, in the log or earlier in the
    /// group) is left unanswered, for `execute_one` to take one by one.
    async fn together(&self, requests: &[CommandRequest], answers: &mut [Option<Answer>]) {
        let plain: Vec<usize> = (0..requests.len())
            .filter(|&i| {
                requests[i].expected_version.is_none()
                    && !matches!(requests[i].command.action, Action::Submit(_))
            })
            .collect();
        if plain.len() < 2 {
            return;
        }
        let first = &requests[plain[0]];
        let id = first.complaint_id.as_str();
        let mut trips = 0;
        let Ok(state) = self.state(first, false, &mut trips).await else {
            return;
        };
        let (mut complaint, mut version, mut hash) = (state.complaint, state.version, state.hash);
        let (mut events, mut keys, mut accepted) = (Vec::new(), Vec::new(), Vec::new());
        for &i in &plain {
            let request = &requests[i];
            let key = request.command_id.as_deref();
            if key.is_some_and(|k| keys.iter().any(|r: &CommandRecord| r.command_id == k)) {
                // The same command twice in one group: the second is a retry.
                continue;
            }
            let Ok(decision) = self.decide(request, &mut complaint, version, &hash).await else {
                continue;
            };
            version = decision.version;
            hash = decision.hash;
            events.extend(decision.events);
            keys.extend(decision.key);
            let Some(case) = complaint.0.clone() else {
                return;
            };
            accepted.push((i, case, version, events.len() - 1));
        }
        if events.is_empty() {
            return;
        }
        trips += 1;
        let positions = match self.log.append(&events, &keys).await {
            Ok(positions) => positions,
            Err(e) => {
                tracing::debug!(complaint = %id, error = %e, "a group's append failed; taking its commands one by one");
                self.cache.forget(id);
                return;
            }
        };
        self.cache.put(
            id,
            CachedCase {
                complaint,
                version,
                hash,
            },
        );
        for (i, case, version, last) in accepted {
            answers[i] = Some(Ok(CommandOutcome {
                case,
                version,
                position: positions.get(last).copied().unwrap_or_default(),
                replayed: false,
                round_trips: trips,
            }));
        }
    }

    /// Decides `request` on `complaint` (at `version`), moving it on: the events
    /// to append, numbered from `version + 1` and chained to `prev` (the hash
    /// of event `version`), and the command id's row. A refusal leaves the
    /// complaint as it was.
    async fn decide(
        &self,
        request: &CommandRequest,
        complaint: &mut Complaint,
        version: i64,
        prev: &str,
    ) -> Result<Decision, CommandError> {
        let id = request.complaint_id.as_str();
        let sink = EventSink::default();
        complaint
            .handle(request.command.clone(), &self.services, &sink)
            .await?;
        let hash = command_hash(id, &request.command);
        let metadata = Metadata::new(
            &request.command.actor,
            &request.context,
            request.command_id.as_deref(),
            &hash,
        );
        let mut events = sink
            .collect()
            .await
            .iter()
            .zip(version + 1..)
            .map(|(event, seq)| codec::encode(id, seq, event, &metadata))
            .collect::<Result<Vec<_>, _>>()?;
        // Personal data is sealed before anything hashes or stores the payload.
        if let Some(case) = complaint.0.as_ref() {
            self.log.personal().seal(&mut events, case)?;
        }
        let (events, hash) = if self.chain {
            codec::seal(events, prev)
        } else {
            let unchained = events.into_iter().map(|event| SealedEvent {
                event,
                hash: String::new(),
                prev_hash: String::new(),
            });
            (unchained.collect(), String::new())
        };
        let version = version + events.len() as i64;
        let key = request.command_id.as_ref().map(|command_id| CommandRecord {
            command_id: command_id.clone(),
            complaint_id: id.to_string(),
            sequence: version,
        });
        Ok(Decision {
            events,
            key,
            version,
            hash,
        })
    }

    /// One command: decided on the cached (or the log's) state and appended; a
    /// lost race is retried on the log's state.
    ///
    /// The state comes from the cache when it can; the append (one statement
    /// with the command id) confirms it. A refusal is confirmed against the log,
    /// and only then asks whether the command id was applied before, so the
    /// common path never looks the id up: a retry that would succeed again
    /// collides on the id's key.
    async fn execute_one(&self, request: &CommandRequest) -> Answer {
        let id = request.complaint_id.as_str();
        let hash = command_hash(id, &request.command);
        let mut trips = 0;
        let mut read_log = false;
        for attempt in 0..self.max_attempts {
            let state = self.state(request, read_log, &mut trips).await?;
            read_log = true;
            if let Some(expected) = request.expected_version {
                if expected != state.version {
                    if !state.fresh {
                        continue;
                    }
                    let stale = CommandError::Conflict(format!(
                        "the complaint is at version {}, not {expected}",
                        state.version
                    ));
                    return self.refused(stale, request, &hash, &mut trips).await;
                }
            }
            let mut complaint = state.complaint;
            let Decision {
                events,
                key,
                version,
                hash: last_hash,
            } = match self
                .decide(request, &mut complaint, state.version, &state.hash)
                .await
            {
                Ok(decision) => decision,
                Err(CommandError::Domain(_)) if !state.fresh => continue,
                Err(refusal @ CommandError::Domain(_)) => {
                    return self.refused(refusal, request, &hash, &mut trips).await
                }
                Err(other) => return Err(other),
            };
            let keys: Vec<CommandRecord> = key.into_iter().collect();
            trips += 1;
            match self.log.append(&events, &keys).await {
                Ok(positions) => {
                    let case = complaint.0.clone().ok_or(ComplaintError::NotFound)?;
                    self.cache.put(
                        id,
                        CachedCase {
                            complaint,
                            version,
                            hash: last_hash,
                        },
                    );
                    return Ok(CommandOutcome {
                        case,
                        version,
                        position: positions.last().copied().unwrap_or_default(),
                        replayed: false,
                        round_trips: trips,
                    });
                }
                Err(StoreError::Conflict) => {
                    self.cache.forget(id);
                    if !state.fresh {
                        tracing::debug!(complaint = %id, "the cached state was behind; rereading");
                    } else {
                        if request.expected_version.is_some() {
                            return Err(CommandError::Conflict(
                                "the complaint was changed concurrently".into(),
                            ));
                        }
                        // Another process won the race (this one's commands on
                        // the case queue): let it finish before rereading.
                        tracing::debug!(complaint = %id, attempt, "lost a race; retrying");
                        tokio::time::sleep(backoff(attempt)).await;
                    }
                }
                Err(StoreError::DuplicateCommand) => {
                    let duplicate = CommandError::Conflict("the command id was used before".into());
                    return self.refused(duplicate, request, &hash, &mut trips).await;
                }
                Err(e) => {
                    self.cache.forget(id);
                    return Err(e.into());
                }
            }
        }
        Err(CommandError::Conflict(format!(
            "the complaint kept changing; gave up after {} attempts",
            self.max_attempts
        )))
    }

    /// The state to decide on: the cache's, a submission's empty one, or the log's.
    async fn state(
        &self,
        request: &CommandRequest,
        read_log: bool,
        trips: &mut u32,
    ) -> Result<State, CommandError> {
        let id = request.complaint_id.as_str();
        if !read_log {
            if let Some(cached) = self.cache.get(id) {
                return Ok(State {
                    complaint: cached.complaint,
                    version: cached.version,
                    hash: cached.hash,
                    fresh: false,
                });
            }
            if matches!(request.command.action, Action::Submit(_)) {
                // A new complaint's id is random, or derived from the command id,
                // when a retry finds it taken on the append and reads the log.
                return Ok(State {
                    complaint: Complaint::default(),
                    version: 0,
                    hash: chain::GENESIS.to_string(),
                    fresh: request.command_id.is_none(),
                });
            }
        } else {
            self.cache.forget(id);
        }
        *trips += 1;
        let history = self.log.load(id).await?;
        let version = history.last().map_or(0, |e| e.sequence);
        let hash = match history.last() {
            None => chain::GENESIS.to_string(),
            Some(last) => last.hash.clone().ok_or_else(|| {
                StoreError::Unavailable(
                    "the log has events not sealed into the audit chain yet; \
                     the server seals them at start"
                        .into(),
                )
            })?,
        };
        let complaint = codec::fold(&history);
        if version > 0 {
            self.cache.put(
                id,
                CachedCase {
                    complaint: complaint.clone(),
                    version,
                    hash: hash.clone(),
                },
            );
        }
        Ok(State {
            complaint,
            version,
            hash,
            fresh: true,
        })
    }

    /// A command refused on the log's state (or whose command id is taken): a
    /// retry of a command applied before gets its first result instead.
    async fn refused(
        &self,
        refusal: CommandError,
        request: &CommandRequest,
        hash: &str,
        trips: &mut u32,
    ) -> Result<CommandOutcome, CommandError> {
        let Some(command_id) = request.command_id.as_deref() else {
            return Err(refusal);
        };
        *trips += 1;
        let Some(record) = self.log.command_record(command_id).await? else {
            return Err(refusal);
        };
        if record.complaint_id != request.complaint_id {
            return Err(ComplaintError::invalid(
                "commandId",
                "was already used for a command on another complaint",
            )
            .into());
        }
        *trips += 1;
        let history = self.log.load(&request.complaint_id).await?;
        match replay(&history, record.sequence, hash, &request.command.actor)? {
            Replay::Done(mut done) => {
                done.round_trips = *trips;
                Ok(*done)
            }
            Replay::Foreign => self.refuse_foreign(&history, request).await,
        }
    }

    /// Someone else's idempotency key: its first result is not theirs to see. They
    /// get the refusal the command itself would get, or else INVALID_INPUT.
    async fn refuse_foreign(
        &self,
        history: &[StoredEvent],
        request: &CommandRequest,
    ) -> Result<CommandOutcome, CommandError> {
        let mut complaint = codec::fold(history);
        complaint
            .handle(
                request.command.clone(),
                &self.services,
                &EventSink::default(),
            )
            .await?;
        Err(ComplaintError::invalid("commandId", "was already used by another caller").into())
    }
}

enum Replay {
    /// Applied before by this caller: the state right after it.
    Done(Box<CommandOutcome>),
    /// Applied before by someone else.
    Foreign,
}

/// The command id was applied at `sequence`: the same id with another command is
/// an error, not a silent no-op, and another caller's id is not replayed to them.
fn replay(
    history: &[StoredEvent],
    sequence: i64,
    hash: &str,
    actor: &aduan_domain::Actor,
) -> Result<Replay, CommandError> {
    let Some(last) = history.iter().position(|e| e.sequence == sequence) else {
        return Err(
            StoreError::Corrupt(format!("command id points at missing event #{sequence}")).into(),
        );
    };
    let first = &history[last].metadata;
    if first.actor_id != actor.id
        || first.actor_role != actor.role.as_str()
        || first.actor_opd != actor.opd
    {
        return Ok(Replay::Foreign);
    }
    if first.command_hash.as_deref() != Some(hash) {
        return Err(ComplaintError::invalid(
            "commandId",
            "was already used for a different command on this complaint",
        )
        .into());
    }
    let case = codec::fold(&history[..=last])
        .0
        .ok_or(ComplaintError::NotFound)?;
    Ok(Replay::Done(Box::new(CommandOutcome {
        case,
        version: history[last].sequence,
        position: history[last].position,
        replayed: true,
        round_trips: 0,
    })))
}

/// A digest of the command: its action and, when it carries any, its files.
/// A command without files hashes as commands did before files existed, so
/// retries of commands stored then still match.
fn command_hash(complaint_id: &str, command: &Command) -> String {
    let body = serde_json::to_vec(&command.action).unwrap_or_default();
    let mut digest = Sha256::new();
    digest.update(complaint_id.as_bytes());
    digest.update([0]);
    digest.update(&body);
    if !command.files.is_empty() {
        digest.update([0]);
        digest.update(serde_json::to_vec(&command.files).unwrap_or_default());
    }
    hex::encode(digest.finalize())
}

/// Jittered, growing pause between attempts so racing writers spread out.
fn backoff(attempt: u32) -> Duration {
    let jitter = Uuid::new_v4().as_u128() as u64 % 1000;
    let base = 1 + u64::from(attempt.min(10)) * 2;
    Duration::from_micros(base * 1000 + jitter * base)
}
