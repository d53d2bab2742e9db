//! Every error a client sees carries `extensions.code` (`ClientCode`).

use async_graphql::{Error, ErrorExtensions};

use aduan_domain::ComplaintError;
use aduan_store::{CommandError, StoreError};

use crate::error_code::ClientCode;

pub fn gql_error(code: ClientCode, message: impl Into<String>) -> Error {
    code.error(message)
}

pub fn command_error(err: CommandError) -> Error {
    let code = ClientCode::from(&err);
    if let CommandError::Domain(ComplaintError::InvalidInput { field, message }) = &err {
        let field = field.clone();
        return Error::new(format!("invalid {field}: {message}")).extend_with(move |_, ext| {
            code.set(ext);
            ext.set("field", field.as_str());
        });
    }
    match &err {
        CommandError::Store(StoreError::Unavailable(detail)) => {
            tracing::warn!(%detail, "event store unavailable");
            gql_error(code, "the event store is unavailable; retry later")
        }
        CommandError::Store(other) if code == ClientCode::Internal => {
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
