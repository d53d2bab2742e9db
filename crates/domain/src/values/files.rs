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
