//! Every reporter of an incident hears of its primary's progress: a reply on
//! the primary (`Responded`) is also notified to the reporter of each case
//! linked to it as a duplicate. Their closing needs nothing here: each
//! duplicate is closed by its own `Closed` event (the server's incident
//! closer), which the notifier tells its reporter about like any other.
//!
//! A fanned-out row is the duplicate's (its complaint id, so its reporter's
//! opt-out and erasure apply), with the primary's event sequence and the kind
//! `INCIDENT_RESPONDED`; the text is read from the primary the duplicate
//! follows when the row is sent, so a case unlinked in between is not told.

use async_trait::async_trait;

use aduan_domain::{Case, ComplaintEvent};
use aduan_store::outbox::NewRow;
use aduan_store::{EventLog, StoreError, StoredEvent};

use super::{Channel, Kind};

/// The outbox kind of a primary's reply told to a duplicate's reporter.
pub const INCIDENT_RESPONDED: &str = "incident_responded";

/// Who follows a primary case. The server answers from its read side (this
/// crate reads no projection itself).
#[async_trait]
pub trait Members: Send + Sync {
    /// The cases linked to `primary` as duplicates, once the read side has
    /// applied the event at `position` (an error until it has).
    async fn linked(&self, primary: &str, position: i64) -> Result<Vec<String>, StoreError>;
}

/// The kinds of duplicates' rows an event of a primary makes.
pub fn fanned_out(event: &ComplaintEvent) -> Option<&'static str> {
    matches!(event, ComplaintEvent::Responded { .. }).then_some(INCIDENT_RESPONDED)
}

/// The duplicates' rows of event `e` of a primary, at `position` in the log.
pub async fn rows(
    members: &dyn Members,
    e: &StoredEvent,
    position: i64,
    channels: &[Channel],
) -> Result<Vec<NewRow>, StoreError> {
    let Some(kind) = fanned_out(&e.event) else {
        return Ok(Vec::new());
    };
    let mut rows = Vec::new();
    for member in members.linked(&e.aggregate_id, position).await? {
        for channel in channels {
            rows.push(NewRow {
                complaint_id: member.clone(),
                sequence: e.sequence,
                kind,
                channel: channel.as_str(),
            });
        }
    }
    Ok(rows)
}

/// What a row's kind tells of: its `Kind`, and whether the event is the
/// followed primary's.
pub fn parse_kind(kind: &str) -> Option<(Kind, bool)> {
    if kind == INCIDENT_RESPONDED {
        return Some((Kind::Responded, true));
    }
    Kind::parse(kind).map(|k| (k, false))
}

/// The event a row of `case` (with its `events`) tells of, and the case as the
/// message shows it; or why there is nothing to tell.
pub async fn event_of(
    log: &dyn EventLog,
    case: &Case,
    events: &[StoredEvent],
    sequence: i64,
    of_primary: bool,
) -> Result<Result<(Case, StoredEvent), &'static str>, StoreError> {
    if of_primary {
        return primary_event(log, case, sequence).await;
    }
    Ok(match events.iter().find(|e| e.sequence == sequence) {
        Some(event) => Ok((case.clone(), event.clone())),
        None => Err("no such event"),
    })
}

/// The primary's event `sequence` a duplicate's row tells of, and the case as
/// the message shows it (the duplicate, handled by the primary's OPD); `Err`
/// with why not when the case no longer follows a primary with such a reply.
async fn primary_event(
    log: &dyn EventLog,
    case: &Case,
    sequence: i64,
) -> Result<Result<(Case, StoredEvent), &'static str>, StoreError> {
    let Some(primary) = case.incident_primary() else {
        return Ok(Err("no longer follows an incident"));
    };
    let events = log.load(primary).await?;
    let Some(event) = events.iter().find(|e| e.sequence == sequence).cloned() else {
        return Ok(Err("no such event"));
    };
    if !matches!(event.event, ComplaintEvent::Responded { .. }) {
        return Ok(Err("no such reply"));
    }
    let mut shown = case.clone();
    shown.opd = aduan_store::codec::fold(&events).0.and_then(|p| p.opd);
    Ok(Ok((shown, event)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_fan_out_and_their_rows_read_back() {
        assert_eq!(
            parse_kind(INCIDENT_RESPONDED),
            Some((Kind::Responded, true))
        );
        assert_eq!(parse_kind("closed"), Some((Kind::Closed, false)));
        assert_eq!(parse_kind("nope"), None);
        let note = ComplaintEvent::NotificationsOptedOut {
            occurred_at: chrono::Utc::now(),
        };
        assert_eq!(fanned_out(&note), None);
    }
}
