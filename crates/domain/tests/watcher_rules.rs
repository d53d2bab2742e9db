//! The commands only the deadline watcher (SYSTEM) sends.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

mod common;

use aduan_domain::sla::Leg;
use aduan_domain::*;
use chrono::Duration;
use common::*;

fn breached(leg: Leg, level: u32) -> ComplaintEvent {
    ComplaintEvent::SlaBreached {
        leg,
        deadline: now(),
        level,
        occurred_at: now() + Duration::hours(1),
    }
}

#[test]
fn a_passed_deadline_is_recorded_and_raises_the_escalation_level() {
    given_after(Duration::hours(1), assigned_case())
        .when(cmd(system(), record_breach(Leg::Respond, now())))
        .then_expect_events(vec![breached(Leg::Respond, 1)]);
}

#[test]
fn each_breach_is_recorded_once() {
    given_after(
        Duration::hours(1),
        and(assigned_case(), [breached(Leg::Respond, 1)]),
    )
    .when(cmd(system(), record_breach(Leg::Respond, now())))
    .then_expect_error(ComplaintError::RuleViolated(
        "this breach has already been recorded".into(),
    ));
}

#[test]
fn another_legs_breach_is_recorded_separately() {
    given_after(
        Duration::hours(1),
        and(assigned_case(), [breached(Leg::Respond, 1)]),
    )
    .when(cmd(system(), record_breach(Leg::Resolve, now())))
    .then_expect_events(vec![breached(Leg::Resolve, 2)]);
}

#[test]
fn a_deadline_still_ahead_is_not_a_breach() {
    given(assigned_case())
        .when(cmd(
            system(),
            record_breach(Leg::Respond, now() + Duration::minutes(1)),
        ))
        .then_expect_error(ComplaintError::invalid("deadline", "has not passed yet"));
}

#[test]
fn only_the_system_records_breaches() {
    given_after(Duration::hours(1), assigned_case())
        .when(cmd(supervisor(), record_breach(Leg::Respond, now())))
        .then_expect_error(denied(&supervisor(), "record an SLA breach on"));
}

#[test]
fn a_closed_case_has_no_breaches_left_to_record() {
    given_after(Duration::hours(1), closed_case())
        .when(cmd(system(), record_breach(Leg::Resolve, now())))
        .then_expect_error(transition("record an SLA breach on", Status::Closed));
}

#[test]
fn an_unanswered_request_for_information_closes_the_case() {
    let events = given(waiting_case())
        .when(cmd(system(), auto_close()))
        .inspect_result()
        .unwrap();
    assert!(
        matches!(events.as_slice(), [ComplaintEvent::AutoClosed { waiting_since, .. }] if *waiting_since == now())
    );
    let case = fold([waiting_case(), events].concat());
    assert_eq!(case.status, Status::Closed);
    assert_eq!(case.resolution, Some(Resolution::NotResolved));
    assert_eq!(case.closure_count, 1);
}

#[test]
fn only_a_waiting_case_closes_automatically() {
    given(in_progress_case())
        .when(cmd(system(), auto_close()))
        .then_expect_error(transition("close automatically", Status::InProgress));
}

#[test]
fn only_the_system_closes_automatically() {
    given(waiting_case())
        .when(cmd(agent(), auto_close()))
        .then_expect_error(denied(&agent(), "close automatically"));
}

fn correct_calendar(version: u32) -> Action {
    Action::CorrectCalendar(CorrectCalendar {
        version,
        reason: LongText::parse("Idul Fitri moved by the sidang isbat").unwrap(),
    })
}

#[test]
fn a_calendar_correction_is_recorded_on_any_case_once_per_version_and_never_backwards() {
    let corrected = |version| ComplaintEvent::CalendarCorrected {
        version,
        reason: "Idul Fitri moved by the sidang isbat".into(),
        occurred_at: now(),
    };
    let mut closed = closed_case();
    given(closed.clone())
        .when(cmd(system(), correct_calendar(3)))
        .then_expect_events(vec![corrected(3)]);
    closed.push(corrected(3));
    for version in [2, 3] {
        given(closed.clone())
            .when(cmd(system(), correct_calendar(version)))
            .then_expect_error(ComplaintError::RuleViolated(format!(
                "this case already counts in calendar version {version} or later"
            )));
    }
    given(closed.clone())
        .when(cmd(system(), correct_calendar(4)))
        .then_expect_events(vec![corrected(4)]);
    given(closed)
        .when(cmd(supervisor(), correct_calendar(4)))
        .then_expect_error(denied(&supervisor(), "correct the calendar of"));
}
