//! `EraseReporterData` / `ReporterDataErased`: only a supervisor may record it,
//! once per case, with a reason; the folded case forgets exactly the reporter's
//! personal fields (as `[erased]`) and keeps everything statistics and SLA
//! clocks are made of, `updated_at` included.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

mod common;

use aduan_domain::erasure::{self, ERASED};
use aduan_domain::*;
use chrono::Duration;
use common::*;

fn erase(reason: &str) -> Action {
    Action::EraseReporterData(parse_erase(reason).unwrap())
}

fn erased(reason: &str) -> ComplaintEvent {
    ComplaintEvent::ReporterDataErased {
        reporter_ref: tracking::reporter_ref(CITIZEN),
        reason: reason.into(),
        occurred_at: now(),
    }
}

fn decide(
    history: Vec<ComplaintEvent>,
    actor: Actor,
    action: Action,
) -> Result<ComplaintEvent, ComplaintError> {
    Complaint(Some(fold(history))).decide(cmd(actor, action), &services_after(Duration::zero()))
}

#[test]
fn a_supervisor_erases_at_any_stage_with_a_reason() {
    for history in [
        submitted_case(),
        assigned_case(),
        closed_case(),
        rated_case(),
        rejected_case(),
    ] {
        given(history)
            .when(cmd(supervisor(), erase("Permintaan warga no. 17")))
            .then_expect_events(vec![erased("Permintaan warga no. 17")]);
    }
}

#[test]
fn the_case_forgets_the_reporter_and_keeps_the_rest() {
    let history = rated_case();
    let before = fold(history.clone());
    let after = fold(and(history, [erased("Permintaan warga")]));
    let mut expected = before.clone();
    expected.title = ERASED.into();
    expected.description = ERASED.into();
    let reporter = expected.reporter.as_mut().unwrap();
    reporter.name = reporter.name.as_ref().map(|_| ERASED.into());
    reporter.phone = reporter.phone.as_ref().map(|_| ERASED.into());
    reporter.email = reporter.email.as_ref().map(|_| ERASED.into());
    expected.location.address = expected.location.address.as_ref().map(|_| ERASED.into());
    expected.personal_data_erased = true;
    assert_eq!(after, expected);
    assert_eq!(
        after.updated_at, before.updated_at,
        "no trace in updated_at"
    );
    assert_eq!(
        after.reporter.as_ref().unwrap().subject.as_deref(),
        Some(CITIZEN)
    );
    assert_eq!(
        after.reporter_ref(),
        before.reporter_ref(),
        "the reference stays"
    );
    assert!(before.reporter.as_ref().unwrap().name.is_some());
}

#[test]
fn only_a_supervisor_may_erase() {
    for actor in [
        agent(),
        citizen(),
        auditor(),
        analyst(),
        system(),
        opd_admin("DPU"),
        opd_officer("DPU"),
    ] {
        let refused = decide(assigned_case(), actor.clone(), erase("x"));
        assert!(
            matches!(refused, Err(ComplaintError::Forbidden(_))),
            "{actor:?}: {refused:?}"
        );
    }
}

#[test]
fn a_reason_is_required_and_a_case_is_erased_once() {
    for reason in ["", "   "] {
        let refused = parse_erase(reason);
        assert!(
            matches!(&refused, Err(ComplaintError::InvalidInput { field, .. }) if field == "reason"),
            "{refused:?}"
        );
    }
    let again = decide(
        and(closed_case(), [erased("first")]),
        supervisor(),
        erase("again"),
    );
    assert!(
        matches!(again, Err(ComplaintError::RuleViolated(_))),
        "{again:?}"
    );
}

#[test]
fn personal_events_are_version_2_and_the_others_version_1() {
    use cqrs_es::DomainEvent;
    assert_eq!(submitted().event_version(), "2");
    assert_eq!(erased("x").event_version(), "1");
    assert!(erasure::personal_fields("Verified").is_empty());
}
