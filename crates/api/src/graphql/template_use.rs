//! A response template used on a case: `respondToComplaint`, `requestInfo`,
//! `closeComplaint` and `addNote` take a `templateId` (and `variables`)
//! instead of their text. The template must be current (not retired), one the
//! caller may read, and apply to the case's OPD and category; its text is
//! rendered with what the case says now (`templates::derived`), and the event
//! records the rendered text with the template's id and version.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_graphql::{Context, Result, ID};

use aduan_domain::sla::{self, SlaConfig};
use aduan_domain::templates::{self, may_read, ResponseTemplate, TemplateUse, Variable};
use aduan_domain::{Actor, Case};
use aduan_store::{codec, CommandBus};

use super::context::bus;
use super::error::{gql_error, invalid_input, store_error};
use super::inputs::{TemplateVariableInput, Templated};
use crate::error_code::ClientCode;

/// Renders the template the input names (if any) into its text field, and
/// says which template and version it was.
pub(super) async fn render_into<I: Templated>(
    ctx: &Context<'_>,
    actor: &Actor,
    complaint_id: &str,
    input: &mut I,
) -> Result<Option<TemplateUse>> {
    let (field, text, template_id, variables) = input.template_parts();
    let Some(template_id) = template_id else {
        return Ok(None);
    };
    if text.as_deref().is_some_and(|t| !t.trim().is_empty()) {
        let message = "is given with a templateId: send one or the other";
        return Err(invalid_input(field, message));
    }
    let bus = bus(ctx)?;
    let template = current(bus, actor, template_id).await?;
    let (rendered, used) = render_for_case(ctx, &template, complaint_id, variables).await?;
    *text = Some(rendered);
    Ok(Some(used))
}

/// `template` rendered for the case `complaint_id` as it is now: refused if
/// the template is for another OPD or category than the case's.
pub(super) async fn render_for_case(
    ctx: &Context<'_>,
    template: &ResponseTemplate,
    complaint_id: &str,
    variables: &[TemplateVariableInput],
) -> Result<(String, TemplateUse)> {
    let bus = bus(ctx)?;
    let events = bus.log().load(complaint_id).await.map_err(store_error)?;
    let Some(case) = codec::fold(&events).0 else {
        return Err(gql_error(ClientCode::NotFound, "complaint not found"));
    };
    if !template
        .scope
        .applies_to(case.opd.as_deref(), &case.category)
    {
        return Err(invalid_input(
            "templateId",
            "the template is for another OPD or category than this case's",
        ));
    }
    let stored: Vec<_> = events.into_iter().map(|e| e.event).collect();
    let derived = derived(ctx, bus, &case, &stored)?;
    let used = TemplateUse {
        id: template.id.clone(),
        version: template.version,
    };
    Ok((render(template, &derived, variables)?, used))
}

/// The template, if it exists, is not retired and the caller may use it.
pub(super) async fn current(bus: &CommandBus, actor: &Actor, id: &ID) -> Result<ResponseTemplate> {
    let (template, _) = aduan_store::templates::load(bus.log().as_ref(), id)
        .await
        .map_err(store_error)?;
    if !template.exists() || !may_read(actor, &template.scope) {
        return Err(gql_error(
            ClientCode::NotFound,
            "response template not found",
        ));
    }
    if template.retired {
        return Err(invalid_input(
            "templateId",
            "the template is retired; use its successor",
        ));
    }
    Ok(template)
}

/// The template's text with the case's values and the caller's.
pub(super) fn render(
    template: &ResponseTemplate,
    derived: &BTreeMap<Variable, String>,
    variables: &[TemplateVariableInput],
) -> Result<String> {
    let mut supplied = BTreeMap::new();
    for v in variables {
        if supplied.insert(v.name.clone(), v.value.clone()).is_some() {
            return Err(invalid_input(
                "variables",
                &format!("name {} twice", v.name),
            ));
        }
    }
    let body = template
        .parsed_body()
        .map_err(|e| invalid_input("templateId", &e.to_string()))?;
    body.render(derived, &supplied)
        .map_err(|e| invalid_input("variables", &e.to_string()))
}

/// What the case fills in: its names, and the running SLA clock's deadline
/// in the city's time.
fn derived(
    ctx: &Context<'_>,
    bus: &CommandBus,
    case: &Case,
    events: &[aduan_domain::ComplaintEvent],
) -> Result<BTreeMap<Variable, String>> {
    let deadline = match ctx.data_opt::<Arc<SlaConfig>>() {
        Some(config) => running_deadline(config, events, bus.services().clock.now()),
        None => None,
    };
    Ok(templates::derived(
        case,
        &bus.services().reference,
        deadline,
    ))
}

/// The earliest deadline among the clocks running now, in the calendar's zone.
pub(crate) fn running_deadline(
    config: &SlaConfig,
    events: &[aduan_domain::ComplaintEvent],
    now: chrono::DateTime<chrono::Utc>,
) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    let (calendar, book) = config.build().ok()?;
    let calendars = config.calendars().ok()?;
    sla::timers(events, &book, &calendars, now)
        .into_iter()
        .filter(|t| t.stopped_at.is_none() && !t.paused)
        .map(|t| t.deadline)
        .min()
        .map(|d| d.with_timezone(&calendar.offset()))
}
