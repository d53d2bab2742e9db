//! Incidents: a primary case with the cases linked to it (or closed through
//! it) as duplicates. `Complaint.duplicates` lists them for staff; each list
//! item's `reportCount` counts them (`summary_query`).

use async_graphql::{Context, Result};

use aduan_domain::access::{self, Access, Operation, Scope};

use super::access::caller;
use super::context::{bus, reads};
use super::error::store_error;
use super::list::ComplaintListItem;

/// The most duplicates `Complaint.duplicates` lists.
pub const MAX_DUPLICATES: i64 = 200;

/// The cases whose `duplicateOf` is `id`, oldest first, as the caller may list
/// them with `complaints`: all of them for city-wide staff, their own OPD's for
/// an OPD's staff, none for reporters and the public.
pub async fn duplicates(ctx: &Context<'_>, id: &str) -> Result<Vec<ComplaintListItem>> {
    let actor = caller(ctx)?;
    if access::access(actor.role, Operation::Complaints) == Access::Refused {
        return Ok(Vec::new());
    }
    let opd = match access::scope(&actor, Operation::Complaints) {
        Scope::All => None,
        Scope::Opd(opd) => Some(opd),
        Scope::Reporter(_) | Scope::Nothing => return Ok(Vec::new()),
    };
    let now = bus(ctx)?.services().clock.now();
    let rows = reads(ctx)?
        .duplicates(id, MAX_DUPLICATES)
        .await
        .map_err(store_error)?;
    rows.into_iter()
        .filter(|r| opd.is_none() || r.opd == opd)
        .map(|r| ComplaintListItem::from_row(r, now))
        .collect()
}
