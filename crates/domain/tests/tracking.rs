//! Tracking codes and callers without a token: a code lets its holder rate the
//! case it was issued for, and nothing else.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

mod common;

use aduan_domain::tracking;
use aduan_domain::*;
use common::*;

fn rate_with(code: Option<&str>) -> Action {
    Action::Rate(parse_rate(4, None, code).unwrap())
}

#[test]
fn the_holder_of_the_code_rates_without_an_account() {
    given(with_code(closed_case()))
        .when(cmd(Actor::public(), rate_with(Some(CODE))))
        .then_expect_events(vec![ComplaintEvent::Rated {
            score: 4,
            comment: None,
            occurred_at: now(),
        }]);
}

#[test]
fn another_code_or_none_is_refused() {
    for code in [None, Some("some-other-code"), Some("")] {
        given(with_code(closed_case()))
            .when(cmd(Actor::public(), rate_with(code)))
            .then_expect_error(denied(&Actor::public(), "rate"));
    }
}

#[test]
fn a_case_without_a_code_cannot_be_rated_by_one() {
    given(closed_case())
        .when(cmd(Actor::public(), rate_with(Some(CODE))))
        .then_expect_error(denied(&Actor::public(), "rate"));
}

#[test]
fn a_signed_in_citizen_holding_the_code_may_rate_too() {
    given(with_code(closed_case()))
        .when(cmd(other_citizen(), rate_with(Some(CODE))))
        .then_expect_events(vec![ComplaintEvent::Rated {
            score: 4,
            comment: None,
            occurred_at: now(),
        }]);
}

#[test]
fn the_code_opens_nothing_but_rating() {
    let reopen = Action::Reopen(parse_reopen(REASON).unwrap());
    given(with_code(closed_case()))
        .when(cmd(Actor::public(), reopen))
        .then_expect_error(denied(&Actor::public(), "reopen"));
}

#[test]
fn the_public_submits_and_is_never_linked_as_the_reporter() {
    let submit = SubmitInput {
        reporter: Some(Reporter {
            subject: Some("someone-else".into()),
            ..reporter_details()
        }),
        tracking_code_hash: Some(tracking::hash(CODE)),
        ..submit_input()
    };
    given_none()
        .when(cmd(Actor::public(), submission(submit)))
        .then_expect_events(vec![submitted_from(SubmitInput {
            reporter: Some(reporter_details()),
            tracking_code_hash: Some(tracking::hash(CODE)),
            ..submit_input()
        })]);
}

#[test]
fn the_public_may_do_nothing_else() {
    for action in every_action_but_submit() {
        let verb = action.verb();
        let result = given(with_code(assigned_case()))
            .when(cmd(Actor::public(), action))
            .inspect_result();
        assert_eq!(result, Err(denied(&Actor::public(), verb)), "{verb}");
    }
}
