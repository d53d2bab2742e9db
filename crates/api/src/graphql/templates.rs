//! The city's response templates over GraphQL: listed by whoever answers
//! citizens, managed by a SUPERVISOR (any) or an OPD's administrator (their
//! own OPD's). Each change is an event of the template's own stream in the
//! event log (`aduan_store::templates`), so every version stays on record.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use aduan_domain::access::Operation;
use aduan_domain::templates::{
    may_read, ResponseTemplate as Template, TemplateBody, TemplateCommand, TemplateScope,
};
use aduan_domain::{CategoryCode, ComplaintError, OpdCode};
use aduan_store::{CommandBus, CommandError, RequestContext};

use super::access::guard;
use super::context::{bus, correlation_id};
use super::error::{command_error, gql_error, invalid_input, store_error};
use super::mutation::checked_id;
use crate::error_code::ClientCode;

/// A response template at its current version.
#[derive(SimpleObject)]
pub struct ResponseTemplate {
    pub id: ID,
    /// How many times it was written (created = 1); a case's event records
    /// the version it was rendered from.
    pub version: i64,
    pub name: String,
    /// The OPD whose cases may use it; null: every OPD's.
    pub opd: Option<String>,
    /// The category whose cases may use it; null: every category.
    pub category: Option<String>,
    /// The text with its `{variables}` (see docs/api.md).
    pub text: String,
    /// The variables the text uses.
    pub variables: Vec<String>,
    /// Recorded as the first answer when a case of its category is verified.
    pub auto_acknowledge: bool,
    pub retired: bool,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<Template> for ResponseTemplate {
    fn from(t: Template) -> Self {
        let variables = t
            .parsed_body()
            .map(|b| b.variables().iter().map(|v| v.name().to_string()).collect())
            .unwrap_or_default();
        ResponseTemplate {
            id: ID(t.id),
            version: t.version,
            name: t.name,
            opd: t.scope.opd,
            category: t.scope.category,
            text: t.body,
            variables,
            auto_acknowledge: t.auto_acknowledge,
            retired: t.retired,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

#[derive(Default)]
pub struct TemplateQuery;

#[Object]
impl TemplateQuery {
    /// The templates the caller may use, by name: those of `opd` (its own
    /// and the city-wide ones) and `category` (its own and the ones for every
    /// category) when given; retired ones only with `includeRetired`.
    async fn response_templates(
        &self,
        ctx: &Context<'_>,
        opd: Option<String>,
        category: Option<String>,
        #[graphql(default)] include_retired: bool,
    ) -> Result<Vec<ResponseTemplate>> {
        let (actor, _) = guard(ctx, Operation::ResponseTemplates)?;
        let all = aduan_store::templates::list(bus(ctx)?.log().as_ref())
            .await
            .map_err(store_error)?;
        let mut shown: Vec<Template> = all
            .into_iter()
            .filter(|t| may_read(&actor, &t.scope) && (include_retired || !t.retired))
            .filter(|t| opd.is_none() || t.scope.opd.is_none() || t.scope.opd == opd)
            .filter(|t| {
                category.is_none() || t.scope.category.is_none() || t.scope.category == category
            })
            .collect();
        shown.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        Ok(shown.into_iter().map(Into::into).collect())
    }
}

#[derive(InputObject)]
pub struct CreateResponseTemplateInput {
    pub name: String,
    /// OPD code; omitted: every OPD's cases (SUPERVISOR only).
    pub opd: Option<String>,
    /// Category code; omitted: every category.
    pub category: Option<String>,
    /// Up to 4000 characters, with `{variables}` (see docs/api.md).
    pub text: String,
    #[graphql(default)]
    pub auto_acknowledge: bool,
    /// Idempotency key: a retry with the same key creates nothing more and
    /// returns the template as the first request made it.
    pub command_id: Option<ID>,
}

#[derive(InputObject)]
pub struct ReviseResponseTemplateInput {
    pub id: ID,
    pub name: String,
    pub text: String,
    #[graphql(default)]
    pub auto_acknowledge: bool,
    /// Idempotency key: a retry with the same key revises nothing more.
    pub command_id: Option<ID>,
}

#[derive(InputObject)]
pub struct RetireResponseTemplateInput {
    pub id: ID,
    pub reason: Option<String>,
    /// Idempotency key, as for the other template mutations.
    pub command_id: Option<ID>,
}

#[derive(Default)]
pub struct TemplateMutation;

#[Object]
impl TemplateMutation {
    /// A new template, at version 1.
    async fn create_response_template(
        &self,
        ctx: &Context<'_>,
        input: CreateResponseTemplateInput,
    ) -> Result<ResponseTemplate> {
        let reference = &bus(ctx)?.services().reference;
        let opd = input
            .opd
            .as_deref()
            .map(|o| OpdCode::known(reference, o).map_err(|e| invalid_input("opd", e.message())))
            .transpose()?;
        let category = input
            .category
            .as_deref()
            .map(|c| {
                CategoryCode::known(reference, c)
                    .map_err(|e| invalid_input("category", e.message()))
            })
            .transpose()?;
        let command = TemplateCommand::Create {
            name: input.name,
            scope: TemplateScope {
                opd: opd.map(|o| o.as_str().to_string()),
                category: category.map(|c| c.as_str().to_string()),
            },
            body: body(&input.text)?,
            auto_acknowledge: input.auto_acknowledge,
        };
        let key = command_key(input.command_id.as_ref())?;
        // The key names the new stream, so a retry lands on the same template.
        let id = match key {
            Some(key) => Uuid::new_v5(&TEMPLATE_NAMESPACE, key.as_bytes()).to_string(),
            None => Uuid::new_v4().to_string(),
        };
        manage(ctx, &id, command, key).await
    }

    /// A new version of the template's name, text or acknowledgement; its
    /// OPD and category stay.
    async fn revise_response_template(
        &self,
        ctx: &Context<'_>,
        input: ReviseResponseTemplateInput,
    ) -> Result<ResponseTemplate> {
        let command = TemplateCommand::Revise {
            name: input.name,
            body: body(&input.text)?,
            auto_acknowledge: input.auto_acknowledge,
        };
        let key = command_key(input.command_id.as_ref())?;
        manage(ctx, checked_id("id", &input.id)?, command, key).await
    }

    /// The template may no longer be used (its versions stay on record).
    async fn retire_response_template(
        &self,
        ctx: &Context<'_>,
        input: RetireResponseTemplateInput,
    ) -> Result<ResponseTemplate> {
        let command = TemplateCommand::Retire {
            reason: input.reason,
        };
        let key = command_key(input.command_id.as_ref())?;
        manage(ctx, checked_id("id", &input.id)?, command, key).await
    }
}

fn body(text: &str) -> Result<TemplateBody> {
    TemplateBody::parse(text).map_err(|e| invalid_input("text", &e.to_string()))
}

/// New templates' ids are UUIDs v5 of the creating request's key in this
/// namespace.
const TEMPLATE_NAMESPACE: Uuid = Uuid::from_u128(0x6164_7561_6e2d_7465_6d70_6c61_7465_7300);

fn command_key(key: Option<&ID>) -> Result<Option<&str>> {
    key.map(|k| checked_id("commandId", k)).transpose()
}

async fn manage(
    ctx: &Context<'_>,
    id: &str,
    command: TemplateCommand,
    command_id: Option<&str>,
) -> Result<ResponseTemplate> {
    let (actor, _) = guard(ctx, Operation::ManageResponseTemplates)?;
    let bus: &CommandBus = bus(ctx)?;
    let context = RequestContext {
        channel: "graphql".into(),
        correlation_id: correlation_id(ctx),
    };
    let now = bus.services().clock.now();
    let template = aduan_store::templates::execute(
        bus.log().as_ref(),
        id,
        &actor,
        &context,
        command,
        command_id,
        now,
    )
    .await
    .map_err(|e| match e {
        CommandError::Domain(ComplaintError::NotFound) => {
            gql_error(ClientCode::NotFound, "response template not found")
        }
        other => command_error(other),
    })?;
    Ok(template.into())
}
