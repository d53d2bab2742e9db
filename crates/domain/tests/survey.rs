//! The satisfaction survey (IKM): the reporter answers nine elements 1-4 on a
//! closed case, by account or tracking code, once per case.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

mod common;

use aduan_domain::ikm::{SurveyAnswer, CODES};
use aduan_domain::*;
use common::*;

fn answers(score: i32) -> Vec<(String, i32)> {
    CODES.iter().map(|c| (c.to_string(), score)).collect()
}

/// Every element answered `score` (1-4).
fn answer(score: i32, code: Option<&str>) -> Action {
    Action::AnswerSurvey(parse_survey(&answers(score), code).unwrap())
}

fn answered(score: u8) -> ComplaintEvent {
    ComplaintEvent::SurveyAnswered {
        answers: CODES
            .iter()
            .map(|c| SurveyAnswer {
                element: c.to_string(),
                score,
            })
            .collect(),
        occurred_at: now(),
    }
}

#[test]
fn the_reporter_answers_a_closed_case() {
    given(closed_case())
        .when(cmd(citizen(), answer(4, None)))
        .then_expect_events(vec![answered(4)]);
}

#[test]
fn the_holder_of_the_tracking_code_answers_without_an_account() {
    given(with_code(closed_case()))
        .when(cmd(Actor::public(), answer(3, Some(CODE))))
        .then_expect_events(vec![answered(3)]);
}

#[test]
fn anyone_else_is_refused() {
    let verb = "answer the satisfaction survey of";
    for actor in [other_citizen(), agent(), supervisor(), analyst()] {
        given(closed_case())
            .when(cmd(actor.clone(), answer(4, None)))
            .then_expect_error(denied(&actor, verb));
    }
    given(with_code(closed_case()))
        .when(cmd(Actor::public(), answer(4, Some("another-code"))))
        .then_expect_error(denied(&Actor::public(), verb));
    given(closed_case())
        .when(cmd(opd_admin("DPU"), answer(4, None)))
        .then_expect_error(denied_at(&opd_admin("DPU"), verb, "DPU"));
}

#[test]
fn only_a_closed_case_is_surveyed() {
    for (history, status) in [
        (assigned_case(), Status::Assigned),
        (reopened_case(), Status::Assigned),
    ] {
        given(history)
            .when(cmd(citizen(), answer(4, None)))
            .then_expect_error(ComplaintError::InvalidTransition {
                action: "answer the satisfaction survey of".into(),
                status,
            });
    }
}

#[test]
fn a_case_is_surveyed_once_even_after_reopening_and_closing_again() {
    let again = "the survey of this case has already been answered";
    given(and(closed_case(), [answered(4)]))
        .when(cmd(citizen(), answer(2, None)))
        .then_expect_error(ComplaintError::RuleViolated(again.into()));
    given(and(
        closed_case(),
        [answered(4), reopened(), closed(Resolution::Resolved)],
    ))
    .when(cmd(citizen(), answer(2, None)))
    .then_expect_error(ComplaintError::RuleViolated(again.into()));
}

#[test]
fn out_of_range_or_incomplete_answers_are_invalid_input() {
    for score in [0, 5, -1] {
        assert_eq!(
            parse_survey(&answers(score), None),
            Err(ComplaintError::invalid(
                "answers",
                "U1: the score must be between 1 and 4",
            ))
        );
    }
    let mut eight = answers(3);
    eight.remove(4);
    assert_eq!(
        parse_survey(&eight, None),
        Err(ComplaintError::invalid(
            "answers",
            "every element is answered; missing U5",
        ))
    );
}
