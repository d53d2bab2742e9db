//! `ComplaintError::code()`: the class a client sees in `extensions.code`.

use aduan_domain::{ComplaintError, ErrorCode, Status};

fn code(error: ComplaintError) -> &'static str {
    error.code().as_str()
}

#[test]
fn not_found() {
    assert_eq!(code(ComplaintError::NotFound), "NOT_FOUND");
}

#[test]
fn already_exists_is_an_invalid_transition() {
    assert_eq!(code(ComplaintError::AlreadyExists), "INVALID_TRANSITION");
}

#[test]
fn invalid_input() {
    assert_eq!(
        code(ComplaintError::invalid("title", "must not be empty")),
        "INVALID_INPUT"
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
    assert_eq!(code(error), "INVALID_TRANSITION");
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
    assert_eq!(code(error), "FORBIDDEN");
}
