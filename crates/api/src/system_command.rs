//! A command a follower sends as SYSTEM on a case, exactly once: its id is
//! derived from the event that caused it, so a batch redone after a crash is
//! an idempotent replay, and a refusal (the case moved on) is the end of it.

use aduan_domain::{Action, Actor, Command};
use aduan_store::{CommandBus, CommandError, CommandRequest, RequestContext, StoreError};

/// Tries of one command that lost a race with another writer.
const CONFLICT_TRIES: u32 = 5;

/// What became of a sent command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// Appended now.
    Appended,
    /// Appended before (the same id replayed).
    Replayed,
    /// Refused by the case; nothing to do.
    Refused,
}

/// Sends `action` on `complaint_id` by `actor` under `command_id`, on `channel`.
pub async fn send_once(
    bus: &CommandBus,
    complaint_id: &str,
    actor: &Actor,
    action: Action,
    command_id: &str,
    channel: &str,
) -> Result<Sent, StoreError> {
    for _ in 0..CONFLICT_TRIES {
        let request = CommandRequest {
            complaint_id: complaint_id.to_string(),
            command: Command::new(actor.clone(), action.clone()),
            context: RequestContext {
                channel: channel.into(),
                correlation_id: command_id.to_string(),
            },
            command_id: Some(command_id.to_string()),
            expected_version: None,
        };
        match bus.execute(request).await {
            Ok(outcome) if outcome.replayed => return Ok(Sent::Replayed),
            Ok(_) => return Ok(Sent::Appended),
            Err(CommandError::Conflict(_)) => continue,
            Err(CommandError::Store(e)) => return Err(e),
            Err(CommandError::Domain(e)) => {
                tracing::info!(complaint = complaint_id, channel, error = %e, "refused; nothing to do");
                return Ok(Sent::Refused);
            }
        }
    }
    Err(StoreError::Conflict)
}
