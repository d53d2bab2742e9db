//! A template's stream: its events, the state they fold to, and the decision
//! on each command. Who may manage templates at all is the access table's
//! `ManageResponseTemplates` row; which templates is decided here: a
//! SUPERVISOR any, an OPD's administrator those of their own OPD only (never a
//! city-wide one). The scope (OPD, category) is fixed at creation: a template
//! moved to another OPD would change what earlier versions meant.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::TemplateBody;
use crate::access::{access, Access, Operation};
use crate::actor::{Actor, Role};
use crate::error::ComplaintError;
use crate::values::{clean, Invalid};

/// The stream's aggregate type in the event log.
pub const TEMPLATE_TYPE: &str = "ResponseTemplate";

/// The longest template name, in characters.
pub const MAX_TEMPLATE_NAME: usize = 200;

/// Which cases a template applies to: `None` is any OPD, or any category.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TemplateScope {
    pub opd: Option<String>,
    pub category: Option<String>,
}

impl TemplateScope {
    /// Whether a case of `opd` (its OPD now, if any) and `category` may use it.
    pub fn applies_to(&self, opd: Option<&str>, category: &str) -> bool {
        let opd_fits = self.opd.is_none() || self.opd.as_deref() == opd;
        let category_fits = self.category.as_deref().is_none_or(|c| c == category);
        opd_fits && category_fits
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TemplateEvent {
    TemplateCreated {
        name: String,
        scope: TemplateScope,
        body: String,
        /// Recorded as the case's first answer when a case of the scope's
        /// category is verified (the scope then names a category).
        auto_acknowledge: bool,
        occurred_at: DateTime<Utc>,
    },
    TemplateRevised {
        name: String,
        body: String,
        auto_acknowledge: bool,
        occurred_at: DateTime<Utc>,
    },
    TemplateRetired {
        reason: Option<String>,
        occurred_at: DateTime<Utc>,
    },
}

impl TemplateEvent {
    pub fn event_type_name(&self) -> &'static str {
        match self {
            TemplateEvent::TemplateCreated { .. } => "TemplateCreated",
            TemplateEvent::TemplateRevised { .. } => "TemplateRevised",
            TemplateEvent::TemplateRetired { .. } => "TemplateRetired",
        }
    }
}

/// What a manager asks of a template's stream (values already parsed).
/// Serialized only to fingerprint a command for its idempotency key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum TemplateCommand {
    Create {
        name: String,
        scope: TemplateScope,
        body: TemplateBody,
        auto_acknowledge: bool,
    },
    Revise {
        name: String,
        body: TemplateBody,
        auto_acknowledge: bool,
    },
    Retire {
        reason: Option<String>,
    },
}

/// A template as its events left it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ResponseTemplate {
    pub id: String,
    /// How many events the stream holds: the version a use records.
    pub version: i64,
    pub name: String,
    pub scope: TemplateScope,
    pub body: String,
    pub auto_acknowledge: bool,
    pub retired: bool,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl ResponseTemplate {
    /// The state of the stream `id` after `events`, in sequence order.
    pub fn fold<'a>(id: &str, events: impl IntoIterator<Item = &'a TemplateEvent>) -> Self {
        let mut template = ResponseTemplate {
            id: id.to_string(),
            ..ResponseTemplate::default()
        };
        for event in events {
            template.apply(event);
        }
        template
    }

    pub fn exists(&self) -> bool {
        self.version > 0
    }

    pub fn apply(&mut self, event: &TemplateEvent) {
        self.version += 1;
        match event {
            TemplateEvent::TemplateCreated {
                name,
                scope,
                body,
                auto_acknowledge,
                occurred_at,
            } => {
                self.name = name.clone();
                self.scope = scope.clone();
                self.body = body.clone();
                self.auto_acknowledge = *auto_acknowledge;
                self.created_at = Some(*occurred_at);
                self.updated_at = Some(*occurred_at);
            }
            TemplateEvent::TemplateRevised {
                name,
                body,
                auto_acknowledge,
                occurred_at,
            } => {
                self.name = name.clone();
                self.body = body.clone();
                self.auto_acknowledge = *auto_acknowledge;
                self.updated_at = Some(*occurred_at);
            }
            TemplateEvent::TemplateRetired { occurred_at, .. } => {
                self.retired = true;
                self.updated_at = Some(*occurred_at);
            }
        }
    }

    /// The template's text as a body to render; a stored body parsed when it
    /// was written, so this fails only on a log written by other code.
    pub fn parsed_body(&self) -> Result<TemplateBody, super::TemplateError> {
        TemplateBody::parse(&self.body)
    }

    /// The event a command makes, or why not.
    pub fn decide(
        &self,
        actor: &Actor,
        command: TemplateCommand,
        now: DateTime<Utc>,
    ) -> Result<TemplateEvent, ComplaintError> {
        match command {
            TemplateCommand::Create {
                name,
                scope,
                body,
                auto_acknowledge,
            } => {
                if self.exists() {
                    return Err(ComplaintError::AlreadyExists);
                }
                may_manage(actor, &scope)?;
                check_auto_acknowledge(&scope, &body, auto_acknowledge)?;
                Ok(TemplateEvent::TemplateCreated {
                    name: template_name(&name)?,
                    scope,
                    body: body.as_str().to_string(),
                    auto_acknowledge,
                    occurred_at: now,
                })
            }
            TemplateCommand::Revise {
                name,
                body,
                auto_acknowledge,
            } => {
                self.current(actor)?;
                check_auto_acknowledge(&self.scope, &body, auto_acknowledge)?;
                Ok(TemplateEvent::TemplateRevised {
                    name: template_name(&name)?,
                    body: body.as_str().to_string(),
                    auto_acknowledge,
                    occurred_at: now,
                })
            }
            TemplateCommand::Retire { reason } => {
                self.current(actor)?;
                let reason = Some(clean(reason.as_deref().unwrap_or(""))).filter(|r| !r.is_empty());
                Ok(TemplateEvent::TemplateRetired {
                    reason,
                    occurred_at: now,
                })
            }
        }
    }

    /// A template that exists, is not retired, and the actor may manage.
    fn current(&self, actor: &Actor) -> Result<(), ComplaintError> {
        if !self.exists() {
            return Err(ComplaintError::NotFound);
        }
        may_manage(actor, &self.scope)?;
        if self.retired {
            return Err(ComplaintError::RuleViolated(
                "the template is retired; create a new one".into(),
            ));
        }
        Ok(())
    }
}

/// The access table's row, then the template's OPD: an OPD's administrator
/// manages their own OPD's templates only.
pub fn may_manage(actor: &Actor, scope: &TemplateScope) -> Result<(), ComplaintError> {
    let allowed = match access(actor.role, Operation::ManageResponseTemplates) {
        Access::Allowed => true,
        Access::OwnOpd | Access::OwnOpdNamed => {
            actor.role == Role::OpdAdmin && actor.works_for(scope.opd.as_deref())
        }
        Access::OwnCases | Access::Refused => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(ComplaintError::forbidden(
            "templates are managed by a SUPERVISOR, or by an OPD's administrator for their own OPD",
        ))
    }
}

fn check_auto_acknowledge(
    scope: &TemplateScope,
    body: &TemplateBody,
    on: bool,
) -> Result<(), ComplaintError> {
    // Nobody is there to type a value when the system acknowledges.
    if on && body.variables().iter().any(|v| !v.is_derived()) {
        return Err(ComplaintError::invalid(
            "autoAcknowledge",
            "needs a text with only the variables the case fills",
        ));
    }
    // A case is verified before it reaches an OPD: only a city-wide
    // template can answer it then.
    if on && (scope.category.is_none() || scope.opd.is_some()) {
        return Err(ComplaintError::invalid(
            "autoAcknowledge",
            "needs a city-wide template (no OPD) for one category",
        ));
    }
    Ok(())
}

fn template_name(name: &str) -> Result<String, ComplaintError> {
    let name = clean(name);
    if name.is_empty() {
        return Err(Invalid::new("must not be empty").at("name"));
    }
    if name.chars().count() > MAX_TEMPLATE_NAME {
        return Err(
            Invalid::new(format!("is longer than {MAX_TEMPLATE_NAME} characters")).at("name"),
        );
    }
    Ok(name)
}

/// Whether the actor may read (and so use) a template of `scope`: an OPD role
/// its own OPD's templates and the city-wide ones.
pub fn may_read(actor: &Actor, scope: &TemplateScope) -> bool {
    match access(actor.role, Operation::ResponseTemplates) {
        Access::Allowed => true,
        Access::OwnOpd | Access::OwnOpdNamed => {
            scope.opd.is_none() || actor.works_for(scope.opd.as_deref())
        }
        Access::OwnCases | Access::Refused => false,
    }
}
