//! Every error a client sees carries `extensions.code` (DESIGN.md's list).

use async_graphql::{Error, ErrorExtensions};

use aduan_domain::ComplaintError;
use aduan_store::{CommandError, StoreError};

pub fn gql_error(code: &'static str, message: impl Into<String>) -> Error {
    Error::new(message).extend_with(|_, ext| ext.set("code", code))
}

pub fn command_error(err: CommandError) -> Error {
    let code = err.code();
    if let CommandError::Domain(ComplaintError::InvalidInput { field, message }) = &err {
        let field = field.clone();
        return Error::new(format!("invalid {field}: {message}")).extend_with(move |_, ext| {
            ext.set("code", code);
            ext.set("field", field.as_str());
        });
    }
    match &err {
        CommandError::Store(StoreError::Unavailable(detail)) => {
            tracing::warn!(%detail, "event store unavailable");
            gql_error(code, "the event store is unavailable; retry later")
        }
        CommandError::Store(other) if code == "INTERNAL" => {
            tracing::error!(error = %other, "internal error");
            gql_error(code, "internal error")
        }
        _ => gql_error(code, err.to_string()),
    }
}

pub fn store_error(err: StoreError) -> Error {
    command_error(CommandError::Store(err))
}

pub fn invalid_input(field: &str, message: &str) -> Error {
    command_error(ComplaintError::invalid(field, message).into())
}
