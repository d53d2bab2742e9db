//! Work queues: the orders `complaints` reads in, the queue conditions of its
//! filter, and the caller's scope, turned into one read of the summary. The
//! list and the spreadsheet exports (`crate::export`) build their read here,
//! so both show the same cases in the same order.

use async_graphql::{Enum, InputObject, Result};
use chrono::{DateTime, Utc};

use aduan_domain::access::Scope;
use aduan_domain::numbering::CaseNumber;
use aduan_domain::places::Circle;
use aduan_domain::{Actor, Status};
use aduan_projections::summary_query::{OrderField, SummaryFilter, SummaryOrder};

use super::error::{gql_error, invalid_input};
use super::list::ComplaintFilter;
use crate::error_code::ClientCode;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ComplaintOrderField {
    /// The running SLA clock's deadline: ascending is the most urgent first;
    /// cases without a running clock (none yet, paused, met) come after every
    /// case with one (and, descending, before them).
    SlaDeadline,
    /// EMERGENCY, HIGH, NORMAL, LOW (ascending), then by SLA deadline.
    Priority,
    Created,
    Updated,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum OrderDirection {
    Asc,
    Desc,
}

/// A list's order; without one, newest first (CREATED DESC).
#[derive(InputObject, Clone, Copy)]
pub struct ComplaintOrder {
    pub field: ComplaintOrderField,
    /// ASC unless given.
    pub direction: Option<OrderDirection>,
}

impl ComplaintOrder {
    /// The order asked for; without one, a text search's best matches first
    /// and any other list newest first.
    pub fn parse(order: Option<ComplaintOrder>, text: Option<&str>) -> SummaryOrder {
        let Some(o) = order else {
            let searches = text.is_some_and(|t| {
                CaseNumber::parse(t).is_err() && !aduan_domain::search::query_terms(t).is_empty()
            });
            return match searches {
                true => SummaryOrder {
                    field: OrderField::Relevance,
                    descending: true,
                },
                false => SummaryOrder::default(),
            };
        };
        SummaryOrder {
            field: match o.field {
                ComplaintOrderField::SlaDeadline => OrderField::SlaDeadline,
                ComplaintOrderField::Priority => OrderField::Priority,
                ComplaintOrderField::Created => OrderField::Created,
                ComplaintOrderField::Updated => OrderField::Updated,
            },
            descending: o.direction == Some(OrderDirection::Desc),
        }
    }
}

/// The queue conditions of a `ComplaintFilter`, read with the caller's identity.
pub struct QueueInputs {
    pub officer_id: Option<Vec<String>>,
    pub assigned_to_me: Option<bool>,
    pub unassigned_officer: Option<bool>,
    pub waiting_for_info: Option<bool>,
}

impl QueueInputs {
    /// Adds the conditions to `filter`: `assignedToMe` is the caller's own id
    /// as officer (`Assigned.officer_id` is the officer's actor id).
    pub fn apply(self, actor: &Actor, filter: &mut SummaryFilter) -> Result<()> {
        filter.officer_ids = self.officer_id.unwrap_or_default();
        if self.assigned_to_me == Some(true) {
            if !filter.officer_ids.is_empty() {
                return Err(invalid_input(
                    "filter.assignedToMe",
                    "cannot be combined with officerId",
                ));
            }
            filter.officer_ids = vec![actor.id.clone()];
        }
        filter.unassigned_officer = self.unassigned_officer == Some(true);
        let waiting = Status::WaitingForInfo.as_str().to_string();
        match self.waiting_for_info {
            Some(true) if filter.statuses.is_empty() => filter.statuses = vec![waiting],
            Some(true) if filter.statuses.contains(&waiting) => filter.statuses = vec![waiting],
            Some(true) => {
                return Err(invalid_input(
                    "filter.waitingForInfo",
                    "contradicts the status filter",
                ))
            }
            Some(false) => filter.not_statuses.push(waiting),
            None => {}
        }
        Ok(())
    }
}

/// The read of the list `actor` asked for: its filter, its order and its scope.
pub fn list_read(
    actor: &Actor,
    scope: Scope,
    filter: ComplaintFilter,
    order: SummaryOrder,
    now: DateTime<Utc>,
) -> Result<(SummaryFilter, Option<Circle>)> {
    let (mut query, circle) = filter.into_query(actor, now)?;
    query.order = order;
    match scope {
        Scope::All => {}
        Scope::Opd(opd) => query.opds = vec![opd],
        Scope::Reporter(reporter) => query.reporter_ref = Some(reporter),
        Scope::Nothing => return Err(gql_error(ClientCode::Forbidden, "no complaints to list")),
    }
    Ok((query, circle))
}
