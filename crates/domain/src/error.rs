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
        }
    }
}
