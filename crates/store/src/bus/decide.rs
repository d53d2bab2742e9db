//! Deciding one command on a state: the events it appends, numbered, sealed
//! and chained, and the row that records its command id.

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use sha2::{Digest, Sha256};

use aduan_domain::{Action, Command, Complaint};

use super::{CommandRequest, Inner};
use crate::codec::{self, SealedEvent};
use crate::error::CommandError;
use crate::log::CommandRecord;
use crate::metadata::Metadata;

/// What a command appends, and the version it leaves the complaint at.
pub(super) struct Decision {
    pub(super) events: Vec<SealedEvent>,
    pub(super) key: Option<CommandRecord>,
    pub(super) version: i64,
    /// The chain hash of the last event.
    pub(super) hash: String,
}

impl Inner {
    /// Decides `request` on `complaint` (at `version`), moving it on: the events
    /// to append, numbered from `version + 1` and chained to `prev` (the hash
    /// of event `version`), and the command id's row. A refusal leaves the
    /// complaint as it was.
    /// `number` is the case number drawn for a submission (`draw_number`).
    pub(super) async fn decide(
        &self,
        request: &CommandRequest,
        number: Option<&str>,
        complaint: &mut Complaint,
        version: i64,
        prev: &str,
    ) -> Result<Decision, CommandError> {
        let id = request.complaint_id.as_str();
        let sink = EventSink::default();
        let mut command = request.command.clone();
        if let (Action::Submit(submit), Some(number)) = (&mut command.action, number) {
            submit.number = Some(number.to_string());
        }
        complaint.handle(command, &self.services, &sink).await?;
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
}

impl Inner {
    /// The next case number of the city's current year, for a submission
    /// (one statement: the year's counter row, updated in place).
    pub(super) async fn draw_number(&self, trips: &mut u32) -> Result<String, CommandError> {
        let numbering = &self.services.rules.numbering;
        let year = numbering.year(self.services.clock.now());
        *trips += 1;
        let count = self.log.next_case_number(year).await?;
        Ok(numbering.format(year, count))
    }
}

/// A digest of the command: its action and, when it carries any, its files.
/// A command without files hashes as commands did before files existed, so
/// retries of commands stored then still match.
pub(super) fn command_hash(complaint_id: &str, command: &Command) -> String {
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
