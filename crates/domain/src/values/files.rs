//! Files kept in the object store, as commands refer to them.

use serde::Serialize;

use super::text::{ShortText, Text};
use super::{AttachmentRef, Invalid};
use crate::error::ComplaintError;

/// The media types an attachment may have (the API recognises them by content).
pub const ATTACHMENT_TYPES: [&str; 5] = [
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/heic",
    "application/pdf",
];

/// A reference to a stored object, checked: the API makes these, and no other
/// caller of the domain may record a malformed one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct StoredFile(AttachmentRef);

impl StoredFile {
    /// Refusals name `file`, or `caption` for the caption.
    pub fn check(mut file: AttachmentRef) -> Result<Self, ComplaintError> {
        let refused = |message: &str| Invalid::new(message).at("file");
        if !is_sha256(&file.sha256) || !file.thumbnail_sha256.as_deref().is_none_or(is_sha256) {
            return Err(refused("not a stored object's SHA-256"));
        }
        if !ATTACHMENT_TYPES.contains(&file.media_type.as_str()) {
            return Err(refused("not an accepted media type"));
        }
        if file.size == 0 {
            return Err(refused("the file is empty"));
        }
        file.caption = ShortText::optional(file.caption.as_deref())
            .map_err(|e| e.at("caption"))?
            .map(Text::into_string);
        Ok(StoredFile(file))
    }

    pub fn get(&self) -> &AttachmentRef {
        &self.0
    }

    pub fn into_ref(self) -> AttachmentRef {
        self.0
    }
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::NoteVisibility;

    fn file() -> AttachmentRef {
        AttachmentRef {
            sha256: "ab".repeat(32),
            media_type: "image/jpeg".into(),
            size: 1,
            thumbnail_sha256: None,
            caption: Some("  Lubang\u{0} ".into()),
            visibility: NoteVisibility::Public,
        }
    }

    fn refused(f: AttachmentRef) -> ComplaintError {
        StoredFile::check(f).unwrap_err()
    }

    #[test]
    fn a_stored_file_keeps_its_reference_with_the_caption_cleaned() {
        let checked = StoredFile::check(file()).unwrap();
        assert_eq!(checked.get().caption.as_deref(), Some("Lubang"));
        let blank = AttachmentRef {
            caption: Some(" ".into()),
            thumbnail_sha256: Some("0123456789abcdef".repeat(4)),
            ..file()
        };
        let kept = StoredFile::check(blank.clone()).unwrap().into_ref();
        assert_eq!(
            kept,
            AttachmentRef {
                caption: None,
                ..blank
            }
        );
        for media_type in ATTACHMENT_TYPES {
            let f = AttachmentRef {
                media_type: media_type.into(),
                ..file()
            };
            assert!(StoredFile::check(f).is_ok(), "{media_type}");
        }
    }

    #[test]
    fn a_malformed_reference_is_refused_as_the_file() {
        let not_a_hash = ComplaintError::invalid("file", "not a stored object's SHA-256");
        for sha256 in [
            "../../etc/passwd".to_string(),
            "AB".repeat(32),
            "ab".repeat(31),
            "ab".repeat(33),
            "gg".repeat(32),
        ] {
            let f = AttachmentRef {
                sha256: sha256.clone(),
                ..file()
            };
            assert_eq!(refused(f), not_a_hash, "{sha256}");
        }
        let bad_thumbnail = AttachmentRef {
            thumbnail_sha256: Some("AB".repeat(32)),
            ..file()
        };
        assert_eq!(refused(bad_thumbnail), not_a_hash);
        for media_type in ["image/svg+xml", "text/html", "IMAGE/JPEG", ""] {
            let f = AttachmentRef {
                media_type: media_type.into(),
                ..file()
            };
            assert_eq!(
                refused(f),
                ComplaintError::invalid("file", "not an accepted media type"),
                "{media_type}"
            );
        }
        let empty = AttachmentRef { size: 0, ..file() };
        assert_eq!(
            refused(empty),
            ComplaintError::invalid("file", "the file is empty")
        );
    }

    #[test]
    fn a_caption_over_500_characters_is_refused_as_the_caption() {
        let long = AttachmentRef {
            caption: Some("x".repeat(501)),
            ..file()
        };
        assert_eq!(
            refused(long),
            ComplaintError::invalid("caption", "is 501 characters long; the limit is 500")
        );
        // The file's own checks come first.
        let both = AttachmentRef {
            size: 0,
            caption: Some("x".repeat(501)),
            ..file()
        };
        assert_eq!(
            refused(both),
            ComplaintError::invalid("file", "the file is empty")
        );
    }
}
