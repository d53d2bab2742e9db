//! Erasure of a reporter's personal data (Law No. 27 of 2022 on Personal Data
//! Protection): which fields of which events are the reporter's, the reference
//! that keys them, and what an erased field reads as. The store encrypts these
//! fields under a key per complaint (`aduan_store::personal`); erasure destroys
//! the keys, so the events stay as they were (and their hashes verify) while the
//! fields read as `ERASED`.

use sha2::{Digest, Sha256};

use crate::tracking;
use crate::values::Reporter;

/// What a field whose key was destroyed reads as.
pub const ERASED: &str = "[erased]";

/// What a sealed field reads as when its key is missing or the ciphertext does
/// not authenticate (a row copied to another complaint, a damaged import): a
/// reader gets this instead of an error, and the server logs a warning.
pub const UNREADABLE: &str = "[unreadable]";

/// A personal field: its path inside the event's payload object (the object
/// under the event type's name), and whether it is personal only when the
/// reporter wrote it (role CITIZEN, or PUBLIC with the tracking code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PersonalField {
    pub path: &'static [&'static str],
    pub reporter_only: bool,
}

const fn always(path: &'static [&'static str]) -> PersonalField {
    PersonalField {
        path,
        reporter_only: false,
    }
}

const fn by_reporter(path: &'static [&'static str]) -> PersonalField {
    PersonalField {
        path,
        reporter_only: true,
    }
}

const SUBMITTED: [PersonalField; 6] = [
    always(&["title"]),
    always(&["description"]),
    always(&["location", "address"]),
    always(&["reporter", "name"]),
    always(&["reporter", "phone"]),
    always(&["reporter", "email"]),
];
// An answer is the citizen's information even when an agent types it for them
// on the phone; a rating comment is only ever the reporter's.
const INFO_PROVIDED: [PersonalField; 1] = [always(&["answer"])];
const RATED: [PersonalField; 1] = [always(&["comment"])];
// A reopening or a caption is staff's own text unless the reporter wrote it.
const REOPENED: [PersonalField; 1] = [by_reporter(&["reason"])];
const ATTACHMENT_ADDED: [PersonalField; 1] = [by_reporter(&["file", "caption"])];
// A corrected place carries the case's address as a submission does.
const LOCATION_CORRECTED: [PersonalField; 1] = [always(&["location", "address"])];

/// The personal fields of an event type (none for most).
pub fn personal_fields(event_type: &str) -> &'static [PersonalField] {
    match event_type {
        "Submitted" => &SUBMITTED,
        "InfoProvided" => &INFO_PROVIDED,
        "Rated" => &RATED,
        "Reopened" => &REOPENED,
        "AttachmentAdded" => &ATTACHMENT_ADDED,
        "LocationCorrected" => &LOCATION_CORRECTED,
        _ => &[],
    }
}

/// Whether an event written by `actor_role` (its metadata's) is the reporter's own.
pub fn written_by_reporter(actor_role: &str) -> bool {
    matches!(actor_role, "CITIZEN" | "PUBLIC")
}

/// The reference a reporter is erased by. A signed-in citizen's is the
/// pseudonym of their account (`tracking::reporter_ref`), the same for all
/// their cases; a reporter without an account (taken by phone, anonymous,
/// following by tracking code, imported from the national platform) is known
/// only through the one case, so the reference is the case's own.
pub fn reporter_ref(complaint_id: &str, reporter: Option<&Reporter>) -> String {
    match reporter.and_then(|r| r.subject.as_deref()) {
        Some(subject) => tracking::reporter_ref(subject),
        None => hex::encode(Sha256::digest(
            format!("complaint-reporter:{complaint_id}").as_bytes(),
        )),
    }
}

/// Whether a reference has the shape `reporter_ref` gives (64 hex digits).
pub fn is_reporter_ref(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_follow_the_account_or_else_the_case() {
        let signed_in = Reporter {
            subject: Some("warga-1".into()),
            name: None,
            phone: None,
            email: None,
        };
        assert_eq!(
            reporter_ref("a", Some(&signed_in)),
            reporter_ref("b", Some(&signed_in))
        );
        assert_eq!(
            reporter_ref("a", Some(&signed_in)),
            tracking::reporter_ref("warga-1")
        );
        assert_ne!(reporter_ref("a", None), reporter_ref("b", None));
        assert!(is_reporter_ref(&reporter_ref("a", None)));
        assert!(!is_reporter_ref("warga-1"));
    }
}
