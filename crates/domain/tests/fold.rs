//! `Complaint::apply`: the `Case` that a history folds into.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

mod common;

use aduan_domain::*;
use chrono::{DateTime, Duration, Utc};
use common::*;
use cqrs_es::Aggregate;

fn hours(n: i64) -> DateTime<Utc> {
    now() + Duration::hours(n)
}

#[test]
fn submission_opens_a_fresh_case() {
    let case = fold(submitted_case());
    let Some(reporter) = &case.reporter else {
        panic!("no reporter")
    };
    assert_eq!(case.id, ID);
    assert_eq!(case.status, Status::Submitted);
    assert_eq!(case.priority, Priority::Normal);
    assert_eq!(reporter.subject.as_deref(), Some(CITIZEN));
    assert_eq!((case.created_at, case.updated_at), (now(), now()));
    assert_eq!((case.opd.clone(), case.officer_id.clone()), (None, None));
    assert_eq!(
        (case.escalation_level, case.closure_count, case.reopen_count),
        (0, 0, 0)
    );
    assert!(case.is_reporter(&citizen()));
    assert!(!case.is_reporter(&other_citizen()));
}

#[test]
fn events_before_submission_are_ignored() {
    let mut complaint = Complaint::default();
    complaint.apply(verified());
    assert_eq!(complaint, Complaint(None));
}

#[test]
fn verification_records_category_priority_and_time() {
    let corrected = ComplaintEvent::Verified {
        priority: Priority::High,
        category: "GARBAGE".into(),
        note: None,
        occurred_at: hours(1),
    };
    let case = fold(vec![submitted(), corrected]);
    assert_eq!(case.status, Status::Verified);
    assert_eq!(
        (case.priority, case.category.as_str()),
        (Priority::High, "GARBAGE")
    );
    assert_eq!(
        (case.verified_at, case.updated_at),
        (Some(hours(1)), hours(1))
    );
}

#[test]
fn rejection_ends_the_case() {
    assert_eq!(fold(rejected_case()).status, Status::Rejected);
}

#[test]
fn dispatch_hands_the_case_to_the_opd() {
    let case = fold(and(verified_case(), [at(assigned("DPU"), hours(2))]));
    assert_eq!(case.status, Status::Assigned);
    assert_eq!(case.opd.as_deref(), Some("DPU"));
    assert_eq!(case.assigned_at, Some(hours(2)));
}

#[test]
fn officer_assignment_keeps_status_and_assignment_time() {
    let history = and(
        in_progress_case(),
        [at(officer_assigned("DPU", "officer-7"), hours(3))],
    );
    let case = fold(history);
    assert_eq!(case.status, Status::InProgress);
    assert_eq!(case.officer_id.as_deref(), Some("officer-7"));
    assert_eq!(case.assigned_at, Some(now()));
}

#[test]
fn transfer_moves_the_case_and_drops_the_officer() {
    let history = and(
        in_progress_case(),
        [
            officer_assigned("DPU", "officer-7"),
            at(transferred("DPU", "DLH"), hours(4)),
        ],
    );
    let case = fold(history);
    assert_eq!(case.status, Status::Assigned);
    assert_eq!(
        (case.opd.as_deref(), case.officer_id.as_deref()),
        (Some("DLH"), None)
    );
    assert_eq!(case.assigned_at, Some(hours(4)));
}

#[test]
fn first_response_time_is_set_once() {
    let history = and(
        assigned_case(),
        [at(responded(), hours(1)), at(responded(), hours(5))],
    );
    let case = fold(history);
    assert_eq!(case.status, Status::InProgress);
    assert_eq!(case.first_response_at, Some(hours(1)));
    assert_eq!(case.updated_at, hours(5));
}

#[test]
fn field_handling_puts_the_case_in_progress() {
    let case = fold(and(assigned_case(), [field_handled(now())]));
    assert_eq!(case.status, Status::InProgress);
}

#[test]
fn info_request_remembers_where_the_case_was() {
    let case = fold(waiting_case());
    assert_eq!(case.status, Status::WaitingForInfo);
    assert_eq!(case.resume_status, Some(Status::InProgress));
}

#[test]
fn answer_returns_a_dispatched_case_to_work() {
    let case = fold(and(waiting_case(), [info_provided()]));
    assert_eq!(
        (case.status, case.resume_status),
        (Status::InProgress, None)
    );
}

#[test]
fn answer_returns_a_verified_case_to_verified() {
    let case = fold(and(verified_case(), [info_requested(), info_provided()]));
    assert_eq!(case.status, Status::Verified);
}

#[test]
fn escalation_raises_the_level() {
    let case = fold(and(assigned_case(), [escalated(1), escalated(2)]));
    assert_eq!(case.escalation_level, 2);
    assert_eq!(case.status, Status::Assigned);
}

#[test]
fn closing_records_the_outcome() {
    let closing = at(closed_as(Resolution::Duplicate, Some(EARLIER_ID)), hours(6));
    let case = fold(and(waiting_case(), [closing]));
    assert_eq!(case.status, Status::Closed);
    assert_eq!(case.resolution, Some(Resolution::Duplicate));
    assert_eq!(case.duplicate_of.as_deref(), Some(EARLIER_ID));
    assert_eq!((case.closed_at, case.closure_count), (Some(hours(6)), 1));
    assert_eq!(case.resume_status, None);
}

#[test]
fn reopening_clears_the_outcome_and_returns_to_the_opd() {
    let case = fold(reopened_case());
    assert_eq!(
        (case.status, case.opd.as_deref()),
        (Status::Assigned, Some("DPU"))
    );
    assert_eq!(
        (case.resolution, case.duplicate_of, case.closed_at),
        (None, None, None)
    );
    assert_eq!((case.closure_count, case.reopen_count), (1, 1));
}

#[test]
fn reopening_an_undispatched_case_returns_it_to_submitted() {
    let history = and(
        submitted_case(),
        [
            closed_as(Resolution::Duplicate, Some(EARLIER_ID)),
            reopened(),
        ],
    );
    let case = fold(history);
    assert_eq!(
        (case.status, case.resolution, case.duplicate_of),
        (Status::Submitted, None, None)
    );
}

#[test]
fn rating_is_tied_to_the_closure() {
    let case = fold(rated_case());
    assert_eq!((case.rating, case.rated_closure), (Some(4), Some(1)));
}

#[test]
fn second_closure_is_counted_and_rated_separately() {
    let history = and(
        rated_case(),
        [reopened(), closed(Resolution::NotResolved), rated(2)],
    );
    let case = fold(history);
    assert_eq!((case.closure_count, case.reopen_count), (2, 1));
    assert_eq!((case.rating, case.rated_closure), (Some(2), Some(2)));
    assert_eq!(case.resolution, Some(Resolution::NotResolved));
}

#[test]
fn reference_fixture_is_consistent() {
    assert_eq!(reference().check(), Ok(()));
}
