use async_graphql::{Context, Object, Result, ID};
use chrono::{DateTime, Utc};

use aduan_domain::access::{self, Access, Operation};
use aduan_domain::numbering::CaseNumber;
use aduan_domain::{Actor, ReferenceData};
use aduan_projections::view::{
    may_see_address, may_see_internal_notes, may_see_reporter, with_personal_data,
};
use aduan_projections::{history, ComplaintView, HistoryEntry};
use aduan_store::StoredEvent;

use super::access::{check_case, guard};
use super::context::{bus, reads};
use super::error::{gql_error, invalid_input, store_error};
use super::freshness;
use super::types::{Category, Complaint, HistoryEvent, Kecamatan, Kelurahan, Opd, Viewer};
use crate::error_code::ClientCode;

#[derive(Default)]
pub struct ComplaintQuery;

fn not_found() -> async_graphql::Error {
    gql_error(ClientCode::NotFound, "complaint not found")
}

async fn load(ctx: &Context<'_>, id: &str) -> Result<Vec<StoredEvent>> {
    if id.len() > 100 {
        return Err(not_found());
    }
    let events = bus(ctx)?.log().load(id).await.map_err(store_error)?;
    if events.is_empty() {
        return Err(not_found());
    }
    Ok(events)
}

/// The complaint as the summary projection holds it, with the personal data the
/// projection leaves out put back (from the submission and corrections) for those who may
/// see it; `None` if the projection has not reached the complaint's last event.
///
/// The row's version is checked against the stream's after the row is read, so
/// every command acknowledged before the read began is in what is shown: a row
/// behind the log gives way to folding the events (a client that has just acted
/// never sees the case as it was before, `minPosition` or not).
async fn projected(ctx: &Context<'_>, actor: &Actor, id: &str) -> Result<Option<ComplaintView>> {
    let log = bus(ctx)?.log();
    let Some((row, case)) = reads(ctx)?.one(id).await.map_err(store_error)? else {
        return Ok(None);
    };
    if log.version(id).await.map_err(store_error)? > row.version {
        metrics::counter!(crate::metrics::CASE_READS_FOLDED).increment(1);
        return Ok(None);
    }
    let case = if !may_need_personal_data(actor) {
        case
    } else if case.location_corrected {
        // The address is the last correction's: read the case's events.
        let events = log.load(id).await.map_err(store_error)?;
        with_personal_data(case, &events)
    } else {
        let submitted = log.load_one(id, 1).await.map_err(store_error)?;
        with_personal_data(case, submitted.as_slice())
    };
    Ok(Some(ComplaintView {
        case,
        version: row.version,
        position: row.last_position,
    }))
}

/// Whether the reporter or address could be shown to `actor` on some case (a
/// citizen's own cases are known by the reporter, which comes with them).
fn may_need_personal_data(actor: &Actor) -> bool {
    [Operation::ReporterContact, Operation::ExactAddress]
        .into_iter()
        .any(|op| access::access(actor.role, op) != Access::Refused)
}

/// One complaint as `op` (`complaint` or `node`) lets the caller read it.
pub(super) async fn read_complaint(
    ctx: &Context<'_>,
    op: Operation,
    id: &str,
    min_position: Option<i64>,
) -> Result<Complaint> {
    let (actor, _) = guard(ctx, op)?;
    if id.len() > 100 {
        return Err(not_found());
    }
    freshness::reach(ctx, &[freshness::SUMMARY], min_position).await?;
    let view = match projected(ctx, &actor, id).await? {
        Some(view) => view,
        None => ComplaintView::from_events(&load(ctx, id).await?).ok_or_else(not_found)?,
    };
    check_case(&actor, op, &view.case, None)?;
    Ok(Complaint::from_view(view, &actor))
}

/// The id of the case numbered `number`; NOT_FOUND for none, INVALID_INPUT
/// (`field: number`) for a text that is no case number.
async fn by_number(ctx: &Context<'_>, number: &str, min_position: Option<i64>) -> Result<String> {
    guard(ctx, Operation::Complaint)?;
    let number = CaseNumber::parse(number).map_err(|e| invalid_input("number", &e.to_string()))?;
    freshness::reach(ctx, &[freshness::SUMMARY], min_position).await?;
    reads(ctx)?
        .id_by_number(number.as_str())
        .await
        .map_err(store_error)?
        .ok_or_else(not_found)
}

fn reference<'a>(ctx: &Context<'a>) -> Result<&'a ReferenceData> {
    Ok(&bus(ctx)?.services().reference)
}

#[Object]
impl ComplaintQuery {
    /// A complaint's current state, from the summary projection: pass a mutation's
    /// `position` as `minPosition` to read your own write. A complaint the
    /// projection has not reached yet is folded from its events, so a client never
    /// gets NOT_FOUND for a case it has just created. `complaintHistory` reads the
    /// event log itself.
    ///
    /// Name the case by `id` or by `number` (`MKS-2026-004512`, as a caller
    /// reads it out: any case, leading zeros optional), not both. A number is
    /// found through the summary projection, so a case submitted moments ago
    /// may be NOT_FOUND by number for as long as the projection lags.
    async fn complaint(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        number: Option<String>,
        min_position: Option<i64>,
    ) -> Result<Complaint> {
        let id = match (id, number) {
            (Some(id), None) => id.0,
            (None, Some(number)) => by_number(ctx, &number, min_position).await?,
            _ => {
                return Err(invalid_input(
                    "id",
                    "give the case's id or its number, not both",
                ))
            }
        };
        read_complaint(ctx, Operation::Complaint, &id, min_position).await
    }

    /// Every stored event of a complaint in order; with `asOf`, only those that had
    /// occurred by then. INTERNAL notes (`NoteAdded`) are left out for readers
    /// who may not see them, and the staff texts that never leave the city (a
    /// transfer's reason, a dispatch's note, ...: docs/security.md) read
    /// `[redacted]` for them.
    async fn complaint_history(
        &self,
        ctx: &Context<'_>,
        id: ID,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Vec<HistoryEvent>> {
        let (actor, _) = guard(ctx, Operation::ComplaintHistory)?;
        let events = load(ctx, &id).await?;
        let view = ComplaintView::from_events(&events).ok_or_else(not_found)?;
        check_case(&actor, Operation::ComplaintHistory, &view.case, None)?;
        let show_reporter = may_see_reporter(&actor, &view.case);
        let show_address = may_see_address(&actor, &view.case);
        let show_internal = may_see_internal_notes(&actor, &view.case);
        Ok(
            history::visible(history::as_of(&events, as_of), show_internal)
                .map(|e| {
                    let mut entry = HistoryEntry::from_stored(e);
                    if !show_reporter {
                        entry.redact_reporter();
                    }
                    if !show_address {
                        entry.redact_address();
                    }
                    if !show_internal {
                        entry.redact_internal(&e.event);
                    }
                    entry.into()
                })
                .collect(),
        )
    }

    /// The signed-in caller.
    async fn me(&self, ctx: &Context<'_>) -> Result<Viewer> {
        let (actor, _) = guard(ctx, Operation::Me)?;
        Ok(Viewer {
            id: actor.id,
            role: actor.role.into(),
            opd: actor.opd,
        })
    }

    async fn opds(&self, ctx: &Context<'_>) -> Result<Vec<Opd>> {
        guard(ctx, Operation::ReferenceData)?;
        Ok(reference(ctx)?
            .opds
            .iter()
            .map(|o| Opd {
                code: o.code.clone(),
                name: o.name.clone(),
                description: o.description.clone(),
            })
            .collect())
    }

    async fn categories(&self, ctx: &Context<'_>) -> Result<Vec<Category>> {
        guard(ctx, Operation::ReferenceData)?;
        Ok(reference(ctx)?
            .categories
            .iter()
            .map(|c| Category {
                code: c.code.clone(),
                name: c.name.clone(),
                default_opd: c.default_opd.clone(),
            })
            .collect())
    }

    async fn kecamatan(&self, ctx: &Context<'_>) -> Result<Vec<Kecamatan>> {
        guard(ctx, Operation::ReferenceData)?;
        Ok(reference(ctx)?
            .kecamatan
            .iter()
            .map(|k| Kecamatan {
                code: k.code.clone(),
                name: k.name.clone(),
            })
            .collect())
    }

    /// The city's kelurahan, of one kecamatan when `kecamatan` is given. A
    /// location names a kelurahan by its code or its official name; cases
    /// store the code.
    async fn kelurahan(
        &self,
        ctx: &Context<'_>,
        kecamatan: Option<String>,
    ) -> Result<Vec<Kelurahan>> {
        guard(ctx, Operation::ReferenceData)?;
        Ok(reference(ctx)?
            .kelurahan
            .iter()
            .filter(|k| kecamatan.as_ref().is_none_or(|c| *c == k.kecamatan))
            .map(|k| Kelurahan {
                code: k.code.clone(),
                name: k.name.clone(),
                kecamatan: k.kecamatan.clone(),
            })
            .collect())
    }
}
