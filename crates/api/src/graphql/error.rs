//! Every error a client sees carries `extensions.code` (`ClientCode`).

use async_graphql::{Error, ErrorExtensions};

use aduan_domain::{ComplaintError, Misdirected};
use aduan_store::{CommandError, StoreError};

use crate::error_code::ClientCode;

pub fn gql_error(code: ClientCode, message: impl Into<String>) -> Error {
    code.error(message)
}

pub fn command_error(err: CommandError) -> Error {
    let code = ClientCode::from(&err);
    if let CommandError::Domain(ComplaintError::InvalidInput { field, message }) = &err {
        let field = wire_field(field);
        return Error::new(format!("invalid {field}: {message}")).extend_with(move |_, ext| {
            code.set(ext);
            ext.set("field", field.as_str());
        });
    }
    if let CommandError::Domain(ComplaintError::Misdirected(m)) = &err {
        return misdirected(*m, code);
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

/// The domain's advice, naming the mutation meant.
fn misdirected(m: Misdirected, code: ClientCode) -> Error {
    match m {
        Misdirected::AssignElsewhere => gql_error(
            code,
            "forbidden: an OPD admin assigns officers of their own OPD; \
             use transferComplaint to move the case",
        ),
        Misdirected::FilesNotCarried => Error::new(
            "invalid files: files go with a submission, provideInfo, respondToComplaint, \
             recordFieldHandling, closeComplaint or addNote; else use addAttachment",
        )
        .extend_with(move |_, ext| {
            code.set(ext);
            ext.set("field", "files");
        }),
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
    use super::*;

    #[test]
    fn files_sent_with_the_wrong_command_name_the_mutations_meant() {
        let err = command_error(ComplaintError::Misdirected(Misdirected::FilesNotCarried).into());
        assert_eq!(
            err.message,
            "invalid files: files go with a submission, provideInfo, respondToComplaint, \
             recordFieldHandling, closeComplaint or addNote; else use addAttachment"
        );
        let ext = err.extensions.expect("extensions");
        assert_eq!(ClientCode::of(Some(&ext)), Some(ClientCode::InvalidInput));
        assert_eq!(ext.get("field"), Some(&async_graphql::Value::from("files")));
    }

    #[test]
    fn domain_fields_read_as_the_schema_names_them() {
        assert_eq!(wire_field("to_opd"), "toOpd");
        assert_eq!(wire_field("location.kecamatan"), "location.kecamatan");
        assert_eq!(wire_field("reporter.phone"), "reporter.phone");
        assert_eq!(wire_field("external_ref"), "externalRef");
        assert_eq!(wire_field("command_id"), "commandId");
        assert_eq!(wire_field("reporter_ref"), "reporterRef");
    }
}
