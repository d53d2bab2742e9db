use async_graphql::{Context, Object, Result, ID};
use chrono::{DateTime, Utc};

use aduan_domain::{Actor, ReferenceData, Role};
use aduan_projections::view::may_see_reporter;
use aduan_projections::{history, ComplaintView, HistoryEntry};
use aduan_store::StoredEvent;

use super::context::{actor, bus};
use super::error::{gql_error, store_error};
use super::types::{Category, Complaint, HistoryEvent, Kecamatan, Opd, Viewer};

#[derive(Default)]
pub struct ComplaintQuery;

async fn load(ctx: &Context<'_>, id: &str) -> Result<Vec<StoredEvent>> {
    if id.len() > 100 {
        return Err(gql_error("NOT_FOUND", "complaint not found"));
    }
    let events = bus(ctx)?.log().load(id).await.map_err(store_error)?;
    if events.is_empty() {
        return Err(gql_error("NOT_FOUND", "complaint not found"));
    }
    Ok(events)
}

/// Citizens read only their own cases.
fn check_read(actor: &Actor, view: &ComplaintView) -> Result<()> {
    if actor.role == Role::Citizen && !view.case.is_reporter(actor) {
        return Err(gql_error(
            "FORBIDDEN",
            "citizens may read only their own complaints",
        ));
    }
    Ok(())
}

fn reference<'a>(ctx: &Context<'a>) -> Result<&'a ReferenceData> {
    Ok(&bus(ctx)?.services().reference)
}

#[Object]
impl ComplaintQuery {
    /// A complaint's current state (folded from its events).
    async fn complaint(&self, ctx: &Context<'_>, id: ID) -> Result<Complaint> {
        let actor = actor(ctx)?;
        let events = load(ctx, &id).await?;
        let view = ComplaintView::from_events(&events)
            .ok_or_else(|| gql_error("NOT_FOUND", "complaint not found"))?;
        check_read(&actor, &view)?;
        Ok(Complaint::from_view(view, &actor))
    }

    /// Every stored event of a complaint in order; with `asOf`, only those that had
    /// occurred by then.
    async fn complaint_history(
        &self,
        ctx: &Context<'_>,
        id: ID,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Vec<HistoryEvent>> {
        let actor = actor(ctx)?;
        let events = load(ctx, &id).await?;
        let view = ComplaintView::from_events(&events)
            .ok_or_else(|| gql_error("NOT_FOUND", "complaint not found"))?;
        check_read(&actor, &view)?;
        let show_reporter = may_see_reporter(&actor, &view.case);
        Ok(history::as_of(&events, as_of)
            .iter()
            .map(|e| {
                let mut entry = HistoryEntry::from_stored(e);
                if !show_reporter {
                    entry.redact_reporter();
                }
                entry.into()
            })
            .collect())
    }

    /// The signed-in caller.
    async fn me(&self, ctx: &Context<'_>) -> Result<Viewer> {
        let actor = actor(ctx)?;
        Ok(Viewer {
            id: actor.id,
            role: actor.role.into(),
            opd: actor.opd,
        })
    }

    async fn opds(&self, ctx: &Context<'_>) -> Result<Vec<Opd>> {
        actor(ctx)?;
        Ok(reference(ctx)?
            .opds
            .iter()
            .map(|o| Opd {
                code: o.code.clone(),
                name: o.name.clone(),
            })
            .collect())
    }

    async fn categories(&self, ctx: &Context<'_>) -> Result<Vec<Category>> {
        actor(ctx)?;
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
        actor(ctx)?;
        Ok(reference(ctx)?
            .kecamatan
            .iter()
            .map(|k| Kecamatan {
                code: k.code.clone(),
                name: k.name.clone(),
            })
            .collect())
    }
}
