use chrono::{DateTime, Utc};
use serde_json::Value;

use aduan_domain::templates::TemplateUse;
use aduan_domain::{disclosure, ComplaintEvent, NoteVisibility};
use aduan_store::codec::StoredEvent;

/// One event of a complaint's history, as an auditor reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    pub sequence: i64,
    pub position: i64,
    pub event_type: String,
    pub event_version: String,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub actor_id: String,
    pub actor_role: String,
    pub actor_opd: Option<String>,
    pub channel: String,
    pub correlation_id: String,
    pub command_id: Option<String>,
    pub payload: Value,
    /// The response template its text was rendered from.
    pub template: Option<TemplateUse>,
}

impl HistoryEntry {
    pub fn from_stored(stored: &StoredEvent) -> HistoryEntry {
        let payload = serde_json::to_value(&stored.event)
            .ok()
            .and_then(|v| v.get(stored.event.event_type_name()).cloned())
            .unwrap_or(Value::Null);
        let m = &stored.metadata;
        HistoryEntry {
            sequence: stored.sequence,
            position: stored.position,
            event_type: stored.event_type.clone(),
            event_version: stored.event_version.clone(),
            occurred_at: stored.event.occurred_at(),
            recorded_at: stored.recorded_at,
            actor_id: m.actor_id.clone(),
            actor_role: m.actor_role.clone(),
            actor_opd: m.actor_opd.clone(),
            channel: m.channel.clone(),
            correlation_id: m.correlation_id.clone(),
            command_id: m.command_id.clone(),
            payload,
            template: stored.event.template_use().cloned(),
        }
    }

    /// Removes the reporter's personal data from the payload, for readers who may
    /// not see it.
    pub fn redact_reporter(&mut self) {
        if let Some(obj) = self.payload.as_object_mut() {
            if obj.contains_key("reporter") && !obj["reporter"].is_null() {
                obj.insert("reporter".into(), Value::String("[redacted]".into()));
            }
        }
    }

    /// Removes the exact address from the payload, for readers who may not see it.
    pub fn redact_address(&mut self) {
        let address = self
            .payload
            .get_mut("location")
            .and_then(Value::as_object_mut)
            .and_then(|l| l.get_mut("address"));
        if let Some(address) = address.filter(|a| !a.is_null()) {
            *address = Value::String("[redacted]".into());
        }
    }
}

impl HistoryEntry {
    /// Removes the staff texts that never leave the city
    /// (`aduan_domain::disclosure`: a transfer's reason, a dispatch's note, ...),
    /// for readers who may not see INTERNAL notes either.
    pub fn redact_internal(&mut self, event: &ComplaintEvent) {
        for path in disclosure::internal_fields(event) {
            let Some((last, parents)) = path.split_last() else {
                continue;
            };
            let mut at = Some(&mut self.payload);
            for key in parents {
                at = at.and_then(|v| v.get_mut(*key));
            }
            if let Some(field) = at.and_then(|v| v.get_mut(*last)).filter(|f| !f.is_null()) {
                *field = Value::String("[redacted]".into());
            }
        }
    }
}

/// The history as of an instant: the events that had occurred by then.
pub fn as_of(events: &[StoredEvent], instant: Option<DateTime<Utc>>) -> &[StoredEvent] {
    match instant {
        None => events,
        Some(t) => {
            let n = events
                .iter()
                .take_while(|e| e.event.occurred_at() <= t)
                .count();
            &events[..n]
        }
    }
}

/// One note on a case, with who wrote it (from the event's metadata).
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    /// The event's sequence within the complaint: a stable cursor.
    pub sequence: i64,
    pub text: String,
    pub visibility: NoteVisibility,
    pub occurred_at: DateTime<Utc>,
    pub actor_id: String,
    pub actor_role: String,
    pub actor_opd: Option<String>,
    pub template: Option<TemplateUse>,
}

/// The case's notes in order, INTERNAL ones only with `internal`.
pub fn notes(events: &[StoredEvent], internal: bool) -> impl DoubleEndedIterator<Item = Note> + '_ {
    events.iter().filter_map(move |e| match &e.event {
        ComplaintEvent::NoteAdded {
            text,
            visibility,
            occurred_at,
            ..
        } if internal || *visibility == NoteVisibility::Public => Some(Note {
            sequence: e.sequence,
            text: text.clone(),
            visibility: *visibility,
            occurred_at: *occurred_at,
            actor_id: e.metadata.actor_id.clone(),
            actor_role: e.metadata.actor_role.clone(),
            actor_opd: e.metadata.actor_opd.clone(),
            template: e.event.template_use().cloned(),
        }),
        _ => None,
    })
}

/// The history a reader may see: without INTERNAL notes unless `internal`.
pub fn visible(events: &[StoredEvent], internal: bool) -> impl Iterator<Item = &StoredEvent> + '_ {
    events
        .iter()
        .filter(move |e| internal || !e.event.is_internal_note())
}
