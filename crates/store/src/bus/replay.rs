//! Idempotency: a refused command whose command id was applied before gets
//! that first result, if it is the same caller's and the same command.

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;

use aduan_domain::ComplaintError;

use super::{CommandOutcome, CommandRequest, Inner};
use crate::codec::{self, StoredEvent};
use crate::error::{CommandError, StoreError};

impl Inner {
    /// A command refused on the log's state (or whose command id is taken): a
    /// retry of a command applied before gets its first result instead.
    pub(super) async fn refused(
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
                "command_id",
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
        Err(ComplaintError::invalid("command_id", "was already used by another caller").into())
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
            "command_id",
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
