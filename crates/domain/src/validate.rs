//! Input validation shared by the command handlers. Every check names the field it
//! rejects so a client can point the user at it.

use crate::error::ComplaintError;
use crate::reference::ReferenceData;
use crate::values::{AttachmentRef, Location, Reporter};

pub const MAX_TITLE: usize = 200;
pub const MAX_TEXT: usize = 5000;
pub const MAX_SHORT: usize = 500;
pub const MAX_CODE: usize = 100;
pub const MAX_ATTACHMENTS: usize = 10;
pub const MAX_URL: usize = 2000;

type Result<T> = std::result::Result<T, ComplaintError>;

/// Required text: cleaned (see `clean`), not empty, at most `max` characters.
pub fn required(field: &str, value: &str, max: usize) -> Result<String> {
    let value = clean(value);
    if value.is_empty() {
        return Err(ComplaintError::invalid(field, "must not be empty"));
    }
    bounded(field, &value, max)
}

/// Optional text: blank counts as absent.
pub fn optional(field: &str, value: Option<&str>, max: usize) -> Result<Option<String>> {
    match value.map(clean).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => bounded(field, &v, max).map(Some),
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

fn bounded(field: &str, value: &str, max: usize) -> Result<String> {
    let len = value.chars().count();
    if len > max {
        return Err(ComplaintError::invalid(
            field,
            format!("is {len} characters long; the limit is {max}"),
        ));
    }
    Ok(value.to_string())
}

pub fn category(reference: &ReferenceData, code: &str) -> Result<String> {
    reference
        .category(code)
        .map(|c| c.code.clone())
        .ok_or_else(|| ComplaintError::invalid("category", format!("unknown category {code:?}")))
}

pub fn opd(field: &str, reference: &ReferenceData, code: &str) -> Result<String> {
    reference
        .opd(code)
        .map(|o| o.code.clone())
        .ok_or_else(|| ComplaintError::invalid(field, format!("unknown OPD {code:?}")))
}

pub fn location(reference: &ReferenceData, loc: &Location) -> Result<Location> {
    if !loc.latitude.is_finite() || !(-90.0..=90.0).contains(&loc.latitude) {
        return Err(ComplaintError::invalid(
            "location.latitude",
            "must be between -90 and 90",
        ));
    }
    if !loc.longitude.is_finite() || !(-180.0..=180.0).contains(&loc.longitude) {
        return Err(ComplaintError::invalid(
            "location.longitude",
            "must be between -180 and 180",
        ));
    }
    let kecamatan = optional("location.kecamatan", loc.kecamatan.as_deref(), MAX_CODE)?;
    if let Some(code) = &kecamatan {
        if reference.kecamatan(code).is_none() {
            return Err(ComplaintError::invalid(
                "location.kecamatan",
                format!("unknown kecamatan {code:?}"),
            ));
        }
    }
    Ok(Location {
        latitude: loc.latitude,
        longitude: loc.longitude,
        address: optional("location.address", loc.address.as_deref(), MAX_SHORT)?,
        kecamatan,
        kelurahan: optional("location.kelurahan", loc.kelurahan.as_deref(), MAX_CODE)?,
    })
}

pub fn reporter(r: &Reporter) -> Result<Reporter> {
    let phone = optional("reporter.phone", r.phone.as_deref(), 32)?;
    if let Some(p) = &phone {
        let digits = p.chars().filter(char::is_ascii_digit).count();
        let allowed = p.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c));
        if !allowed || !(6..=15).contains(&digits) {
            return Err(ComplaintError::invalid(
                "reporter.phone",
                "is not a phone number",
            ));
        }
    }
    let email = optional("reporter.email", r.email.as_deref(), 254)?;
    if let Some(e) = &email {
        let valid = matches!(e.split_once('@'), Some((user, host))
            if !user.is_empty()
                && !host.contains('@')
                && host.split('.').count() >= 2
                && host.split('.').all(|label| !label.is_empty())
                && !e.contains(char::is_whitespace));
        if !valid {
            return Err(ComplaintError::invalid(
                "reporter.email",
                "is not an email address",
            ));
        }
    }
    Ok(Reporter {
        subject: r.subject.clone(),
        name: optional("reporter.name", r.name.as_deref(), MAX_TITLE)?,
        phone,
        email,
    })
}

pub fn urls(field: &str, urls: &[String]) -> Result<Vec<String>> {
    if urls.len() > MAX_ATTACHMENTS {
        return Err(ComplaintError::invalid(
            field,
            format!("at most {MAX_ATTACHMENTS} are allowed"),
        ));
    }
    urls.iter()
        .map(|u| {
            let u = required(field, u, MAX_URL)?;
            if u.starts_with("https://") || u.starts_with("http://") {
                Ok(u)
            } else {
                Err(ComplaintError::invalid(field, "must be http(s) URLs"))
            }
        })
        .collect()
}

/// The media types an attachment may have (the API recognises them by content).
pub const ATTACHMENT_TYPES: [&str; 5] = [
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/heic",
    "application/pdf",
];

fn is_sha256(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// An attachment reference as the API made it; checked again here so that no
/// other caller of the domain records a malformed one.
pub fn attachment(mut file: AttachmentRef) -> Result<AttachmentRef> {
    if !is_sha256(&file.sha256) || !file.thumbnail_sha256.as_deref().is_none_or(is_sha256) {
        return Err(ComplaintError::invalid(
            "file",
            "not a stored object's SHA-256",
        ));
    }
    if !ATTACHMENT_TYPES.contains(&file.media_type.as_str()) {
        return Err(ComplaintError::invalid(
            "file",
            "not an accepted media type",
        ));
    }
    if file.size == 0 {
        return Err(ComplaintError::invalid("file", "the file is empty"));
    }
    file.caption = optional("caption", file.caption.as_deref(), MAX_SHORT)?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_trims_and_rejects_blank() {
        assert_eq!(required("t", "  x ", 5).unwrap(), "x");
        assert!(matches!(
            required("t", "   ", 5),
            Err(ComplaintError::InvalidInput { .. })
        ));
    }

    #[test]
    fn limits_count_characters_not_bytes() {
        assert!(required("t", "ééééé", 5).is_ok());
        assert!(required("t", "éééééé", 5).is_err());
    }

    #[test]
    fn control_characters_are_stripped_but_line_feeds_and_tabs_kept() {
        assert_eq!(required("t", "a\u{0}b\u{1b}[31m", 10).unwrap(), "ab[31m");
        assert_eq!(required("t", "a\r\nb\tc", 10).unwrap(), "a\nb\tc");
        assert_eq!(
            required("t", "\u{7f}\u{85}", 10),
            Err(ComplaintError::invalid("t", "must not be empty"))
        );
        assert_eq!(optional("t", Some("\u{0}"), 10), Ok(None));
        // The limit counts what is kept.
        assert!(required(
            "t",
            &format!("{}{}", "\u{0}".repeat(20), "x".repeat(10)),
            10
        )
        .is_ok());
    }

    #[test]
    fn phone_and_email_shapes() {
        let ok = Reporter {
            subject: None,
            name: Some("Andi".into()),
            phone: Some("+62 811-4000-123".into()),
            email: Some("andi@example.id".into()),
        };
        assert!(reporter(&ok).is_ok());
        let bad_phone = Reporter {
            phone: Some("call me".into()),
            ..ok.clone()
        };
        assert!(reporter(&bad_phone).is_err());
        for email in [
            "andi@",
            "a@b@c.id",
            "andi@example.",
            "andi@.id",
            "an di@x.id",
        ] {
            let bad = Reporter {
                email: Some(email.into()),
                ..ok.clone()
            };
            assert!(reporter(&bad).is_err(), "{email} accepted");
        }
    }

    #[test]
    fn attachments_must_be_http_urls_and_few() {
        assert!(urls("a", &["https://x.id/1.jpg".into()]).is_ok());
        assert!(urls("a", &["file:///etc/passwd".into()]).is_err());
        assert!(urls("a", &vec!["https://x.id/1.jpg".to_string(); 11]).is_err());
    }
}
