//! The messages, from the city's templates (`config/notifications.toml`): one
//! subject and text per kind of notification, with `{placeholders}` filled in
//! from the case. Checked at start, so a typo stops the server, not a send.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::Kind;

/// The placeholders a template may use.
pub const PLACEHOLDERS: [&str; 8] = [
    "id",
    "opd",
    "reason",
    "response",
    "question",
    "resolution",
    "summary",
    "link",
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub subject: String,
    pub text: String,
}

/// Every template, as the settings file gives them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Templates {
    pub footer: String,
    pub sms_link: String,
    pub verified: Template,
    pub rejected: Template,
    pub dispatched: Template,
    pub responded: Template,
    pub info_requested: Template,
    pub closed: Template,
    pub survey: Template,
    /// `{reason}` by rejection code (`SPAM`, ...).
    pub reasons: BTreeMap<String, String>,
    /// `{resolution}` by closing code (`RESOLVED`, ...).
    pub resolutions: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("{0}")]
    Parse(String),
    #[error("template {template}: unknown placeholder {{{name}}} (known: {known})")]
    Unknown {
        template: String,
        name: String,
        known: String,
    },
    #[error("template {template}: a `{{` without its `}}`")]
    Unclosed { template: String },
}

/// What fills the placeholders of one message.
pub type Values = BTreeMap<&'static str, String>;

/// A message made from a template: the e-mail's subject and body, and the
/// short text for SMS and WhatsApp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub subject: String,
    pub body: String,
    pub short: String,
}

impl Templates {
    pub fn parse(text: &str) -> Result<Templates, TemplateError> {
        let templates: Templates =
            toml::from_str(text).map_err(|e| TemplateError::Parse(e.to_string()))?;
        templates.check()?;
        Ok(templates)
    }

    /// Every placeholder of every template is known.
    fn check(&self) -> Result<(), TemplateError> {
        let mut texts = vec![
            ("footer".to_string(), &self.footer),
            ("sms_link".to_string(), &self.sms_link),
        ];
        for kind in Kind::ALL {
            let t = self.template(kind);
            texts.push((format!("{}.subject", kind.as_str()), &t.subject));
            texts.push((format!("{}.text", kind.as_str()), &t.text));
        }
        for (name, text) in texts {
            for placeholder in placeholders(text, &name)? {
                if !PLACEHOLDERS.contains(&placeholder.as_str()) {
                    return Err(TemplateError::Unknown {
                        template: name,
                        name: placeholder,
                        known: PLACEHOLDERS.join(", "),
                    });
                }
            }
        }
        Ok(())
    }

    pub fn template(&self, kind: Kind) -> &Template {
        match kind {
            Kind::Verified => &self.verified,
            Kind::Rejected => &self.rejected,
            Kind::Dispatched => &self.dispatched,
            Kind::Responded => &self.responded,
            Kind::InfoRequested => &self.info_requested,
            Kind::Closed => &self.closed,
            Kind::Survey => &self.survey,
        }
    }

    /// The message of `kind` with `values` filled in.
    pub fn render(&self, kind: Kind, values: &Values) -> Message {
        let t = self.template(kind);
        let text = fill(t.text.trim(), values);
        let mut body = text.clone();
        body.push('\n');
        body.push_str(&fill(&self.footer, values));
        body.push('\n');
        let mut short = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let link = values.get("link").is_some_and(|l| !l.is_empty());
        if link && !t.text.contains("{link}") {
            short.push(' ');
            short.push_str(&fill(&self.sms_link, values));
        }
        Message {
            subject: fill(t.subject.trim(), values)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
            body,
            short,
        }
    }
}

/// The names between braces in `text`.
fn placeholders(text: &str, template: &str) -> Result<Vec<String>, TemplateError> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or_else(|| TemplateError::Unclosed {
            template: template.to_string(),
        })?;
        out.push(after[..close].to_string());
        rest = &after[close + 1..];
    }
    Ok(out)
}

/// `text` with each placeholder replaced; a line whose placeholders are all
/// empty (no link, no summary) is left out.
fn fill(text: &str, values: &Values) -> String {
    let mut lines = Vec::new();
    for line in text.lines() {
        let names = placeholders(line, "").unwrap_or_default();
        let empty = |n: &String| values.get(n.as_str()).is_none_or(|v| v.trim().is_empty());
        if !names.is_empty() && names.iter().all(empty) {
            continue;
        }
        let mut out = line.to_string();
        for name in names {
            let value = values.get(name.as_str()).map_or("", |v| v.trim());
            out = out.replace(&format!("{{{name}}}"), value);
        }
        lines.push(out);
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = include_str!("../../../../config/notifications.toml");

    fn values(link: &str) -> Values {
        let mut v = Values::new();
        v.insert("id", "abc".into());
        v.insert("opd", "Dinas Pekerjaan Umum".into());
        v.insert("link", link.into());
        v
    }

    #[test]
    fn the_shipped_templates_load_and_name_the_case() {
        let t = Templates::parse(SHIPPED).unwrap();
        for kind in Kind::ALL {
            let m = t.render(kind, &values("https://kota.example/lacak/XYZ"));
            assert!(
                m.subject.contains("abc") || kind == Kind::Survey,
                "{kind:?}"
            );
            assert!(m.body.contains("abc"), "{kind:?}");
            assert!(
                m.body.contains("https://kota.example/lacak/XYZ"),
                "{kind:?}"
            );
            assert!(
                m.short.contains("https://kota.example/lacak/XYZ"),
                "{kind:?}"
            );
            assert!(!m.body.contains('{'), "{kind:?}: {}", m.body);
        }
        assert!(t.reasons.contains_key("SPAM") && t.resolutions.contains_key("RESOLVED"));
    }

    #[test]
    fn a_line_with_only_missing_values_is_left_out() {
        let t = Templates::parse(SHIPPED).unwrap();
        let m = t.render(Kind::Dispatched, &values(""));
        assert!(!m.body.contains("Pantau perkembangan"), "{}", m.body);
        assert!(m.body.contains("Dinas Pekerjaan Umum"));
    }

    #[test]
    fn an_unknown_placeholder_is_refused() {
        let broken = SHIPPED.replace("{opd} untuk", "{dinas} untuk");
        let err = Templates::parse(&broken).unwrap_err().to_string();
        assert!(
            err.contains("dispatched.text") && err.contains("{dinas}"),
            "{err}"
        );
    }
}
