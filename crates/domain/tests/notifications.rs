//! Opting out of notifications: the reporter (account or tracking code) or the
//! Command Center on the reporter's word, once per case, in any status.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

mod common;

use aduan_domain::*;
use common::*;

fn opt_out(code: Option<&str>) -> Action {
    Action::OptOutOfNotifications(OptOutOfNotifications {
        tracking_code: code.map(str::to_string),
    })
}

fn opted_out() -> ComplaintEvent {
    ComplaintEvent::NotificationsOptedOut { occurred_at: now() }
}

#[test]
fn the_reporter_opts_out_in_any_status() {
    for history in [vec![submitted()], assigned_case(), closed_case()] {
        given(history)
            .when(cmd(citizen(), opt_out(None)))
            .then_expect_events(vec![opted_out()]);
    }
}

#[test]
fn the_tracking_code_holder_and_the_command_center_may_too() {
    given(with_code(assigned_case()))
        .when(cmd(Actor::public(), opt_out(Some(CODE))))
        .then_expect_events(vec![opted_out()]);
    for actor in [agent(), supervisor()] {
        given(assigned_case())
            .when(cmd(actor, opt_out(None)))
            .then_expect_events(vec![opted_out()]);
    }
}

#[test]
fn anyone_else_is_refused() {
    let verb = OPT_OUT_VERB;
    for actor in [other_citizen(), analyst(), auditor(), system()] {
        given(assigned_case())
            .when(cmd(actor.clone(), opt_out(None)))
            .then_expect_error(denied(&actor, verb));
    }
    given(with_code(assigned_case()))
        .when(cmd(Actor::public(), opt_out(Some("another-code"))))
        .then_expect_error(denied(&Actor::public(), verb));
}

#[test]
fn a_second_opt_out_is_refused() {
    let mut history = assigned_case();
    history.push(opted_out());
    given(history)
        .when(cmd(citizen(), opt_out(None)))
        .then_expect_error(ComplaintError::RuleViolated(
            "the notifications of this case are already stopped".into(),
        ));
}

#[test]
fn opting_out_changes_nothing_else_of_the_case() {
    let mut before = Complaint::default();
    for e in assigned_case() {
        cqrs_es::Aggregate::apply(&mut before, e);
    }
    let mut after = before.clone();
    cqrs_es::Aggregate::apply(&mut after, opted_out());
    let (before, after) = (before.0.unwrap(), after.0.unwrap());
    assert!(after.notifications_opted_out);
    assert_eq!(
        Case {
            notifications_opted_out: false,
            ..after
        },
        before
    );
}
