//! `eraseReporterData`: a SUPERVISOR erases a reporter's personal data on every
//! case they have data on (Law No. 27 of 2022; docs/erasure.md). Kept apart
//! from the other mutations: it acts on a reporter, not on one complaint.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};

use aduan_domain::access::Operation;
use aduan_domain::ComplaintError;
use aduan_store::erasure::erase_reporter;
use aduan_store::{CommandError, RequestContext};

use super::access::guard;
use super::context::{bus, correlation_id};
use super::error::{command_error, gql_error};
use crate::error_code::ClientCode;

#[derive(Default)]
pub struct ErasureMutation;

#[derive(InputObject)]
pub struct EraseReporterDataInput {
    /// The reporter's reference, as `Complaint.reporterRef` shows it: the same
    /// on every case of a signed-in citizen, the case's own for a reporter
    /// without an account.
    pub reporter_ref: String,
    /// Why (the citizen's request and its reference, the legal ground): kept in
    /// each case's `ReporterDataErased` event.
    pub reason: String,
}

/// What an erasure did. A repeat returns the same complaints, none erased now.
#[derive(SimpleObject)]
pub struct ReporterErasure {
    pub reporter_ref: String,
    /// Every case of the reporter, erased now or before.
    pub complaints: Vec<ID>,
    /// The cases that got their `ReporterDataErased` event with this call.
    pub erased_now: Vec<ID>,
    /// Keys destroyed by this call.
    pub keys_destroyed: i32,
    /// Objects (files the reporter sent, and their thumbnails) deleted from
    /// storage by this call.
    pub files_deleted: i32,
}

#[Object]
impl ErasureMutation {
    /// Erases a reporter's personal data (name, phone, e-mail, exact address,
    /// the title, description, answers and comments they wrote) on every case
    /// they have data on, by destroying the keys it is sealed with. Each case
    /// gets a `ReporterDataErased` event first; the files the reporter sent
    /// (and their thumbnails) are deleted from storage after. Statistics,
    /// dashboards and SLA figures do not change. SUPERVISOR only; repeating it
    /// is harmless.
    async fn erase_reporter_data(
        &self,
        ctx: &Context<'_>,
        input: EraseReporterDataInput,
    ) -> Result<ReporterErasure> {
        let (actor, _) = guard(ctx, Operation::EraseReporterData)?;
        let context = RequestContext {
            channel: "graphql".into(),
            correlation_id: correlation_id(ctx),
        };
        let done = erase_reporter(
            bus(ctx)?,
            &actor,
            &context,
            &input.reporter_ref,
            &input.reason,
        )
        .await
        .map_err(|e| match e {
            CommandError::Domain(ComplaintError::NotFound) => gql_error(
                ClientCode::NotFound,
                "no reporter with this reference has personal data here",
            ),
            other => command_error(other),
        })?;
        // The files the reporter sent go too; the keys are destroyed already,
        // so a storage failure here leaves a repeat of the call to finish it.
        let files_deleted = crate::erased_files::erase(
            bus(ctx)?.log().as_ref(),
            super::attachments::signer(ctx)?.objects(),
            &done.complaints,
        )
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "erasure: the reporter's files were not all deleted");
            gql_error(
                ClientCode::Unavailable,
                "the personal data is erased; the reporter's files were not all deleted: retry",
            )
        })?;
        Ok(ReporterErasure {
            files_deleted: i32::try_from(files_deleted).unwrap_or(i32::MAX),
            reporter_ref: done.reporter_ref,
            complaints: done.complaints.into_iter().map(ID).collect(),
            erased_now: done.erased_now.into_iter().map(ID).collect(),
            keys_destroyed: i32::try_from(done.keys_destroyed).unwrap_or(i32::MAX),
        })
    }
}
