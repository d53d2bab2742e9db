//! One command at a time: decided on the cached (or the log's) state and
//! appended, a lost race retried on the log's state.

use std::time::Duration;

use uuid::Uuid;

use aduan_domain::{Action, Complaint, ComplaintError};

use super::decide::{command_hash, Decision};
use super::{Answer, CommandOutcome, CommandRequest, Inner};
use crate::cache::CachedCase;
use crate::error::{CommandError, StoreError};
use crate::log::CommandRecord;

impl Inner {
    /// One command: decided on the cached (or the log's) state and appended; a
    /// lost race is retried on the log's state.
    ///
    /// The state comes from the cache when it can; the append (one statement
    /// with the command id) confirms it. A refusal is confirmed against the log,
    /// and only then asks whether the command id was applied before, so the
    /// common path never looks the id up: a retry that would succeed again
    /// collides on the id's key.
    pub(super) async fn execute_one(&self, request: &CommandRequest) -> Answer {
        let id = request.complaint_id.as_str();
        let hash = command_hash(id, &request.command);
        let mut trips = 0;
        let mut read_log = false;
        let mut number = None;
        for attempt in 0..self.max_attempts {
            let state = self.state(request, read_log, &mut trips).await?;
            read_log = true;
            if number.is_none() && state.version == 0 && is_submission(request) {
                number = Some(self.draw_number(&mut trips).await?);
            }
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
            let mut decision = match self
                .decide(
                    request,
                    number.as_deref(),
                    &mut complaint,
                    state.version,
                    &state.hash,
                )
                .await
            {
                Ok(decision) => decision,
                Err(CommandError::Domain(_)) if !state.fresh => continue,
                Err(refusal @ CommandError::Domain(_)) => {
                    return self.refused(refusal, request, &hash, &mut trips).await
                }
                Err(other) => return Err(other),
            };
            let keys: Vec<CommandRecord> = decision.key.take().into_iter().collect();
            trips += 1;
            match self.log.append(&decision.events, &keys).await {
                Ok(positions) => return self.appended(id, complaint, decision, &positions, trips),
                Err(StoreError::Conflict) => self.lost_race(request, state.fresh, attempt).await?,
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

    /// The answer to an appended command; the state it leaves is cached for the
    /// next command on the complaint.
    fn appended(
        &self,
        id: &str,
        complaint: Complaint,
        decision: Decision,
        positions: &[i64],
        trips: u32,
    ) -> Answer {
        let case = complaint.0.clone().ok_or(ComplaintError::NotFound)?;
        let version = decision.version;
        self.cache.put(
            id,
            CachedCase {
                complaint,
                version,
                hash: decision.hash,
            },
        );
        Ok(CommandOutcome {
            case,
            version,
            position: positions.last().copied().unwrap_or_default(),
            replayed: false,
            round_trips: trips,
        })
    }

    /// The append found the complaint moved on. A cached state was merely
    /// behind: reread at once. Else another process won the race (this one's
    /// commands on the case queue): a client that named the version it saw gets
    /// CONFLICT, any other retries after letting the winner finish.
    async fn lost_race(
        &self,
        request: &CommandRequest,
        fresh: bool,
        attempt: u32,
    ) -> Result<(), CommandError> {
        let id = request.complaint_id.as_str();
        self.cache.forget(id);
        if !fresh {
            tracing::debug!(complaint = %id, "the cached state was behind; rereading");
            return Ok(());
        }
        if request.expected_version.is_some() {
            return Err(CommandError::Conflict(
                "the complaint was changed concurrently".into(),
            ));
        }
        tracing::debug!(complaint = %id, attempt, "lost a race; retrying");
        tokio::time::sleep(backoff(attempt)).await;
        Ok(())
    }
}

/// Whether the command submits a case (which gets a number before it is decided).
fn is_submission(request: &CommandRequest) -> bool {
    matches!(request.command.action, Action::Submit(_))
}

/// Jittered, growing pause between attempts so racing writers spread out.
fn backoff(attempt: u32) -> Duration {
    let jitter = Uuid::new_v4().as_u128() as u64 % 1000;
    let base = 1 + u64::from(attempt.min(10)) * 2;
    Duration::from_micros(base * 1000 + jitter * base)
}
