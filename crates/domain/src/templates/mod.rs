//! Response templates: the city's own answers, written once by a SUPERVISOR or
//! an OPD's administrator and used by officers on cases. A template is a
//! stream of its own (`stream`): created, revised (each revision a new
//! version) and retired, never edited in place, so which text a citizen read
//! is always on record. A case's event names the template and version it was
//! rendered from (`TemplateUse`) beside the rendered text itself.

use serde::{Deserialize, Serialize};

mod auto;
mod body;
mod context;
mod stream;

pub use auto::{acknowledgement, acknowledging};
pub use body::{TemplateBody, MAX_BODY};
pub use context::derived;
pub use stream::{
    may_manage, may_read, ResponseTemplate, TemplateCommand, TemplateEvent, TemplateScope,
    MAX_TEMPLATE_NAME, TEMPLATE_TYPE,
};

/// The template a case's text was rendered from, as the case's event records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateUse {
    pub id: String,
    /// The template's version (its stream's sequence) the text was rendered from.
    pub version: i64,
}

/// Why a template (or its use) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("must not be empty")]
    Empty,
    #[error("is {length} characters long, at most {max} are allowed")]
    TooLong { length: usize, max: usize },
    #[error("has an unbalanced brace at character {0} (write {{{{ or }}}} for a literal brace)")]
    Unbalanced(usize),
    #[error("uses the unknown variable {{{0}}}")]
    Unknown(String),
    #[error(
        "uses {{trackingCode}}: the server keeps only its hash, only the submitter has it; use {{number}}"
    )]
    TrackingCode,
    #[error("gives a value for {{{0}}}, which the case itself fills")]
    Derived(String),
    #[error("gives a value for {{{0}}}, which the template does not use")]
    Unused(String),
    #[error("needs a value for {{{0}}}")]
    Missing(String),
}

macro_rules! variables {
    ($($variant:ident => $name:literal, $derived:literal;)+) => {
        /// The variables a template may use: those the case fills (`is_derived`)
        /// and those the officer types when using it. A closed list, so a typo
        /// in a template is refused when it is written.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Variable { $($variant),+ }

        impl Variable {
            pub const ALL: &'static [Variable] = &[$(Variable::$variant),+];

            pub fn name(self) -> &'static str {
                match self { $(Variable::$variant => $name),+ }
            }

            /// Whether the case gives the value (else the caller does).
            pub fn is_derived(self) -> bool {
                match self { $(Variable::$variant => $derived),+ }
            }
        }
    };
}

variables! {
    Number => "number", true;
    Title => "title", true;
    Category => "category", true;
    Opd => "opd", true;
    Kecamatan => "kecamatan", true;
    Kelurahan => "kelurahan", true;
    Deadline => "deadline", true;
    Officer => "officer", false;
    Date => "date", false;
    Time => "time", false;
    Place => "place", false;
    Detail => "detail", false;
}

impl Variable {
    pub fn parse(name: &str) -> Result<Variable, TemplateError> {
        if name == "trackingCode" {
            return Err(TemplateError::TrackingCode);
        }
        Variable::ALL
            .iter()
            .copied()
            .find(|v| v.name() == name)
            .ok_or_else(|| TemplateError::Unknown(name.to_string()))
    }
}

#[cfg(test)]
mod tests;
