//! The codes a client reads in `extensions.code` (GraphQL answers, WebSocket
//! errors, attachment downloads, requests refused before GraphQL), each with
//! the HTTP status a plain HTTP refusal carries. Each code's string is written
//! here only: clients match on these strings, so one list keeps them stable.
//! The domain and the store give typed kinds; this edge names them.

use async_graphql::{ErrorExtensionValues, ErrorExtensions};
use axum::http::StatusCode;

use aduan_domain::ErrorCode;
use aduan_store::ErrorKind;

/// The extension key the code goes under.
const KEY: &str = "code";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientCode {
    NotFound,
    Forbidden,
    /// No token, or one that does not verify: a token would help.
    Unauthenticated,
    InvalidInput,
    InvalidTransition,
    /// Another writer won, or the expected version is stale: read and retry.
    Conflict,
    /// A dependency is down or not configured: retry later.
    Unavailable,
    Internal,
    RateLimited,
    /// An attachment link past its expiry (a new one comes with the case).
    LinkExpired,
    QueryTooDeep,
    QueryTooComplex,
    TooManyAliases,
    TooManySubscriptions,
    /// Apollo Client's persisted-queries link waits for this one to send the text.
    PersistedQueryNotFound,
    /// Not a GraphQL request: syntax, unknown fields, wrong variables, bad JSON.
    BadRequest,
    BodyTooLarge,
    /// A subscriber fell behind what is kept for it; it reads again and resubscribes.
    SubscriberTooSlow,
    /// A spreadsheet export over its row cap: narrow the filter (a shorter
    /// created range, a status, an OPD).
    ExportTooLarge,
}

impl ClientCode {
    pub const ALL: [ClientCode; 19] = [
        ClientCode::NotFound,
        ClientCode::Forbidden,
        ClientCode::Unauthenticated,
        ClientCode::InvalidInput,
        ClientCode::InvalidTransition,
        ClientCode::Conflict,
        ClientCode::Unavailable,
        ClientCode::Internal,
        ClientCode::RateLimited,
        ClientCode::LinkExpired,
        ClientCode::QueryTooDeep,
        ClientCode::QueryTooComplex,
        ClientCode::TooManyAliases,
        ClientCode::TooManySubscriptions,
        ClientCode::PersistedQueryNotFound,
        ClientCode::BadRequest,
        ClientCode::BodyTooLarge,
        ClientCode::SubscriberTooSlow,
        ClientCode::ExportTooLarge,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            ClientCode::NotFound => "NOT_FOUND",
            ClientCode::Forbidden => "FORBIDDEN",
            ClientCode::Unauthenticated => "UNAUTHENTICATED",
            ClientCode::InvalidInput => "INVALID_INPUT",
            ClientCode::InvalidTransition => "INVALID_TRANSITION",
            ClientCode::Conflict => "CONFLICT",
            ClientCode::Unavailable => "UNAVAILABLE",
            ClientCode::Internal => "INTERNAL",
            ClientCode::RateLimited => "RATE_LIMITED",
            ClientCode::LinkExpired => "LINK_EXPIRED",
            ClientCode::QueryTooDeep => "QUERY_TOO_DEEP",
            ClientCode::QueryTooComplex => "QUERY_TOO_COMPLEX",
            ClientCode::TooManyAliases => "TOO_MANY_ALIASES",
            ClientCode::TooManySubscriptions => "TOO_MANY_SUBSCRIPTIONS",
            ClientCode::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
            ClientCode::BadRequest => "BAD_REQUEST",
            ClientCode::BodyTooLarge => "BODY_TOO_LARGE",
            ClientCode::SubscriberTooSlow => "SUBSCRIBER_TOO_SLOW",
            ClientCode::ExportTooLarge => "EXPORT_TOO_LARGE",
        }
    }

    pub fn parse(code: &str) -> Option<ClientCode> {
        ClientCode::ALL.into_iter().find(|c| c.as_str() == code)
    }

    /// The status of a refusal made over plain HTTP. GraphQL answers keep 200
    /// (GraphQL over HTTP) except RATE_LIMITED's 429; Open311 has its own
    /// statuses (`open311::Refusal`). An expired link is refused as an altered
    /// one is: both are links without authority.
    pub const fn http_status(self) -> StatusCode {
        match self {
            ClientCode::NotFound | ClientCode::PersistedQueryNotFound => StatusCode::NOT_FOUND,
            ClientCode::Forbidden | ClientCode::LinkExpired => StatusCode::FORBIDDEN,
            ClientCode::Unauthenticated => StatusCode::UNAUTHORIZED,
            ClientCode::InvalidInput
            | ClientCode::QueryTooDeep
            | ClientCode::QueryTooComplex
            | ClientCode::TooManyAliases
            | ClientCode::TooManySubscriptions
            | ClientCode::BadRequest => StatusCode::BAD_REQUEST,
            ClientCode::InvalidTransition | ClientCode::Conflict => StatusCode::CONFLICT,
            ClientCode::Unavailable | ClientCode::SubscriberTooSlow => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ClientCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ClientCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ClientCode::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ClientCode::ExportTooLarge => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    /// Sets this code as the error's `extensions.code`.
    pub fn set(self, extensions: &mut ErrorExtensionValues) {
        extensions.set(KEY, self.as_str());
    }

    /// A GraphQL error with this code.
    pub fn error(self, message: impl Into<String>) -> async_graphql::Error {
        async_graphql::Error::new(message).extend_with(|_, ext| self.set(ext))
    }

    /// Whether the extensions carry a code at all (ours or not).
    pub fn is_set(extensions: Option<&ErrorExtensionValues>) -> bool {
        extensions.is_some_and(|e| e.get(KEY).is_some())
    }

    /// The code the extensions carry, when it is one of ours.
    pub fn of(extensions: Option<&ErrorExtensionValues>) -> Option<ClientCode> {
        match extensions?.get(KEY)? {
            async_graphql::Value::String(code) => ClientCode::parse(code),
            _ => None,
        }
    }

    /// The `{"errors": [...]}` body of a refusal outside GraphQL, in GraphQL's
    /// shape; `field` names the input at fault, when one is.
    pub fn body(self, message: &str, field: Option<&str>) -> serde_json::Value {
        serde_json::json!({"errors": self.errors(message, field)})
    }

    /// The `errors` list of such a refusal alone (a WebSocket error's payload).
    pub fn errors(self, message: &str, field: Option<&str>) -> serde_json::Value {
        let mut extensions = serde_json::json!({ KEY: self.as_str() });
        if let Some(field) = field {
            extensions["field"] = field.into();
        }
        serde_json::json!([{"message": message, "extensions": extensions}])
    }
}

impl std::fmt::Display for ClientCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<ErrorCode> for ClientCode {
    fn from(code: ErrorCode) -> ClientCode {
        match code {
            ErrorCode::NotFound => ClientCode::NotFound,
            ErrorCode::Forbidden => ClientCode::Forbidden,
            ErrorCode::InvalidInput => ClientCode::InvalidInput,
            ErrorCode::InvalidTransition => ClientCode::InvalidTransition,
        }
    }
}

impl From<ErrorKind> for ClientCode {
    fn from(kind: ErrorKind) -> ClientCode {
        match kind {
            ErrorKind::Domain(code) => code.into(),
            ErrorKind::Conflict => ClientCode::Conflict,
            ErrorKind::Unavailable => ClientCode::Unavailable,
            ErrorKind::Internal => ClientCode::Internal,
        }
    }
}

impl From<&aduan_store::CommandError> for ClientCode {
    fn from(e: &aduan_store::CommandError) -> ClientCode {
        e.kind().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aduan_domain::{ComplaintError, Status};
    use aduan_store::{CommandError, StoreError};

    #[test]
    fn codes_read_back_and_are_distinct() {
        for code in ClientCode::ALL {
            assert_eq!(ClientCode::parse(code.as_str()), Some(code));
        }
        let distinct: std::collections::HashSet<_> =
            ClientCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(distinct.len(), ClientCode::ALL.len());
        assert_eq!(ClientCode::parse("ok"), None);
    }

    #[test]
    fn domain_and_store_errors_keep_their_codes() {
        let code = |e: CommandError| ClientCode::from(&e).as_str();
        assert_eq!(code(ComplaintError::NotFound.into()), "NOT_FOUND");
        assert_eq!(
            code(ComplaintError::AlreadyExists.into()),
            "INVALID_TRANSITION"
        );
        assert_eq!(
            code(ComplaintError::invalid("t", "m").into()),
            "INVALID_INPUT"
        );
        assert_eq!(code(ComplaintError::forbidden("no").into()), "FORBIDDEN");
        let transition = ComplaintError::InvalidTransition {
            action: "rate".into(),
            status: Status::Assigned,
        };
        assert_eq!(code(transition.into()), "INVALID_TRANSITION");
        assert_eq!(code(CommandError::Conflict("c".into())), "CONFLICT");
        assert_eq!(code(StoreError::Conflict.into()), "CONFLICT");
        assert_eq!(
            code(StoreError::Unavailable("d".into()).into()),
            "UNAVAILABLE"
        );
        assert_eq!(code(StoreError::Corrupt("x".into()).into()), "INTERNAL");
    }

    #[test]
    fn refusal_bodies_are_shaped_as_graphql_errors() {
        let body = ClientCode::InvalidInput.body("too big", Some("file"));
        assert_eq!(
            body,
            serde_json::json!({"errors": [{"message": "too big",
                "extensions": {"code": "INVALID_INPUT", "field": "file"}}]})
        );
    }
}
