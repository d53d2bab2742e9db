//! Which staff texts may leave the city (docs/security.md, "What text leaves
//! the city"). One rule for every path that reaches someone outside the
//! city's staff: the tracking-code view, notifications, Open311, the
//! envelopes of destinations without personal data (webhooks, NATS), and the
//! national platform's follow-ups.
//!
//! A staff text is PUBLIC when the command that wrote it addresses the
//! reporter: a response, a question, a closing summary, a PUBLIC note or the
//! caption of a PUBLIC file, and the watcher's fixed closing text. Every
//! other staff text is INTERNAL: it was written for colleagues (a transfer's
//! escalation's, location correction's or duplicate link's reason, a verification's, dispatch's, return's or rejection's note,
//! field notes, INTERNAL notes, an erasure's reason). A rejection leaves as
//! its code, which each path words for the citizen; staff who want to tell
//! the reporter more add a PUBLIC note. The reporter's own words (the report,
//! answers, a rating's comment, a reopening's reason) are not staff texts:
//! they are personal data and follow `erasure`.

use crate::events::ComplaintEvent;
use crate::values::NoteVisibility;

/// The text of `event` that may be shown outside the city, if it has one.
pub fn public_text(event: &ComplaintEvent) -> Option<&str> {
    use ComplaintEvent as E;
    match event {
        E::Responded { message, .. } => Some(message),
        E::InfoRequested { question, .. } => Some(question),
        E::Closed { summary, .. } => Some(summary),
        E::AutoClosed { reason, .. } => Some(reason),
        E::NoteAdded {
            text,
            visibility: NoteVisibility::Public,
            ..
        } => Some(text),
        E::AttachmentAdded { file, .. } if file.visibility == NoteVisibility::Public => {
            file.caption.as_deref()
        }
        _ => None,
    }
}

/// The paths (inside the event's payload, as `erasure::PersonalField` names
/// them) of the staff texts of `event` that never leave the city.
pub fn internal_fields(event: &ComplaintEvent) -> &'static [&'static [&'static str]] {
    use ComplaintEvent as E;
    match event {
        E::Verified { .. }
        | E::Rejected { .. }
        | E::Assigned { .. }
        | E::ReturnedToCommandCenter { .. } => &[&["note"]],
        E::Transferred { .. }
        | E::Escalated { .. }
        | E::LocationCorrected { .. }
        | E::DuplicateLinked { .. }
        | E::DuplicateUnlinked { .. }
        | E::ReporterDataErased { .. }
        | E::CalendarCorrected { .. } => &[&["reason"]],
        E::FieldHandled { .. } => &[&["notes"]],
        E::NoteAdded { .. } if event.is_internal_note() => &[&["text"]],
        E::AttachmentAdded { .. } if event.is_internal_note() => &[&["file", "caption"]],
        _ => &[],
    }
}

#[cfg(test)]
#[path = "disclosure_tests.rs"]
mod tests;
