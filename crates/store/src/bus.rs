//! The command path: load a complaint's events, decide, append — with client
//! idempotency keys and optimistic concurrency.

use std::sync::Arc;
use std::time::Duration;

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use aduan_domain::{Action, Case, Command, Complaint, ComplaintError, ComplaintServices};

use crate::codec::{self, StoredEvent};
use crate::error::{CommandError, StoreError};
use crate::log::EventLog;
use crate::metadata::{Metadata, RequestContext};

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
}

pub struct CommandBus {
    log: Arc<dyn EventLog>,
    services: ComplaintServices,
    max_attempts: u32,
}

impl CommandBus {
    pub fn new(log: Arc<dyn EventLog>, services: ComplaintServices) -> Self {
        CommandBus {
            log,
            services,
            max_attempts: 64,
        }
    }

    pub fn log(&self) -> &Arc<dyn EventLog> {
        &self.log
    }

    pub fn services(&self) -> &ComplaintServices {
        &self.services
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
    pub async fn execute(&self, request: CommandRequest) -> Result<CommandOutcome, CommandError> {
        let hash = command_hash(&request.complaint_id, &request.command.action);
        if let Some(id) = &request.command_id {
            self.check_command_id_scope(id, &request.complaint_id)
                .await?;
        }
        for attempt in 0..self.max_attempts {
            let history = self.log.load(&request.complaint_id).await?;
            match replay(
                &history,
                request.command_id.as_deref(),
                &hash,
                &request.command.actor,
            )? {
                Replay::Fresh => {}
                Replay::Done(done) => return Ok(*done),
                Replay::Foreign => return self.refuse_foreign(&history, &request).await,
            }
            let version = history.last().map_or(0, |e| e.sequence);
            if let Some(expected) = request.expected_version {
                if expected != version {
                    return Err(CommandError::Conflict(format!(
                        "the complaint is at version {version}, not {expected}"
                    )));
                }
            }
            let mut complaint = codec::fold(&history);
            let sink = EventSink::default();
            complaint
                .handle(request.command.clone(), &self.services, &sink)
                .await?;
            let metadata = Metadata::new(
                &request.command.actor,
                &request.context,
                request.command_id.as_deref(),
                &hash,
            );
            let serialized = sink
                .collect()
                .await
                .iter()
                .zip(version + 1..)
                .map(|(event, seq)| codec::encode(&request.complaint_id, seq, event, &metadata))
                .collect::<Result<Vec<_>, _>>()?;
            let last = version + serialized.len() as i64;
            match self.log.append(&serialized).await {
                Ok(()) => return self.outcome(&request.complaint_id, complaint, last).await,
                Err(StoreError::Conflict) if request.expected_version.is_none() => {
                    tracing::debug!(complaint = %request.complaint_id, attempt, "lost a race; retrying");
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Err(StoreError::Conflict) => {
                    return Err(CommandError::Conflict(
                        "the complaint was changed concurrently".into(),
                    ))
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(CommandError::Conflict(format!(
            "the complaint kept changing; gave up after {} attempts",
            self.max_attempts
        )))
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

    async fn check_command_id_scope(
        &self,
        command_id: &str,
        complaint_id: &str,
    ) -> Result<(), CommandError> {
        match self.log.complaint_of_command(command_id).await? {
            Some(other) if other != complaint_id => Err(ComplaintError::invalid(
                "commandId",
                "was already used for a command on another complaint",
            )
            .into()),
            _ => Ok(()),
        }
    }

    async fn outcome(
        &self,
        id: &str,
        complaint: Complaint,
        version: i64,
    ) -> Result<CommandOutcome, CommandError> {
        let case = complaint.0.ok_or(ComplaintError::NotFound)?;
        // postgres-es does not return what it inserted; read the position back.
        let position = self
            .log
            .load_one(id, version)
            .await?
            .map_or(0, |e| e.position);
        Ok(CommandOutcome {
            case,
            version,
            position,
            replayed: false,
        })
    }
}

enum Replay {
    /// The command id is new here.
    Fresh,
    /// Applied before by this caller: the state right after it.
    Done(Box<CommandOutcome>),
    /// Applied before by someone else.
    Foreign,
}

/// Whether the command id was applied before; the same id with another command is
/// an error, not a silent no-op, and another caller's id is not replayed to them.
fn replay(
    history: &[StoredEvent],
    command_id: Option<&str>,
    hash: &str,
    actor: &aduan_domain::Actor,
) -> Result<Replay, CommandError> {
    let Some(command_id) = command_id else {
        return Ok(Replay::Fresh);
    };
    let Some(last) = history
        .iter()
        .rposition(|e| e.metadata.command_id.as_deref() == Some(command_id))
    else {
        return Ok(Replay::Fresh);
    };
    let first = &history[last].metadata;
    if first.actor_id != actor.id
        || first.actor_role != actor.role.as_str()
        || first.actor_opd != actor.opd
    {
        return Ok(Replay::Foreign);
    }
    if history[last].metadata.command_hash.as_deref() != Some(hash) {
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
    })))
}

fn command_hash(complaint_id: &str, action: &Action) -> String {
    let body = serde_json::to_vec(action).unwrap_or_default();
    let mut digest = Sha256::new();
    digest.update(complaint_id.as_bytes());
    digest.update([0]);
    digest.update(&body);
    hex::encode(digest.finalize())
}

/// Jittered, growing pause between attempts so racing writers spread out.
fn backoff(attempt: u32) -> Duration {
    let jitter = Uuid::new_v4().as_u128() as u64 % 1000;
    let base = 1 + u64::from(attempt.min(10)) * 2;
    Duration::from_micros(base * 1000 + jitter * base)
}
