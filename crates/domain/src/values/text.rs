//! Texts people write: cleaned of control characters, not blank, bounded in
//! characters (not bytes: Indonesian names and addresses are not ASCII).

use serde::Serialize;

use super::Invalid;

pub const MAX_TITLE: usize = 200;
pub const MAX_TEXT: usize = 5000;
pub const MAX_SHORT: usize = 500;
pub const MAX_CODE: usize = 100;

/// A required text of at most `MAX` characters, as `Text::parse` left it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Text<const MAX: usize>(String);

/// A case's title.
pub type Title = Text<MAX_TITLE>;
/// Descriptions, messages, notes, reasons, summaries.
pub type LongText = Text<MAX_TEXT>;
/// Addresses, captions, escalation reasons.
pub type ShortText = Text<MAX_SHORT>;
/// Identifiers and codes given by people or other systems.
pub type Code = Text<MAX_CODE>;

impl<const MAX: usize> Text<MAX> {
    /// Cleaned (see `clean`), not empty, at most `MAX` characters.
    pub fn parse(value: &str) -> Result<Self, Invalid> {
        let value = clean(value);
        if value.is_empty() {
            return Err(Invalid::new("must not be empty"));
        }
        bounded(value, MAX).map(Text)
    }

    /// An optional text: absent, or blank after cleaning, is `None`.
    pub fn optional(value: Option<&str>) -> Result<Option<Self>, Invalid> {
        match value.map(clean).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => bounded(v, MAX).map(|v| Some(Text(v))),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl<const MAX: usize> std::fmt::Display for Text<MAX> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Control characters other than line feeds and tabs are stripped (a stray NUL
/// or escape sequence from a form or a bridge must not reach an officer's
/// screen or a CSV export), then surrounding blanks trimmed.
pub fn clean(value: &str) -> String {
    let stripped: String = value
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect();
    stripped.trim().to_string()
}

fn bounded(value: String, max: usize) -> Result<String, Invalid> {
    let len = value.chars().count();
    if len > max {
        return Err(Invalid::new(format!(
            "is {len} characters long; the limit is {max}"
        )));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_trims_and_rejects_blank() {
        assert_eq!(Text::<5>::parse("  x ").unwrap().as_str(), "x");
        assert_eq!(
            Text::<5>::parse("   "),
            Err(Invalid::new("must not be empty"))
        );
    }

    #[test]
    fn limits_count_characters_not_bytes() {
        assert!(Text::<5>::parse("ééééé").is_ok());
        assert_eq!(
            Text::<5>::parse("éééééé"),
            Err(Invalid::new("is 6 characters long; the limit is 5"))
        );
    }

    #[test]
    fn control_characters_are_stripped_but_line_feeds_and_tabs_kept() {
        assert_eq!(
            Text::<10>::parse("a\u{0}b\u{1b}[31m").unwrap().as_str(),
            "ab[31m"
        );
        assert_eq!(Text::<10>::parse("a\r\nb\tc").unwrap().as_str(), "a\nb\tc");
        assert_eq!(
            Text::<10>::parse("\u{7f}\u{85}"),
            Err(Invalid::new("must not be empty"))
        );
        assert_eq!(Text::<10>::optional(Some("\u{0}")), Ok(None));
        // The limit counts what is kept.
        let padded = format!("{}{}", "\u{0}".repeat(20), "x".repeat(10));
        assert!(Text::<10>::parse(&padded).is_ok());
    }

    #[test]
    fn optional_is_none_when_absent_or_blank_and_bounded_otherwise() {
        assert_eq!(Text::<5>::optional(None), Ok(None));
        assert_eq!(Text::<5>::optional(Some(" \t\n")), Ok(None));
        assert_eq!(
            Text::<5>::optional(Some(" abc "))
                .unwrap()
                .map(Text::into_string),
            Some("abc".to_string())
        );
        assert_eq!(
            Text::<5>::optional(Some("abcdef")),
            Err(Invalid::new("is 6 characters long; the limit is 5"))
        );
    }

    #[test]
    fn the_named_texts_have_their_limits() {
        assert!(Title::parse(&"t".repeat(MAX_TITLE)).is_ok());
        assert!(Title::parse(&"t".repeat(MAX_TITLE + 1)).is_err());
        assert!(LongText::parse(&"t".repeat(MAX_TEXT)).is_ok());
        assert!(LongText::parse(&"t".repeat(MAX_TEXT + 1)).is_err());
        assert!(ShortText::parse(&"t".repeat(MAX_SHORT)).is_ok());
        assert!(ShortText::parse(&"t".repeat(MAX_SHORT + 1)).is_err());
        assert!(Code::parse(&"t".repeat(MAX_CODE)).is_ok());
        assert_eq!(
            Code::parse(&"t".repeat(MAX_CODE + 1)),
            Err(Invalid::new("is 101 characters long; the limit is 100"))
        );
        assert_eq!(Code::parse("c-1").unwrap().to_string(), "c-1");
    }
}
