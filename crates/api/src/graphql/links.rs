//! `linkDuplicate`: the one command that needs facts from other cases. The
//! duplicate's aggregate sees its own stream only, so the edge reads the
//! primary from the log and counts, on the read side brought up to the log's
//! head, the cases already linked to the one being linked (chains and cycles
//! are refused on those facts). Links are decided one at a time in a process,
//! so two links racing through it cannot both pass the check; across API
//! processes a race of two opposite links remains possible (docs/api.md).

use std::sync::LazyLock;
use std::time::Duration;

use async_graphql::{Context, Result};
use tokio::sync::Mutex;

use aduan_domain::{Action, Actor, Command, LinkDuplicate, PrimaryFacts, Status};
use aduan_projections::summary_query::SummaryFilter;
use aduan_projections::ComplaintView;
use aduan_store::{codec, CommandOutcome};

use super::access::guard;
use super::context::{bus, reads};
use super::error::{command_error, gql_error, store_error};
use super::freshness::SUMMARY;
use super::inputs::{LinkDuplicateInput, TargetedInput};
use super::mutation::{checked_id, run};
use super::types::Complaint;
use crate::error_code::ClientCode;

static ONE_AT_A_TIME: LazyLock<Mutex<()>> = LazyLock::new(|| Mutex::new(()));

/// How long the read side may take to reach the log's head (as long as the
/// incident closer waits: a projector behind a burst of commands).
const CATCH_UP: Duration = Duration::from_secs(10);

pub async fn link(ctx: &Context<'_>, input: LinkDuplicateInput) -> Result<Complaint> {
    let target = input.target().clone();
    let (actor, _) = guard(ctx, LinkDuplicateInput::OPERATION)?;
    checked_id("complaintId", &target.complaint_id)?;
    let action = input
        .into_action(&bus(ctx)?.services().reference)
        .map_err(|e| command_error(e.into()))?;
    let Action::LinkDuplicate(link) = action else {
        return Err(gql_error(
            ClientCode::Internal,
            "linkDuplicate parsed into another action",
        ));
    };
    let id = target.complaint_id.0;
    let outcome = run_link(
        ctx,
        &actor,
        id,
        target.command_id,
        target.expected_version,
        link,
    )
    .await?;
    let view = ComplaintView {
        case: outcome.case,
        version: outcome.version,
        position: outcome.position,
    };
    Ok(Complaint::from_view(view, &actor))
}

/// Links `id` as `link` asks, on the facts read in this process's turn (the
/// single mutation and each item of `bulkAct` alike).
pub(super) async fn run_link(
    ctx: &Context<'_>,
    actor: &Actor,
    id: String,
    command_id: Option<String>,
    expected_version: Option<i64>,
    mut link: LinkDuplicate,
) -> Result<CommandOutcome> {
    let _turn = ONE_AT_A_TIME.lock().await;
    link.primary = primary_facts(ctx, link.primary_id.as_str()).await?;
    link.own_duplicates = linked_to(ctx, &id).await?;
    let command = Command::new(actor.clone(), Action::LinkDuplicate(link));
    run(ctx, id, command_id, expected_version, command).await
}

/// The primary as its stream has it now; none if there is no such case.
async fn primary_facts(ctx: &Context<'_>, id: &str) -> Result<Option<PrimaryFacts>> {
    let events = bus(ctx)?.log().load(id).await.map_err(store_error)?;
    Ok(codec::fold(&events).0.map(|case| PrimaryFacts {
        status: case.status,
        category: case.category,
        opd: case.opd,
        latitude: case.location.latitude,
        longitude: case.location.longitude,
    }))
}

/// How many cases are linked to `id` as their primary, read once the
/// summary has applied every event appended so far.
async fn linked_to(ctx: &Context<'_>, id: &str) -> Result<u32> {
    let head = bus(ctx)?.log().head().await.map_err(store_error)?;
    let reads = reads(ctx)?;
    let reached = reads
        .wait_for(SUMMARY, head.position, CATCH_UP)
        .await
        .map_err(store_error)?;
    if !reached {
        return Err(gql_error(
            ClientCode::Unavailable,
            "the read side is catching up; retry the link",
        ));
    }
    let filter = SummaryFilter {
        duplicates_of: vec![id.to_string()],
        statuses: vec![Status::Duplicate.as_str().to_string()],
        ..SummaryFilter::default()
    };
    let count = reads.count_rows(&filter).await.map_err(store_error)?;
    Ok(u32::try_from(count).unwrap_or(u32::MAX))
}
