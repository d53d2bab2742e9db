//! Open311's two formats: every answer is built once as records of named
//! fields and rendered as JSON or as the specification's XML (`<services>
//! <service>...`, `<errors><error>...`), escaped here.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value as Json};

/// The format a path's suffix asks for (`services.json`, `services.xml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    /// The name without its suffix and the format; a name without one is
    /// answered in JSON, one with another suffix is not ours.
    pub fn split(name: &str) -> Option<(&str, Format)> {
        match name.rsplit_once('.') {
            Some((stem, "json")) => Some((stem, Format::Json)),
            Some((stem, "xml")) => Some((stem, Format::Xml)),
            Some(_) => None,
            None => Some((name, Format::Json)),
        }
    }
}

/// A field's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    Text(String),
    Number(f64),
    Int(i64),
    Bool(bool),
    /// JSON `null`, an empty XML element.
    Null,
    /// Nested records, each in an element named `element` in XML.
    Records(&'static str, Vec<Record>),
}

impl From<&str> for Field {
    fn from(s: &str) -> Self {
        Field::Text(s.to_string())
    }
}

impl From<String> for Field {
    fn from(s: String) -> Self {
        Field::Text(s)
    }
}

impl From<Option<String>> for Field {
    fn from(s: Option<String>) -> Self {
        s.map_or(Field::Null, Field::Text)
    }
}

/// Named fields, in the specification's order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Record(pub Vec<(&'static str, Field)>);

impl Record {
    pub fn with(mut self, name: &'static str, value: impl Into<Field>) -> Self {
        self.0.push((name, value.into()));
        self
    }
}

/// What an answer holds: a list (`<root><element>..</element>..</root>`, a JSON
/// array) or one record (`<root>..</root>`, a JSON object).
pub enum Body {
    List {
        root: &'static str,
        element: &'static str,
        records: Vec<Record>,
    },
    One {
        root: &'static str,
        record: Record,
    },
}

pub fn list(root: &'static str, element: &'static str, records: Vec<Record>) -> Body {
    Body::List {
        root,
        element,
        records,
    }
}

/// An answer with its status.
pub fn respond(format: Format, status: StatusCode, body: &Body) -> Response {
    match format {
        Format::Json => (
            status,
            [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
            json_text(body),
        )
            .into_response(),
        Format::Xml => (
            status,
            [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
            xml_text(body),
        )
            .into_response(),
    }
}

/// An error as the specification shapes it: `[{code, description}]`.
pub fn error(format: Format, status: StatusCode, description: &str) -> Response {
    let record = Record::default()
        .with("code", Field::Int(i64::from(status.as_u16())))
        .with("description", description);
    respond(format, status, &list("errors", "error", vec![record]))
}

pub fn json_text(body: &Body) -> String {
    let value = match body {
        Body::List { records, .. } => Json::Array(records.iter().map(json_record).collect()),
        Body::One { record, .. } => json_record(record),
    };
    value.to_string()
}

fn json_record(record: &Record) -> Json {
    let mut map = Map::new();
    for (name, field) in &record.0 {
        map.insert((*name).to_string(), json_field(field));
    }
    Json::Object(map)
}

fn json_field(field: &Field) -> Json {
    match field {
        Field::Text(s) => Json::String(s.clone()),
        Field::Number(n) => serde_json::Number::from_f64(*n).map_or(Json::Null, Json::Number),
        Field::Int(i) => Json::from(*i),
        Field::Bool(b) => Json::Bool(*b),
        Field::Null => Json::Null,
        Field::Records(_, records) => Json::Array(records.iter().map(json_record).collect()),
    }
}

pub fn xml_text(body: &Body) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
    match body {
        Body::List {
            root,
            element,
            records,
        } => {
            open(&mut out, root);
            for r in records {
                xml_record(&mut out, element, r);
            }
            close(&mut out, root);
        }
        Body::One { root, record } => xml_record(&mut out, root, record),
    }
    out
}

fn xml_record(out: &mut String, element: &str, record: &Record) {
    open(out, element);
    for (name, field) in &record.0 {
        open(out, name);
        match field {
            Field::Text(s) => escape_into(out, s),
            Field::Number(n) => out.push_str(&n.to_string()),
            Field::Int(i) => out.push_str(&i.to_string()),
            Field::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Field::Null => {}
            Field::Records(inner, records) => {
                for r in records {
                    xml_record(out, inner, r);
                }
            }
        }
        close(out, name);
    }
    close(out, element);
}

fn open(out: &mut String, name: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
}

fn close(out: &mut String, name: &str) {
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// Text as XML character data: the five markup characters as entities, and
/// characters XML 1.0 cannot carry at all as U+FFFD.
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Body {
        list(
            "service_requests",
            "request",
            vec![Record::default()
                .with("service_request_id", "a<&>\"'b")
                .with("lat", Field::Number(-5.14))
                .with("description", Field::Null)],
        )
    }

    #[test]
    fn xml_escapes_markup_and_drops_what_xml_cannot_carry() {
        let xml = xml_text(&sample());
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><service_requests><request>\
             <service_request_id>a&lt;&amp;&gt;&quot;&apos;b</service_request_id>\
             <lat>-5.14</lat><description></description></request></service_requests>"
        );
        let mut out = String::new();
        escape_into(&mut out, "x\u{1}y\nz");
        assert_eq!(out, "x\u{FFFD}y\nz");
    }

    #[test]
    fn json_is_an_array_of_objects() {
        let json: Json = serde_json::from_str(&json_text(&sample())).unwrap();
        assert_eq!(json[0]["service_request_id"], "a<&>\"'b");
        assert_eq!(json[0]["lat"], -5.14);
        assert!(json[0]["description"].is_null());
    }

    #[test]
    fn suffixes_choose_the_format() {
        assert_eq!(
            Format::split("services.xml"),
            Some(("services", Format::Xml))
        );
        assert_eq!(
            Format::split("requests.json"),
            Some(("requests", Format::Json))
        );
        assert_eq!(Format::split("requests"), Some(("requests", Format::Json)));
        assert_eq!(Format::split("requests.html"), None);
    }
}
