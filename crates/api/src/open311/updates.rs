//! FixMyStreet's `servicerequestupdates`: the events that move a case, by the
//! time they were recorded, read from the log through its `recorded_at` index,
//! each with a FixMyStreet status (`statuses::update_status`).

use std::collections::HashSet;

use aduan_domain::{disclosure, ComplaintEvent, ReferenceData};

use super::params::Params;
use super::requests::{at, MAX_REQUESTS};
use super::statuses::{update_status, UPDATE_EVENT_TYPES};
use super::wire::{self, Body, Field, Record};
use super::{Open311, Refusal};

/// The window read without dates: the last day.
const DEFAULT_DAYS: i64 = 1;

/// `GET servicerequestupdates`: oldest first, at most 1,000; a client that
/// sends its `api_key` gets the OPD's own words on the cases it filed.
pub async fn list(o: &Open311, p: &Params) -> Result<Body, Refusal> {
    let client = match p.get("api_key") {
        Some(key) => Some(
            o.clients
                .authenticate(key)
                .await?
                .ok_or_else(|| Refusal::forbidden("invalid api_key"))?,
        ),
        None => None,
    };
    let now = o.bus.services().clock.now();
    let (start, end) = p.window(now, DEFAULT_DAYS)?;
    let events = o
        .bus
        .log()
        .recorded_between(start, end, &UPDATE_EVENT_TYPES, MAX_REQUESTS)
        .await?;
    let own: HashSet<String> = match &client {
        Some(client) => {
            let ids: Vec<String> = events
                .iter()
                .map(|e| e.aggregate_id.clone())
                .collect::<HashSet<_>>()
                .into_iter()
                .collect();
            let reference = client.external_ref();
            o.reads
                .many(&ids)
                .await?
                .into_iter()
                .filter(|(_, case)| case.external_ref.as_deref() == Some(reference.as_str()))
                .map(|(_, case)| case.id)
                .collect()
        }
        None => HashSet::new(),
    };
    let reference = &o.bus.services().reference;
    let records = events
        .iter()
        .filter_map(|e| {
            let status = update_status(&e.event)?;
            let description = describe(&e.event, reference, own.contains(&e.aggregate_id));
            Some(
                Record::default()
                    .with("update_id", format!("{}-{}", e.aggregate_id, e.sequence))
                    .with("service_request_id", e.aggregate_id.as_str())
                    .with("status", status)
                    .with("updated_datetime", at(e.event.occurred_at()))
                    .with("description", description)
                    .with("media_url", Field::Null)
                    .with("external_status_code", e.event_type.as_str()),
            )
        })
        .collect();
    Ok(wire::list(
        "service_request_updates",
        "request_update",
        records,
    ))
}

/// What an update says. Staff's words to the reporter (`disclosure`'s public
/// texts: responses, questions, a closing summary) go to the client that filed
/// the case; everyone else, and every internal text, reads a fixed text.
fn describe(event: &ComplaintEvent, reference: &ReferenceData, own: bool) -> String {
    use ComplaintEvent as E;
    if let Some(text) = disclosure::public_text(event).filter(|_| own) {
        return text.to_string();
    }
    let opd = |code: &str| {
        reference
            .opd(code)
            .map_or(code, |o| o.name.as_str())
            .to_string()
    };
    match event {
        E::Verified { .. } => "Verified by the Command Center.".into(),
        E::Rejected { reason, .. } => format!(
            "Rejected: {}.",
            reason.as_str().to_lowercase().replace('_', " ")
        ),
        E::Assigned { opd: to, .. } => format!("Assigned to {}.", opd(to)),
        E::Transferred { to_opd, .. } => format!("Transferred to {}.", opd(to_opd)),
        E::ReturnedToCommandCenter { .. } => "Returned to the Command Center to be routed.".into(),
        E::Responded { .. } => "The department responded to the reporter.".into(),
        E::InfoRequested { .. } => "The reporter was asked for more information.".into(),
        E::InfoProvided { .. } => "The reporter gave more information.".into(),
        E::FieldHandled { .. } => "Handled on site.".into(),
        E::Closed { resolution, .. } => format!(
            "Closed: {}.",
            resolution.as_str().to_lowercase().replace('_', " ")
        ),
        E::AutoClosed { .. } => "Closed: the reporter did not answer in time.".into(),
        E::Reopened { .. } => "Reopened.".into(),
        _ => String::new(),
    }
}
