//! The values commands carry, each made only through a constructor that checks
//! it: the edges (GraphQL, Open311, the national bridge, the seeder, the CLI)
//! parse what arrives into these before a command exists, so the aggregate
//! decides on valid values only. A refusal is an `Invalid`; the edge that owns
//! the wire says which of its fields it was.

use serde::{Deserialize, Serialize};

mod codes;
mod contact;
mod files;
mod links;
mod place;
mod score;
mod text;

pub use codes::{CategoryCode, KecamatanCode, OpdCode};
pub use contact::{Contact, Email, Phone};
pub use files::{StoredFile, ATTACHMENT_TYPES};
pub use links::{Links, MAX_ATTACHMENTS, MAX_URL};
pub use place::{Coordinates, Place, PlaceCorrection};
pub use score::Score;
pub use text::{
    clean, Code, LongText, ShortText, Text, Title, MAX_CODE, MAX_SHORT, MAX_TEXT, MAX_TITLE,
};

/// Why a value was refused, in words for whoever typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(String);

impl Invalid {
    pub fn new(message: impl Into<String>) -> Self {
        Invalid(message.into())
    }

    pub fn message(&self) -> &str {
        &self.0
    }

    /// The refusal of the field the caller names (its own name for it).
    pub fn at(self, field: &str) -> crate::error::ComplaintError {
        crate::error::ComplaintError::invalid(field, self.0)
    }
}

/// An enum with the code each value is stored under in events (and which the
/// GraphQL enums happen to share).
macro_rules! coded_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $code:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $code)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

coded_enum!(
    /// How a report reached the city.
    Channel {
        Web => "WEB",
        Mobile => "MOBILE",
        CallCenter => "CALL_CENTER",
        NationalPlatform => "NATIONAL_PLATFORM",
        Open311 => "OPEN311",
        WalkIn => "WALK_IN",
    }
);

coded_enum!(
    /// Urgency; EMERGENCY is the 112 line, run on calendar time.
    Priority {
        Low => "LOW",
        Normal => "NORMAL",
        High => "HIGH",
        Emergency => "EMERGENCY",
    }
);

impl Priority {
    /// Place in a queue ordered by priority: the most urgent first
    /// (EMERGENCY 0, HIGH 1, NORMAL 2, LOW 3). The summary's `priority_rank`
    /// column is generated with these numbers (migrations 0024 / 0022).
    pub fn rank(self) -> u8 {
        match self {
            Priority::Emergency => 0,
            Priority::High => 1,
            Priority::Normal => 2,
            Priority::Low => 3,
        }
    }
}

coded_enum!(
    Status {
        Submitted => "SUBMITTED",
        Verified => "VERIFIED",
        Rejected => "REJECTED",
        Assigned => "ASSIGNED",
        InProgress => "IN_PROGRESS",
        WaitingForInfo => "WAITING_FOR_INFO",
        // Linked as a duplicate of an incident's primary (`DuplicateLinked`):
        // it follows the primary until unlinked or closed with it.
        Duplicate => "DUPLICATE",
        Closed => "CLOSED",
    }
);

coded_enum!(
    Resolution {
        Resolved => "RESOLVED",
        NotResolved => "NOT_RESOLVED",
        Duplicate => "DUPLICATE",
        OutOfScope => "OUT_OF_SCOPE",
    }
);

coded_enum!(
    /// Why the Command Center refused a report.
    RejectReason {
        Spam => "SPAM",
        OutOfScope => "OUT_OF_SCOPE",
        Incomplete => "INCOMPLETE",
        Duplicate => "DUPLICATE",
    }
);

coded_enum!(
    /// Who a case note is for: INTERNAL notes stay with city staff (never the
    /// citizen, the public view or analysts); PUBLIC notes are shown to whoever
    /// may read the case, the tracking-code view included.
    NoteVisibility {
        Internal => "INTERNAL",
        Public => "PUBLIC",
    }
);

impl Status {
    /// Still being worked on: neither closed nor rejected.
    pub fn is_open(self) -> bool {
        !matches!(self, Status::Closed | Status::Rejected)
    }

    /// In an OPD's hands.
    pub fn is_with_opd(self) -> bool {
        matches!(self, Status::Assigned | Status::InProgress)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
    pub address: Option<String>,
    pub kecamatan: Option<String>,
    pub kelurahan: Option<String>,
}

/// The person who reported. `subject` links a signed-in citizen to their case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reporter {
    pub subject: Option<String>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// A file attached to a case: a reference to the object kept (never its
/// bytes), as the event records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRef {
    /// Hex SHA-256 of the kept bytes: the object's name.
    pub sha256: String,
    pub media_type: String,
    pub size: u64,
    /// The thumbnail's object, for pictures the server could decode.
    #[serde(default)]
    pub thumbnail_sha256: Option<String>,
    pub caption: Option<String>,
    /// PUBLIC: whoever may see the case; INTERNAL: city staff only.
    pub visibility: NoteVisibility,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ComplaintError, ErrorCode};

    #[test]
    fn a_refusal_becomes_invalid_input_of_the_field_the_caller_names() {
        let refused = Invalid::new("must not be empty");
        assert_eq!(refused.message(), "must not be empty");
        assert_eq!(refused.to_string(), "must not be empty");
        let error = refused.at("to_opd");
        assert_eq!(
            error,
            ComplaintError::invalid("to_opd", "must not be empty")
        );
        assert_eq!(error.code(), ErrorCode::InvalidInput);
    }
}
