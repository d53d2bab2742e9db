//! `ComplaintError::code()`: the class the API maps to a client's `extensions.code`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

use aduan_domain::{ComplaintError, ErrorCode, Status};

fn code(error: ComplaintError) -> ErrorCode {
    error.code()
}

#[test]
fn not_found() {
    assert_eq!(code(ComplaintError::NotFound), ErrorCode::NotFound);
}

#[test]
fn already_exists_is_an_invalid_transition() {
    assert_eq!(
        code(ComplaintError::AlreadyExists),
        ErrorCode::InvalidTransition
    );
}

#[test]
fn invalid_input() {
    assert_eq!(
        code(ComplaintError::invalid("title", "must not be empty")),
        ErrorCode::InvalidInput
    );
}

#[test]
fn invalid_transition() {
    let error = ComplaintError::InvalidTransition {
        action: "rate".into(),
        status: Status::Assigned,
    };
    assert_eq!(
        error.to_string(),
        "cannot rate a complaint that is ASSIGNED"
    );
    assert_eq!(code(error), ErrorCode::InvalidTransition);
}

#[test]
fn rule_violation_is_an_invalid_transition() {
    let error = ComplaintError::RuleViolated("this closure has already been rated".into());
    assert_eq!(error.code(), ErrorCode::InvalidTransition);
}

#[test]
fn forbidden() {
    let error = ComplaintError::forbidden("ANALYST may not close this complaint");
    assert_eq!(
        error.to_string(),
        "forbidden: ANALYST may not close this complaint"
    );
    assert_eq!(code(error), ErrorCode::Forbidden);
}
