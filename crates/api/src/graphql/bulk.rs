//! `bulkAct`: one request acting on up to 500 cases. Each item is its own
//! command through the bus, as the single mutation would send it, decided by
//! the aggregate on its case's state and checked against the access table
//! for that case, with a command id derived from the request's id: a refusal
//! is that item's answer and undoes nothing else, and a retried request
//! replays each item's first result through the bus's idempotency. The bus
//! appends the accepted items together (`CommandBus::execute_batch`); links
//! go one at a time through `linkDuplicate`'s own path (`links::run_link`).

use std::collections::HashSet;

use async_graphql::{Context, Object, Result, ID};
use uuid::Uuid;

use aduan_domain::access::Operation;
use aduan_domain::{Action, Actor, Command, LinkDuplicate};
use aduan_store::{CommandOutcome, CommandRequest, RequestContext};

use super::access::guard;
use super::bulk_inputs::{BulkInput, BulkItemResult, BulkResult};
use super::bulk_templates::per_case;
use super::context::{bus, correlation_id};
use super::error::{command_error, invalid_input};
use super::links::run_link;
use super::mutation::checked_id;
use crate::error_code::ClientCode;

/// The most cases one request acts on.
pub const MAX_ITEMS: usize = 500;

/// Items under way at once when they go one by one (refusals confirmed
/// against the log, retries replayed). Items are on distinct cases, so they
/// never wait for each other in the bus's per-case queues; this bounds what
/// one request holds of the store's pool (32 connections on PostgreSQL by
/// default), leaving room for everyone else's requests.
const PARALLEL: usize = 8;

/// Items' command ids are UUIDs v5 in this namespace, of the request id,
/// the action and the case.
const ITEM_NAMESPACE: Uuid = Uuid::from_u128(0x6164_7561_6e2d_6275_6c6b_2d69_7465_6d73);

#[derive(Default)]
pub struct BulkMutation;

#[Object]
impl BulkMutation {
    /// One action (`action`, with the one payload it names) on up to 500
    /// cases. The answer holds a result per case, in the order sent; a
    /// refused case (FORBIDDEN, NOT_FOUND, INVALID_TRANSITION, ...) does not
    /// stop or undo the others. Re-sending the same `requestId` changes
    /// nothing twice. The whole request is INVALID_INPUT, with nothing done,
    /// for no ids, more than 500, an id twice, or a missing or invalid
    /// payload; FORBIDDEN when the caller's role may not do the action at
    /// all. See docs/api.md, "Bulk actions".
    async fn bulk_act(&self, ctx: &Context<'_>, mut input: BulkInput) -> Result<BulkResult> {
        let (actor, _) = guard(ctx, Operation::BulkAct)?;
        // The role-wide answer for the action, before anything is done; each
        // case is then checked by the aggregate, as for the single mutation.
        guard(ctx, input.action.operation())?;
        let request_id = checked_id("requestId", &input.request_id)?.to_string();
        let complaint_ids = std::mem::take(&mut input.complaint_ids);
        let ids = checked_ids(&complaint_ids)?;
        if input.payloads() != 1 {
            return Err(invalid_input(
                input.action.payload(),
                "give exactly one payload: the one the action names",
            ));
        }
        let template = input.template();
        let action = input
            .parse_action(&bus(ctx)?.services().reference)
            .map_err(|e| command_error(e.into()))?;
        let name = input.action.payload();
        let items = match (action, template) {
            (Action::LinkDuplicate(link), _) => links(ctx, &actor, &request_id, &link, ids).await,
            (base, Some(template)) => {
                let field = input.action.text_field();
                let actions = per_case(ctx, &actor, base, field, template, ids).await?;
                batch(ctx, &actor, &request_id, name, actions).await?
            }
            (other, None) => {
                let actions = ids.into_iter().map(|id| (id, Ok(other.clone()))).collect();
                batch(ctx, &actor, &request_id, name, actions).await?
            }
        };
        let succeeded = items.iter().filter(|i| i.ok).count();
        Ok(BulkResult {
            request_id: ID::from(request_id),
            action: input.action,
            succeeded: i32::try_from(succeeded).unwrap_or(i32::MAX),
            failed: i32::try_from(items.len() - succeeded).unwrap_or(i32::MAX),
            items,
        })
    }
}

/// The ids, checked as the single mutations check theirs: 1 to 500, each once.
fn checked_ids(ids: &[ID]) -> Result<Vec<String>> {
    if ids.is_empty() || ids.len() > MAX_ITEMS {
        return Err(invalid_input(
            "complaintIds",
            "must hold 1 to 500 complaint ids",
        ));
    }
    let mut seen = HashSet::with_capacity(ids.len());
    for id in ids {
        checked_id("complaintIds", id)?;
        if !seen.insert(id.as_str()) {
            return Err(invalid_input(
                "complaintIds",
                &format!("names {} twice", id.as_str()),
            ));
        }
    }
    Ok(ids.iter().map(|id| id.to_string()).collect())
}

/// The command id of one item: the same for every retry of the request.
pub fn item_command_id(request_id: &str, action: &str, complaint_id: &str) -> String {
    let name = format!("{request_id}\u{0}{action}\u{0}{complaint_id}");
    Uuid::new_v5(&ITEM_NAMESPACE, name.as_bytes()).to_string()
}

/// Each case's command through the bus (`CommandBus::execute_batch`: the
/// accepted ones appended together, the rest one by one as `execute` does); a
/// case whose action could not be made is refused as it stands.
async fn batch(
    ctx: &Context<'_>,
    actor: &Actor,
    request_id: &str,
    name: &str,
    actions: Vec<(String, Result<Action>)>,
) -> Result<Vec<BulkItemResult>> {
    let correlation = correlation_id(ctx);
    let mut items: Vec<Option<BulkItemResult>> = Vec::with_capacity(actions.len());
    let mut requests = Vec::new();
    for (id, action) in actions {
        let command_id = item_command_id(request_id, name, &id);
        match action {
            Ok(action) => {
                items.push(None);
                requests.push(CommandRequest {
                    complaint_id: id,
                    command: Command::new(actor.clone(), action),
                    context: RequestContext {
                        channel: "graphql".into(),
                        correlation_id: correlation.clone(),
                    },
                    command_id: Some(command_id),
                    expected_version: None,
                });
            }
            Err(e) => items.push(Some(item(id, command_id, Err(e)))),
        }
    }
    let sent: Vec<(String, String)> = requests
        .iter()
        .map(|r| {
            (
                r.complaint_id.clone(),
                r.command_id.clone().unwrap_or_default(),
            )
        })
        .collect();
    let started = std::time::Instant::now();
    let answers = bus(ctx)?.execute_batch(requests, PARALLEL).await;
    let each = started.elapsed() / u32::try_from(sent.len()).unwrap_or(1).max(1);
    let mut done = sent
        .into_iter()
        .zip(answers)
        .map(|((id, command_id), answer)| {
            crate::metrics::record_command(
                ctx.field().name(),
                answer.as_ref().map(|_| ()).map_err(ClientCode::from),
                each,
                answer.as_ref().ok().map(|o| u64::from(o.round_trips)),
            );
            item(id, command_id, answer.map_err(command_error))
        });
    Ok(items
        .into_iter()
        .filter_map(|slot| slot.or_else(|| done.next()))
        .collect())
}

/// Links one at a time, as `linkDuplicate` does (each reads the primary and
/// the read side first).
async fn links(
    ctx: &Context<'_>,
    actor: &Actor,
    request_id: &str,
    link: &LinkDuplicate,
    ids: Vec<String>,
) -> Vec<BulkItemResult> {
    let mut items = Vec::with_capacity(ids.len());
    for id in ids {
        let command_id = item_command_id(request_id, "linkDuplicate", &id);
        let cid = Some(command_id.clone());
        let outcome = run_link(ctx, actor, id.clone(), cid, None, link.clone()).await;
        items.push(item(id, command_id, outcome));
    }
    items
}

fn item(id: String, command_id: String, outcome: Result<CommandOutcome>) -> BulkItemResult {
    let mut item = BulkItemResult {
        complaint_id: ID::from(id),
        command_id,
        ok: false,
        code: None,
        message: None,
        version: None,
        position: None,
    };
    match outcome {
        Ok(done) => {
            item.ok = true;
            item.version = Some(done.version);
            item.position = Some(done.position);
        }
        Err(e) => {
            let code = ClientCode::of(e.extensions.as_ref()).unwrap_or(ClientCode::Internal);
            item.code = Some(code.as_str().to_string());
            item.message = Some(e.message);
        }
    }
    item
}
