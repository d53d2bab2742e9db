//! A bulk payload with a `templateId`: the template is checked once for the
//! whole request (it must exist, be readable by the caller and not retired,
//! and get exactly the variables it needs: else the request is refused with
//! nothing done), then rendered for each case with what that case says, as
//! the single mutation renders it. A case the template does not apply to
//! (another OPD's or category's) is that item's refusal.

use std::collections::BTreeMap;

use async_graphql::{Context, Result};
use futures::stream::{self, StreamExt};

use aduan_domain::{Action, Actor, LongText};

use super::bulk_inputs::BulkTemplate;
use super::context::bus;
use super::error::command_error;
use super::template_use::{current, render, render_for_case};

/// Cases rendered at once (each reads its case's events).
const PARALLEL: usize = 8;

/// Each case's action: `base` with the template's text for that case.
pub(super) async fn per_case(
    ctx: &Context<'_>,
    actor: &Actor,
    base: Action,
    field: &'static str,
    template: BulkTemplate,
    ids: Vec<String>,
) -> Result<Vec<(String, Result<Action>)>> {
    let chosen = current(bus(ctx)?, actor, &template.id).await?;
    // The variables are the same for every case: checked once, up front.
    render(&chosen, &BTreeMap::new(), &template.variables)?;
    let rendered = stream::iter(ids)
        .map(|id| {
            let (chosen, base, variables) = (&chosen, &base, &template.variables);
            async move {
                let action = async {
                    let (text, used) = render_for_case(ctx, chosen, &id, variables).await?;
                    let text =
                        LongText::parse(&text).map_err(|e| command_error(e.at(field).into()))?;
                    let mut action = base.clone();
                    action.set_rendered(text, used);
                    Ok(action)
                }
                .await;
                (id, action)
            }
        })
        .buffered(PARALLEL)
        .collect()
        .await;
    Ok(rendered)
}
