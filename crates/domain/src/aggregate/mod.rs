//! The complaint aggregate: its state (`Case`), how events fold into it
//! (`fold`), and how it decides a command (`decide`, one module per stage of
//! a case: `intake`, `dispatch`, `handling`, `closing`, `record`).

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use crate::actor::{Actor, Role};
use crate::commands::*;
use crate::error::{ComplaintError, Misdirected};
use crate::events::ComplaintEvent;
use crate::rules::ComplaintServices;
use crate::sla::Leg;
use crate::values::*;

mod closing;
mod decide;
mod dispatch;
mod fold;
mod handing_on;
mod handling;
mod intake;
mod linking;
mod placing;
mod record;

/// The complaint aggregate: `None` until a report is submitted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Complaint(pub Option<Case>);

/// A case's current state, folded from its events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    pub id: String,
    pub status: Status,
    pub channel: Channel,
    pub category: String,
    pub priority: Priority,
    pub title: String,
    pub description: String,
    pub location: Location,
    pub reporter: Option<Reporter>,
    pub anonymous: bool,
    pub attachments: Vec<String>,
    pub external_ref: Option<String>,
    pub opd: Option<String>,
    pub officer_id: Option<String>,
    pub escalation_level: u32,
    /// Where a case goes back to when the citizen answers a request for information.
    pub resume_status: Option<Status>,
    pub resolution: Option<Resolution>,
    pub duplicate_of: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub verified_at: Option<DateTime<Utc>>,
    pub assigned_at: Option<DateTime<Utc>>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub closure_count: u32,
    pub reopen_count: u32,
    /// The closure (by count) the citizen has rated, so each closure is rated once.
    pub rated_closure: Option<u32>,
    pub rating: Option<u8>,
    /// SLA breaches already recorded, so each is recorded once.
    #[serde(default)]
    pub recorded_breaches: Vec<(Leg, DateTime<Utc>)>,
    /// The hash of the case's tracking code (see `tracking`).
    #[serde(default)]
    pub tracking_code_hash: Option<String>,
    /// The reporter's personal data was erased (`ReporterDataErased`): the
    /// fields read as `erasure::ERASED`.
    #[serde(default)]
    pub personal_data_erased: bool,
    /// Whether the citizen has answered the satisfaction survey (once per case).
    #[serde(default)]
    pub survey_answered: bool,
    /// The reporter wants no more notifications about this case.
    #[serde(default)]
    pub notifications_opted_out: bool,
    /// The calendar version a recorded correction puts the case's clocks in
    /// (`CalendarCorrected`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar_correction: Option<u32>,
    /// The place was corrected (`LocationCorrected`): readers that put the
    /// exact address back take it from the last correction, not the submission.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub location_corrected: bool,
    /// The incident's primary this case follows (`DuplicateLinked`), also
    /// after it was closed with it; none once unlinked or reopened itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_id: Option<String>,
    /// The status an unlinking restores, while linked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linked_from: Option<Status>,
    /// The number people say (`numbering`); none on cases from before numbers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// Where the case has been handed on to, and what of it was escalated.
    #[serde(default)]
    pub handoff_trail: crate::handoffs::HandoffTrail,
}

impl Case {
    /// The reference the case's reporter is erased by (see `erasure::reporter_ref`).
    pub fn reporter_ref(&self) -> String {
        crate::erasure::reporter_ref(&self.id, self.reporter.as_ref())
    }

    /// The primary whose progress this case's reporter follows: while linked
    /// as its duplicate, and after being closed with it.
    pub fn incident_primary(&self) -> Option<&str> {
        self.primary_id.as_deref()
    }

    /// The signed-in citizen who reported this case, if any.
    pub fn is_reporter(&self, actor: &Actor) -> bool {
        actor.role == Role::Citizen
            && self
                .reporter
                .as_ref()
                .and_then(|r| r.subject.as_deref())
                .is_some_and(|s| s == actor.id)
    }
}

impl Aggregate for Complaint {
    const TYPE: &'static str = "Complaint";
    type Command = Command;
    type Event = ComplaintEvent;
    type Error = ComplaintError;
    type Services = ComplaintServices;

    async fn handle(
        &mut self,
        command: Command,
        services: &ComplaintServices,
        sink: &EventSink<Self>,
    ) -> Result<(), ComplaintError> {
        for event in self.decide_all(command, services)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: ComplaintEvent) {
        let at = event.occurred_at();
        if let ComplaintEvent::Submitted { .. } = event {
            self.0 = Some(Case::submitted(event));
            return;
        }
        let Some(case) = self.0.as_mut() else {
            return;
        };
        // A note is recorded beside the case and changes none of it, not even
        // `updated_at`: an INTERNAL note must leave no trace where the citizen
        // or the tracking-code view looks.
        if let ComplaintEvent::NoteAdded { .. } | ComplaintEvent::AttachmentAdded { .. } = event {
            return;
        }
        // Nor does an erasure move `updated_at`: dashboards, lists and SLA
        // figures stay exactly as they were.
        if let ComplaintEvent::ReporterDataErased { .. }
        | ComplaintEvent::NotificationsOptedOut { .. }
        | ComplaintEvent::CalendarCorrected { .. } = event
        {
            case.fold(event);
            return;
        }
        case.updated_at = at;
        case.fold(event);
    }
}

impl Complaint {
    /// Decide the events a command produces: its action's, then one
    /// `AttachmentAdded` per file it carries; or why none may happen.
    pub fn decide_all(
        &self,
        command: Command,
        services: &ComplaintServices,
    ) -> Result<Vec<ComplaintEvent>, ComplaintError> {
        let Command {
            actor,
            action,
            files,
        } = command;
        let (placed, main) = self.decide_placed(&actor, action, services)?;
        let escalation = self.loop_escalation(&main, services);
        if files.is_empty() {
            return Ok(placed.into_iter().chain([main]).chain(escalation).collect());
        }
        if !main.carries_files() {
            return Err(ComplaintError::Misdirected(Misdirected::FilesNotCarried));
        }
        if files.len() > MAX_ATTACHMENTS {
            return Err(ComplaintError::invalid(
                "files",
                format!("at most {MAX_ATTACHMENTS} files per command"),
            ));
        }
        let reporter = matches!(actor.role, Role::Citizen | Role::Public);
        let now = services.clock.now();
        let mut events: Vec<ComplaintEvent> = placed.into_iter().chain([main]).collect();
        for file in files {
            if reporter && file.get().visibility == NoteVisibility::Internal {
                return Err(internal_by_reporter());
            }
            events.push(ComplaintEvent::AttachmentAdded {
                file: file.into_ref(),
                occurred_at: now,
            });
        }
        Ok(events)
    }

    /// A verification that places the case is two events: its
    /// `LocationCorrected` (none when the place is already so), then the
    /// `Verified`, decided on the placed case. Any other action is its own event.
    fn decide_placed(
        &self,
        actor: &Actor,
        mut action: Action,
        services: &ComplaintServices,
    ) -> Result<(Option<ComplaintEvent>, ComplaintEvent), ComplaintError> {
        let correction = match (&mut action, &self.0) {
            (Action::Verify(v), Some(case)) => v
                .location
                .take()
                .filter(|c| c.applied_to(&case.location) != case.location),
            _ => None,
        };
        let Some(correction) = correction else {
            return Ok((
                None,
                self.decide(Command::new(actor.clone(), action), services)?,
            ));
        };
        let place = Action::CorrectLocation(CorrectLocation {
            correction,
            reason: None,
        });
        let placed = self.decide(Command::new(actor.clone(), place), services)?;
        let mut after = self.clone();
        after.apply(placed.clone());
        let main = after.decide(Command::new(actor.clone(), action), services)?;
        Ok((Some(placed), main))
    }

    /// Decide the event a command's action produces, or why it may not happen
    /// (the command's files are `decide_all`'s).
    pub fn decide(
        &self,
        command: Command,
        services: &ComplaintServices,
    ) -> Result<ComplaintEvent, ComplaintError> {
        let Command { actor, action, .. } = command;
        let now = services.clock.now();
        let decision = decide::Decision {
            actor: &actor,
            services,
            now,
        };
        match (&self.0, action) {
            (None, Action::Submit(submit)) => intake::submit(&decision, submit),
            (Some(_), Action::Submit(_)) => Err(ComplaintError::AlreadyExists),
            (None, _) => Err(ComplaintError::NotFound),
            (Some(case), action) => case.decide(&decision, action),
        }
    }
}

/// A reporter may not file what only staff may see.
fn internal_by_reporter() -> ComplaintError {
    ComplaintError::invalid(
        "visibility",
        "only city staff may file INTERNAL attachments",
    )
}
