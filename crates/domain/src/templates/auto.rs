//! The automatic acknowledgement: when a case is verified, the city-wide
//! template flagged `auto_acknowledge` for its category answers the citizen at
//! once. The follower that sends it (crates/api/src/acknowledger.rs) records it
//! as a PUBLIC note by SYSTEM, not a response: it tells the citizen the case
//! was received, and must never count as the OPD's first response, whose
//! clock keeps running.

use std::collections::BTreeMap;

use super::{ResponseTemplate, TemplateUse, Variable};
use crate::commands::AddNote;
use crate::values::{LongText, NoteVisibility};

/// The template that acknowledges a verified case of `category`: current,
/// flagged, city-wide, for that category. If a city flags more than one, the
/// first by name (then id) answers, so the choice does not depend on when the
/// templates were written.
pub fn acknowledging<'a>(
    templates: &'a [ResponseTemplate],
    category: &str,
) -> Option<&'a ResponseTemplate> {
    templates
        .iter()
        .filter(|t| t.exists() && !t.retired && t.auto_acknowledge)
        .filter(|t| t.scope.opd.is_none() && t.scope.category.as_deref() == Some(category))
        .min_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)))
}

/// The note that acknowledges a case with `template`, its variables filled
/// from `derived` (what the case says). None if the text cannot be rendered
/// or is no valid note (a template revised since it was checked cannot make
/// it so: its flag is checked on every revision).
pub fn acknowledgement(
    template: &ResponseTemplate,
    derived: &BTreeMap<Variable, String>,
) -> Option<AddNote> {
    let text = template
        .parsed_body()
        .ok()?
        .render(derived, &BTreeMap::new())
        .ok()?;
    Some(AddNote {
        text: LongText::parse(&text).ok()?,
        visibility: NoteVisibility::Public,
        template: Some(TemplateUse {
            id: template.id.clone(),
            version: template.version,
        }),
    })
}
