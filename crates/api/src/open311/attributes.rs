//! A service's attributes on the wire (the category's questions,
//! `aduan_domain::attributes`): their datatypes' words in a service definition,
//! and the answers a request gives them (`attribute[code]=value`), checked
//! here, at the edge, into lines of the case's description.

use aduan_domain::attributes::{Attribute, Datatype};

use super::Refusal;

/// Longest accepted answer to one attribute.
pub const MAX_ANSWER: usize = 500;

/// The specification's word for a datatype.
pub fn datatype(d: Datatype) -> &'static str {
    match d {
        Datatype::String => "string",
        Datatype::Number => "number",
        Datatype::Datetime => "datetime",
        Datatype::Text => "text",
        Datatype::Singlevaluelist => "singlevaluelist",
        Datatype::Multivaluelist => "multivaluelist",
    }
}

/// The answers of a request (a multivaluelist's several times), checked
/// against the category's definitions; returns one line per answered
/// attribute, `question: answer`, in the definitions' order.
pub fn answer_lines(
    attributes: &[Attribute],
    given: &[(String, String)],
) -> Result<Vec<String>, Refusal> {
    for (code, _) in given {
        if !attributes.iter().any(|a| a.variable && &a.code == code) {
            return Err(invalid(code, "is not an attribute of this service"));
        }
    }
    let mut ordered: Vec<&Attribute> = attributes.iter().filter(|a| a.variable).collect();
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

fn answer(a: &Attribute, values: &[&str]) -> Result<String, Refusal> {
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

/// The parameter at fault, as the client sent it.
fn invalid(code: &str, message: &str) -> Refusal {
    Refusal::bad_request(format!("attribute[{code}]: {message}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aduan_domain::attributes::AttributeValue;

    fn kind() -> Attribute {
        Attribute {
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

    fn width() -> Attribute {
        Attribute {
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
            Err(refused) => {
                assert_eq!(refused.status, axum::http::StatusCode::BAD_REQUEST);
                refused.description
            }
            other => panic!("{other:?}"),
        };
        assert_eq!(field(&[]), "attribute[kind]: is required");
        assert_eq!(
            field(&[("kind", "tree")]),
            "attribute[kind]: is not one of the service's values"
        );
        assert_eq!(
            field(&[("kind", "hole"), ("width", "wide")]),
            "attribute[width]: must be a number"
        );
        assert_eq!(
            field(&[("kind", "hole"), ("colour", "red")]),
            "attribute[colour]: is not an attribute of this service"
        );
        assert_eq!(
            field(&[("kind", "hole"), ("kind", "crack")]),
            "attribute[kind]: takes one value"
        );
    }
}
