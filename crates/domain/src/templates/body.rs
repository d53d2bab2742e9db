//! A template's text: literal Indonesian text with `{variable}` holes, parsed
//! once when the template is written (so a broken template is refused then,
//! not when an officer answers a citizen with it) and rendered per case.
//! `{{` and `}}` are a literal brace.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{TemplateError, Variable};
use crate::values::{clean, MAX_TEXT};

/// The longest template text, in characters. Below a message's own bound, so
/// the values put in its holes have room.
pub const MAX_BODY: usize = 4000;

/// A parsed template text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct TemplateBody(String);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece<'a> {
    Literal(&'a str),
    Brace(char),
    Hole(Variable),
}

impl TemplateBody {
    /// Cleaned as every text is, not empty, at most `MAX_BODY` characters,
    /// every brace balanced and every hole a known variable.
    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        let text = clean(text);
        if text.is_empty() {
            return Err(TemplateError::Empty);
        }
        let length = text.chars().count();
        if length > MAX_BODY {
            return Err(TemplateError::TooLong {
                length,
                max: MAX_BODY,
            });
        }
        pieces(&text)?;
        Ok(TemplateBody(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The variables the text uses, each once, in the catalogue's order.
    pub fn variables(&self) -> Vec<Variable> {
        let mut used: Vec<Variable> = self
            .pieces()
            .into_iter()
            .filter_map(|p| match p {
                Piece::Hole(v) => Some(v),
                _ => None,
            })
            .collect();
        used.sort();
        used.dedup();
        used
    }

    /// The text with every hole filled: `derived` holds what the case knows
    /// (a value the case lacks, such as a deadline before dispatch, renders
    /// empty), `supplied` what the caller typed for the other holes. A
    /// supplied value the text has no hole for, one for a variable the case
    /// already gives, or a missing one, is refused; so is a result longer than
    /// a message may be.
    pub fn render(
        &self,
        derived: &BTreeMap<Variable, String>,
        supplied: &BTreeMap<String, String>,
    ) -> Result<String, TemplateError> {
        let used = self.variables();
        let supplied = check_supplied(&used, supplied)?;
        let mut out = String::with_capacity(self.0.len());
        for piece in self.pieces() {
            match piece {
                Piece::Literal(s) => out.push_str(s),
                Piece::Brace(c) => out.push(c),
                Piece::Hole(v) if v.is_derived() => {
                    out.push_str(derived.get(&v).map(String::as_str).unwrap_or(""))
                }
                Piece::Hole(v) => out.push_str(supplied.get(&v).map(String::as_str).unwrap_or("")),
            }
        }
        let out = clean(&out);
        let length = out.chars().count();
        if out.is_empty() {
            return Err(TemplateError::Empty);
        }
        if length > MAX_TEXT {
            return Err(TemplateError::TooLong {
                length,
                max: MAX_TEXT,
            });
        }
        Ok(out)
    }

    #[allow(
        clippy::expect_used,
        reason = "parse checked the text: only a parsed body exists"
    )]
    fn pieces(&self) -> Vec<Piece<'_>> {
        pieces(&self.0).expect("checked by parse")
    }
}

/// The caller's values, each for a hole the text has that the case does not
/// fill, every such hole given one (cleaned, not blank).
fn check_supplied(
    used: &[Variable],
    supplied: &BTreeMap<String, String>,
) -> Result<BTreeMap<Variable, String>, TemplateError> {
    let mut values = BTreeMap::new();
    for (name, value) in supplied {
        let variable = Variable::parse(name)?;
        if variable.is_derived() {
            return Err(TemplateError::Derived(name.clone()));
        }
        if !used.contains(&variable) {
            return Err(TemplateError::Unused(name.clone()));
        }
        let value = clean(value);
        if value.is_empty() {
            return Err(TemplateError::Missing(name.clone()));
        }
        values.insert(variable, value);
    }
    if let Some(missing) = used
        .iter()
        .find(|v| !v.is_derived() && !values.contains_key(v))
    {
        return Err(TemplateError::Missing(missing.name().to_string()));
    }
    Ok(values)
}

fn pieces(text: &str) -> Result<Vec<Piece<'_>>, TemplateError> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(['{', '}']) {
        if at > 0 {
            out.push(Piece::Literal(&rest[..at]));
        }
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("{{") {
            out.push(Piece::Brace('{'));
            rest = after;
        } else if let Some(after) = tail.strip_prefix("}}") {
            out.push(Piece::Brace('}'));
            rest = after;
        } else if tail.starts_with('}') {
            return Err(TemplateError::Unbalanced(offset(text, tail)));
        } else {
            let close = tail[1..]
                .find(['}', '{'])
                .filter(|i| tail.as_bytes()[i + 1] == b'}')
                .ok_or_else(|| TemplateError::Unbalanced(offset(text, tail)))?;
            out.push(Piece::Hole(Variable::parse(&tail[1..close + 1])?));
            rest = &tail[close + 2..];
        }
    }
    if !rest.is_empty() {
        out.push(Piece::Literal(rest));
    }
    Ok(out)
}

/// Where `tail` starts in `text`, in characters (for the message).
fn offset(text: &str, tail: &str) -> usize {
    text[..text.len() - tail.len()].chars().count()
}
