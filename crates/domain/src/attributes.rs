//! A category's attributes: the questions it asks the reporter besides the
//! description (reference data, `[[categories.attributes]]`). Open311 serves
//! them as a service definition and checks the answers (`aduan_api::open311`).

use serde::{Deserialize, Serialize};

/// The kinds of answer an attribute takes (Open311 GeoReport v2's datatypes).
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
pub struct Attribute {
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

/// Checks a category's attribute definitions: codes unique and not empty, list
/// attributes with choices.
pub fn check_definitions(category: &str, attributes: &[Attribute]) -> Result<(), String> {
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn definitions_need_unique_codes_and_list_values() {
        assert!(check_definitions("ROAD", &[kind(), width()]).is_ok());
        assert!(check_definitions("ROAD", &[kind(), kind()]).is_err());
        let mut empty = kind();
        empty.values.clear();
        assert!(check_definitions("ROAD", &[empty]).is_err());
    }
}
