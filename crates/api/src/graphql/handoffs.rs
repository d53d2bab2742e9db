//! Hand-offs (issue 25): the reasons a case may be handed on with.

use async_graphql::{Context, Object, Result, SimpleObject};

use aduan_domain::access::Operation;

use super::access::guard;
use super::context::bus;

#[derive(Default)]
pub struct HandoffQuery;

/// A reason an OPD may give for transferring a case or returning it to the
/// Command Center.
#[derive(SimpleObject)]
pub struct HandoffReason {
    pub code: String,
    pub name: String,
}

#[Object]
impl HandoffQuery {
    /// The city's hand-off reason codes (`transferComplaint`,
    /// `returnToCommandCenter` take one).
    async fn handoff_reasons(&self, ctx: &Context<'_>) -> Result<Vec<HandoffReason>> {
        guard(ctx, Operation::ReferenceData)?;
        Ok(bus(ctx)?
            .services()
            .reference
            .handoffs
            .reasons
            .iter()
            .map(|r| HandoffReason {
                code: r.code.clone(),
                name: r.name.clone(),
            })
            .collect())
    }
}
