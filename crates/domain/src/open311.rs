//! Open311 GeoReport v2's rules: a category's attributes (the service
//! definition), the answers a request gives them, and how aduan's statuses and
//! events read as Open311 request statuses and FixMyStreet update statuses.
//! The HTTP side (`aduan_api::open311`) renders; what is decided is here.

use serde::{Deserialize, Serialize};

use crate::error::ComplaintError;
use crate::events::ComplaintEvent;
use crate::values::{RejectReason, Resolution, Status};

/// The datatypes of the specification's service definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Datatype {
    String,
    Number,
    Datetime,
    Text,
    Singlevaluelist,
    Multivaluelist,
}

impl Datatype {
    pub fn as_str(self) -> &'static str {
        match self {
            Datatype::String => "string",
            Datatype::Number => "number",
            Datatype::Datetime => "datetime",
            Datatype::Text => "text",
            Datatype::Singlevaluelist => "singlevaluelist",
            Datatype::Multivaluelist => "multivaluelist",
        }
    }

    fn is_list(self) -> bool {
        matches!(self, Datatype::Singlevaluelist | Datatype::Multivaluelist)
    }
}

/// One choice of a list attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeValue {
    pub key: String,
    pub name: String,
}

/// A question a category asks (reference data, `[[categories.attributes]]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceAttribute {
    pub code: String,
    pub datatype: Datatype,
    /// The question as the reporter reads it.
    pub description: String,
    #[serde(default)]
    pub required: bool,
    /// False for information the client shows and does not ask for.
    #[serde(default = "yes")]
    pub variable: bool,
    #[serde(default)]
    pub order: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<AttributeValue>,
}

fn yes() -> bool {
    true
}

/// Longest accepted answer to one attribute.
pub const MAX_ANSWER: usize = 500;

/// Checks a category's attribute definitions: codes unique and not empty, list
/// attributes with choices.
pub fn check_definitions(category: &str, attributes: &[ServiceAttribute]) -> Result<(), String> {
    let mut seen = std::collections::HashSet::new();
    for a in attributes {
        if a.code.trim().is_empty() || !seen.insert(a.code.as_str()) {
            return Err(format!(
                "category {category}: attribute code {:?} is empty or repeated",
                a.code
            ));
        }
        if a.datatype.is_list() && a.values.is_empty() {
            return Err(format!(
                "category {category}: list attribute {} has no values",
                a.code
            ));
        }
    }
    Ok(())
}

/// The answers of a request (`attribute[code]=value`, a multivaluelist's
/// several times), checked against the category's definitions; returns one
/// line per answered attribute, `question: answer`, in the definitions' order,
/// for the case's description.
pub fn answer_lines(
    attributes: &[ServiceAttribute],
    given: &[(String, String)],
) -> Result<Vec<String>, ComplaintError> {
    for (code, _) in given {
        if !attributes.iter().any(|a| a.variable && &a.code == code) {
            return Err(invalid(code, "is not an attribute of this service"));
        }
    }
    let mut ordered: Vec<&ServiceAttribute> = attributes.iter().filter(|a| a.variable).collect();
    ordered.sort_by_key(|a| a.order);
    let mut lines = Vec::new();
    for a in ordered {
        let values: Vec<&str> = given
            .iter()
            .filter(|(code, _)| code == &a.code)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .collect();
        if values.is_empty() {
            if a.required {
                return Err(invalid(&a.code, "is required"));
            }
            continue;
        }
        let answer = answer(a, &values)?;
        lines.push(format!("{}: {answer}", a.description));
    }
    Ok(lines)
}

fn answer(a: &ServiceAttribute, values: &[&str]) -> Result<String, ComplaintError> {
    if values.len() > 1 && a.datatype != Datatype::Multivaluelist {
        return Err(invalid(&a.code, "takes one value"));
    }
    if values
        .iter()
        .any(|v| v.len() > MAX_ANSWER || v.chars().any(|c| c.is_control() && c != '\n'))
    {
        return Err(invalid(
            &a.code,
            "must be at most 500 characters, without control characters",
        ));
    }
    match a.datatype {
        Datatype::Number if values[0].parse::<f64>().map_or(true, |n| !n.is_finite()) => {
            Err(invalid(&a.code, "must be a number"))
        }
        Datatype::Datetime if chrono::DateTime::parse_from_rfc3339(values[0]).is_err() => {
            Err(invalid(&a.code, "must be a date and time (ISO 8601)"))
        }
        Datatype::Singlevaluelist | Datatype::Multivaluelist => {
            let names = values
                .iter()
                .map(|v| {
                    a.values
                        .iter()
                        .find(|choice| choice.key == *v)
                        .map(|choice| choice.name.clone())
                        .ok_or_else(|| invalid(&a.code, "is not one of the service's values"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(names.join(", "))
        }
        _ => Ok(values[0].to_string()),
    }
}

fn invalid(code: &str, message: &str) -> ComplaintError {
    ComplaintError::invalid(&format!("attribute[{code}]"), message)
}

/// A request's Open311 status: `closed` once the case is closed or rejected.
pub fn request_status(status: Status) -> &'static str {
    match status {
        Status::Closed | Status::Rejected => "closed",
        _ => "open",
    }
}

/// The statuses `status=` filters on, for an Open311 status.
pub fn statuses_of(open311: &str) -> Option<&'static [Status]> {
    match open311 {
        "open" => Some(&[
            Status::Submitted,
            Status::Verified,
            Status::Assigned,
            Status::InProgress,
            Status::WaitingForInfo,
        ]),
        "closed" => Some(&[Status::Closed, Status::Rejected]),
        _ => None,
    }
}

/// What an event is as a FixMyStreet service request update (its lower-case
/// status); `None` for events that are no update to the reporter (the
/// submission itself, escalations, notes, ratings, attachments, erasures,
/// opting out of notifications).
pub fn update_status(event: &ComplaintEvent) -> Option<&'static str> {
    use ComplaintEvent as E;
    Some(match event {
        E::Verified { .. } => "investigating",
        E::Rejected { reason, .. } => match reason {
            RejectReason::OutOfScope => "not_councils_responsibility",
            RejectReason::Duplicate => "duplicate",
            RejectReason::Spam | RejectReason::Incomplete => "no_further_action",
        },
        E::Assigned { .. } => "action_scheduled",
        E::Transferred { .. } => "internal_referral",
        E::Responded { .. } | E::FieldHandled { .. } | E::InfoProvided { .. } => "in_progress",
        E::InfoRequested { .. } => "investigating",
        E::Closed { resolution, .. } => match resolution {
            Resolution::Resolved => "fixed",
            Resolution::NotResolved => "no_further_action",
            Resolution::Duplicate => "duplicate",
            Resolution::OutOfScope => "not_councils_responsibility",
        },
        E::AutoClosed { .. } => "closed",
        E::Reopened { .. } => "open",
        E::Submitted { .. }
        | E::Escalated { .. }
        | E::SlaBreached { .. }
        | E::Rated { .. }
        | E::NoteAdded { .. }
        | E::AttachmentAdded { .. }
        | E::ReporterDataErased { .. }
        | E::SurveyAnswered { .. }
        | E::NotificationsOptedOut { .. } => return None,
    })
}

/// The event types `update_status` answers for.
pub const UPDATE_EVENT_TYPES: [&str; 11] = [
    "Verified",
    "Rejected",
    "Assigned",
    "Transferred",
    "Responded",
    "InfoRequested",
    "InfoProvided",
    "FieldHandled",
    "Closed",
    "AutoClosed",
    "Reopened",
];

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn kind() -> ServiceAttribute {
        ServiceAttribute {
            code: "kind".into(),
            datatype: Datatype::Singlevaluelist,
            description: "What is broken?".into(),
            required: true,
            variable: true,
            order: 1,
            values: vec![
                AttributeValue {
                    key: "hole".into(),
                    name: "Pothole".into(),
                },
                AttributeValue {
                    key: "crack".into(),
                    name: "Crack".into(),
                },
            ],
        }
    }

    fn width() -> ServiceAttribute {
        ServiceAttribute {
            code: "width".into(),
            datatype: Datatype::Number,
            description: "Width (cm)".into(),
            required: false,
            variable: true,
            order: 2,
            values: vec![],
        }
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn answers_become_lines_in_the_definitions_order() {
        let defs = [width(), kind()];
        let lines = answer_lines(&defs, &pairs(&[("width", "40"), ("kind", "hole")])).unwrap();
        assert_eq!(lines, ["What is broken?: Pothole", "Width (cm): 40"]);
    }

    #[test]
    fn wrong_answers_name_the_attribute() {
        let defs = [kind(), width()];
        let field = |given: &[(&str, &str)]| match answer_lines(&defs, &pairs(given)) {
            Err(ComplaintError::InvalidInput { field, message }) => format!("{field} {message}"),
            other => panic!("{other:?}"),
        };
        assert_eq!(field(&[]), "attribute[kind] is required");
        assert_eq!(
            field(&[("kind", "tree")]),
            "attribute[kind] is not one of the service's values"
        );
        assert_eq!(
            field(&[("kind", "hole"), ("width", "wide")]),
            "attribute[width] must be a number"
        );
        assert_eq!(
            field(&[("kind", "hole"), ("colour", "red")]),
            "attribute[colour] is not an attribute of this service"
        );
        assert_eq!(
            field(&[("kind", "hole"), ("kind", "crack")]),
            "attribute[kind] takes one value"
        );
    }

    #[test]
    fn definitions_need_unique_codes_and_list_values() {
        assert!(check_definitions("ROAD", &[kind(), width()]).is_ok());
        assert!(check_definitions("ROAD", &[kind(), kind()]).is_err());
        let mut empty = kind();
        empty.values.clear();
        assert!(check_definitions("ROAD", &[empty]).is_err());
    }

    #[test]
    fn closed_and_rejected_cases_are_closed_the_rest_open() {
        for s in Status::ALL {
            let closed = matches!(s, Status::Closed | Status::Rejected);
            assert_eq!(request_status(*s), if closed { "closed" } else { "open" });
            let group = statuses_of(request_status(*s)).unwrap();
            assert!(group.contains(s), "{s}");
        }
        assert_eq!(statuses_of("pending"), None);
    }

    #[test]
    fn events_map_to_fixmystreet_statuses() {
        let at = Utc::now();
        let closed = |resolution| ComplaintEvent::Closed {
            resolution,
            summary: "s".into(),
            duplicate_of: None,
            occurred_at: at,
        };
        assert_eq!(update_status(&closed(Resolution::Resolved)), Some("fixed"));
        assert_eq!(
            update_status(&closed(Resolution::OutOfScope)),
            Some("not_councils_responsibility")
        );
        assert_eq!(
            update_status(&ComplaintEvent::Transferred {
                from_opd: "DPU".into(),
                to_opd: "DLH".into(),
                reason: "r".into(),
                occurred_at: at
            }),
            Some("internal_referral")
        );
        assert_eq!(
            update_status(&ComplaintEvent::Rated {
                score: 5,
                comment: None,
                occurred_at: at
            }),
            None
        );
        for name in UPDATE_EVENT_TYPES {
            assert!(crate::events::EVENT_TYPES.contains(&name), "{name}");
        }
    }
}
