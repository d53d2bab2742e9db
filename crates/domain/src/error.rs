use crate::values::Status;

/// The class of a domain error; the API maps it to the code a client reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    NotFound,
    Forbidden,
    InvalidInput,
    InvalidTransition,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComplaintError {
    #[error("complaint not found")]
    NotFound,
    #[error("complaint already exists")]
    AlreadyExists,
    #[error("invalid {field}: {message}")]
    InvalidInput { field: String, message: String },
    #[error("cannot {action} a complaint that is {status}")]
    InvalidTransition { action: String, status: Status },
    #[error("{0}")]
    RuleViolated(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Refused, and another operation does what was meant: the edge words the
    /// advice with its own name for that operation.
    #[error("{0}")]
    Misdirected(Misdirected),
}

/// Commands sent where another one was meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Misdirected {
    /// An OPD admin's assignment names another OPD: a transfer moves a case.
    #[error(
        "forbidden: an OPD admin assigns officers of their own OPD; a transfer moves the case"
    )]
    AssignElsewhere,
    /// Files sent with a command whose event records none: attach them alone.
    #[error(
        "invalid files: files go with a submission, an answer, a response, a field \
         visit, a closing or a note; else add them as an attachment"
    )]
    FilesNotCarried,
}

impl Misdirected {
    pub fn code(self) -> ErrorCode {
        match self {
            Misdirected::AssignElsewhere => ErrorCode::Forbidden,
            Misdirected::FilesNotCarried => ErrorCode::InvalidInput,
        }
    }
}

impl ComplaintError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        ComplaintError::InvalidInput {
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// The same refusal, its field named within `parent` ("latitude" within
    /// "location" is "location.latitude").
    pub fn within(self, parent: &str) -> Self {
        match self {
            ComplaintError::InvalidInput { field, message } => ComplaintError::InvalidInput {
                field: format!("{parent}.{field}"),
                message,
            },
            other => other,
        }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        ComplaintError::Forbidden(message.into())
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            ComplaintError::NotFound => ErrorCode::NotFound,
            ComplaintError::InvalidInput { .. } => ErrorCode::InvalidInput,
            ComplaintError::AlreadyExists
            | ComplaintError::InvalidTransition { .. }
            | ComplaintError::RuleViolated(_) => ErrorCode::InvalidTransition,
            ComplaintError::Forbidden(_) => ErrorCode::Forbidden,
            ComplaintError::Misdirected(m) => m.code(),
        }
    }
}
