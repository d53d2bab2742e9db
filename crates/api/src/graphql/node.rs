//! Relay's object identification: `node(id)` refetches any object that has a
//! stable id, which Relay and Apollo's normalised caches rely on.

use async_graphql::{Context, Interface, Object, Result, ID};

use aduan_domain::access::Operation;

use super::query::read_complaint;
use super::types::Complaint;

/// An object that can be fetched again by its id alone (`node(id)`). Its id is
/// the object's own id as is, not an encoding of type and key: complaint ids are
/// UUIDs, unique across every complaint, and complaints are the only nodes, so
/// a `Complaint.id` from anywhere (a list, a mutation's answer) names one node.
// A type made a node later must give ids no complaint can have (a prefix
// outside the UUID alphabet), so that `node` can tell whose an id is.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "&ID"))]
pub enum Node {
    Complaint(Complaint),
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// The object with this id, under the same access rules as the object's
    /// own query (for a complaint, `complaint(id)`: FORBIDDEN or NOT_FOUND as
    /// it would answer).
    async fn node(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Node>> {
        let complaint = read_complaint(ctx, Operation::Node, &id, None).await?;
        Ok(Some(complaint.into()))
    }
}
