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
        let field = wire_field(field);
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

/// The GraphQL name of a field the domain names as its Rust field: camelCase,
/// as async-graphql names input fields ("location.kecamatan", "toOpd").
pub fn wire_field(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut upper = false;
    for c in field.chars() {
        match c {
            '_' => upper = true,
            c if upper => {
                out.extend(c.to_uppercase());
                upper = false;
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::wire_field;

    #[test]
    fn domain_fields_read_as_the_schema_names_them() {
        assert_eq!(wire_field("to_opd"), "toOpd");
        assert_eq!(wire_field("location.kecamatan"), "location.kecamatan");
        assert_eq!(wire_field("reporter.phone"), "reporter.phone");
        assert_eq!(wire_field("external_ref"), "externalRef");
        assert_eq!(wire_field("commandId"), "commandId");
    }
}
