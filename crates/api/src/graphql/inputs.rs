//! Input types: one per mutation, each naming its complaint and carrying the
//! optional idempotency key and expected version.

use async_graphql::{InputObject, Upload, ID};
use chrono::{DateTime, Utc};

use aduan_domain as domain;

use super::types::{Channel, NoteVisibility, Priority, RejectReason, Resolution};

/// Which complaint, and how the command may be retried or guarded.
#[derive(InputObject, Clone)]
pub struct Target {
    pub complaint_id: ID,
    /// Idempotency key: re-sending a command with the same id returns the first
    /// result and appends nothing.
    pub command_id: Option<String>,
    /// Act only if the complaint is still at this version; otherwise CONFLICT.
    pub expected_version: Option<i64>,
}

#[derive(InputObject)]
pub struct LocationInput {
    pub latitude: f64,
    pub longitude: f64,
    pub address: Option<String>,
    /// Kecamatan code (see `kecamatan`).
    pub kecamatan: Option<String>,
    pub kelurahan: Option<String>,
}

#[derive(InputObject)]
pub struct ReporterInput {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

#[derive(InputObject)]
pub struct SubmitComplaintInput {
    /// Idempotency key; a retried submission with the same key returns the same complaint.
    pub command_id: Option<String>,
    pub channel: Channel,
    /// Category code (see `categories`).
    pub category: String,
    pub priority: Option<Priority>,
    pub title: String,
    pub description: String,
    pub location: LocationInput,
    pub reporter: Option<ReporterInput>,
    /// Hide the reporter's identity from the OPD and the public.
    #[graphql(default)]
    pub anonymous: bool,
    /// Links to photos or documents elsewhere (stored as given, not fetched).
    #[graphql(default)]
    pub attachments: Vec<String>,
    /// The case's id in the system it came from (national platform, Open311).
    pub external_ref: Option<String>,
    /// Photos or documents sent with the report (a GraphQL multipart request;
    /// at most 10).
    #[graphql(default)]
    pub files: Vec<FileInput>,
}

impl SubmitComplaintInput {
    pub fn into_action(
        self,
        complaint_id: String,
        tracking_code_hash: Option<String>,
    ) -> domain::Action {
        domain::Action::Submit(domain::Submit {
            complaint_id,
            channel: self.channel.into(),
            category: self.category,
            priority: self.priority.map(Into::into),
            title: self.title,
            description: self.description,
            location: domain::Location {
                latitude: self.location.latitude,
                longitude: self.location.longitude,
                address: self.location.address,
                kecamatan: self.location.kecamatan,
                kelurahan: self.location.kelurahan,
            },
            reporter: self.reporter.map(|r| domain::Reporter {
                subject: None,
                name: r.name,
                phone: r.phone,
                email: r.email,
            }),
            anonymous: self.anonymous,
            attachments: self.attachments,
            external_ref: self.external_ref,
            tracking_code_hash,
        })
    }
}

/// A file sent with a command (a GraphQL multipart request's upload).
#[derive(InputObject)]
pub struct FileInput {
    /// JPEG, PNG, WebP, HEIC or PDF, recognised by content.
    pub file: Upload,
    pub caption: Option<String>,
    /// Default: PUBLIC for the reporter's own files, INTERNAL for staff's.
    pub visibility: Option<NoteVisibility>,
}

/// Inputs that act on an existing complaint.
pub trait TargetedInput {
    fn target(&self) -> &Target;
    /// The files sent with the command, taken out of the input.
    fn take_files(&mut self) -> Vec<FileInput> {
        Vec::new()
    }
    fn into_action(self) -> domain::Action;
}

macro_rules! targeted_input {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $field:ident : $ty:ty),* $(,)? } => |$s:ident| $action:expr) => {
        $(#[$m])*
        #[derive(InputObject)]
        pub struct $name {
            #[graphql(flatten)]
            pub target: Target,
            $($(#[$fm])* pub $field: $ty,)*
        }

        impl TargetedInput for $name {
            fn target(&self) -> &Target {
                &self.target
            }

            fn into_action(self) -> domain::Action {
                let $s = self;
                $action
            }
        }
    };
    // The same, for commands that may carry files.
    (with files $(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $field:ident : $ty:ty),* $(,)? } => |$s:ident| $action:expr) => {
        $(#[$m])*
        #[derive(InputObject)]
        pub struct $name {
            #[graphql(flatten)]
            pub target: Target,
            $($(#[$fm])* pub $field: $ty,)*
            /// Photos or documents recorded with the command (at most 10).
            #[graphql(default)]
            pub files: Vec<FileInput>,
        }

        impl TargetedInput for $name {
            fn target(&self) -> &Target {
                &self.target
            }

            fn take_files(&mut self) -> Vec<FileInput> {
                std::mem::take(&mut self.files)
            }

            fn into_action(self) -> domain::Action {
                let $s = self;
                $action
            }
        }
    };
}

targeted_input!(VerifyComplaintInput {
    priority: Option<Priority>,
    /// Re-categorise while verifying.
    category: Option<String>,
    note: Option<String>,
} => |s| domain::Action::Verify(domain::Verify {
    priority: s.priority.map(Into::into),
    category: s.category,
    note: s.note,
}));

targeted_input!(RejectComplaintInput {
    reason: RejectReason,
    note: Option<String>,
} => |s| domain::Action::Reject(domain::Reject { reason: s.reason.into(), note: s.note }));

targeted_input!(AssignComplaintInput {
    /// OPD code (see `opds`).
    opd: String,
    officer_id: Option<String>,
    note: Option<String>,
} => |s| domain::Action::Assign(domain::Assign { opd: s.opd, officer_id: s.officer_id, note: s.note }));

targeted_input!(TransferComplaintInput {
    /// OPD code to move the case to.
    to_opd: String,
    reason: String,
} => |s| domain::Action::Transfer(domain::Transfer { to_opd: s.to_opd, reason: s.reason }));

targeted_input!(with files RespondToComplaintInput {
    /// A reply the citizen sees.
    message: String,
} => |s| domain::Action::Respond(domain::Respond { message: s.message }));

targeted_input!(RequestInfoInput {
    question: String,
} => |s| domain::Action::RequestInfo(domain::RequestInfo { question: s.question }));

targeted_input!(with files ProvideInfoInput {
    answer: String,
    #[graphql(default)]
    attachments: Vec<String>,
} => |s| domain::Action::ProvideInfo(domain::ProvideInfo { answer: s.answer, attachments: s.attachments }));

targeted_input!(with files RecordFieldHandlingInput {
    notes: String,
    /// When the officer was on site.
    handled_at: DateTime<Utc>,
    #[graphql(default)]
    photos: Vec<String>,
} => |s| domain::Action::RecordFieldHandling(domain::RecordFieldHandling {
    notes: s.notes,
    handled_at: s.handled_at,
    photos: s.photos,
}));

targeted_input!(EscalateComplaintInput {
    reason: String,
} => |s| domain::Action::Escalate(domain::Escalate { reason: s.reason }));

targeted_input!(with files CloseComplaintInput {
    resolution: Resolution,
    summary: String,
    /// The complaint this one duplicates, for a DUPLICATE resolution.
    duplicate_of: Option<ID>,
} => |s| domain::Action::Close(domain::Close {
    resolution: s.resolution.into(),
    summary: s.summary,
    duplicate_of: s.duplicate_of.map(|d| d.0),
}));

targeted_input!(ReopenComplaintInput {
    reason: String,
} => |s| domain::Action::Reopen(domain::Reopen { reason: s.reason }));

targeted_input!(RateComplaintInput {
    /// 1 (very dissatisfied) to 5 (very satisfied).
    score: i32,
    comment: Option<String>,
    /// The code given at submission: lets its holder rate without a token.
    tracking_code: Option<String>,
} => |s| domain::Action::Rate(domain::Rate {
    score: s.score,
    comment: s.comment,
    tracking_code: s.tracking_code,
}));

targeted_input!(with files AddNoteInput {
    /// Up to 5000 characters.
    text: String,
    /// INTERNAL: city staff only; PUBLIC: also the citizen and the tracking-code view.
    visibility: NoteVisibility,
} => |s| domain::Action::AddNote(domain::AddNote {
    text: s.text,
    visibility: s.visibility.into(),
}));

/// One element's answer in the satisfaction survey.
#[derive(InputObject)]
pub struct SurveyAnswerInput {
    /// The element's code, U1..U9 (see `surveyElements`).
    pub element: String,
    /// 1 (tidak baik) to 4 (sangat baik).
    pub score: i32,
}

targeted_input!(AnswerSurveyInput {
    /// One answer for each of the nine elements, in any order.
    answers: Vec<SurveyAnswerInput>,
    /// The code given at submission: lets its holder answer without a token.
    tracking_code: Option<String>,
} => |s| domain::Action::AnswerSurvey(domain::AnswerSurvey {
    answers: s.answers.into_iter().map(|a| (a.element, a.score)).collect(),
    tracking_code: s.tracking_code,
}));

targeted_input!(OptOutOfNotificationsInput {
    /// The code given at submission: lets its holder opt out without a token.
    tracking_code: Option<String>,
} => |s| domain::Action::OptOutOfNotifications(domain::OptOutOfNotifications {
    tracking_code: s.tracking_code,
}));
