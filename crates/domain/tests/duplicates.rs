//! Reversible duplicate links (`LinkDuplicate` / `UnlinkDuplicate`) and the
//! incident's closing of its duplicates (`CloseWithIncident`): who may, from
//! which stages, the refusals that keep incidents one level deep, and the
//! SLA clocks, suspended while linked and running again after.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

mod common;

use aduan_domain::sla::{timers, SlaConfig, TimerState};
use aduan_domain::*;
use chrono::Duration;
use common::*;

const PRIMARY: &str = "ADU-2024-000001";
const WHY: &str = "Same flooded street: the caller describes the same drain";
const LINK: &str = "link as a duplicate";
const UNLINK: &str = "unlink as a duplicate";
const CLOSE_WITH: &str = "close with its incident";

/// The primary, 50 m north of the case (`submit_input`'s place).
fn primary(status: Status, category: &str) -> PrimaryFacts {
    PrimaryFacts {
        status,
        category: category.into(),
        opd: Some("DPU".into()),
        latitude: -5.1477 + 50.0 / 111_195.0,
        longitude: 119.4327,
    }
}

fn link_to(facts: Option<PrimaryFacts>, own_duplicates: u32) -> Action {
    Action::LinkDuplicate(LinkDuplicate {
        primary_id: Code::parse(PRIMARY).unwrap(),
        reason: LongText::parse(WHY).unwrap(),
        primary: facts,
        own_duplicates,
    })
}

fn link() -> Action {
    link_to(Some(primary(Status::Assigned, "ROAD_DAMAGE")), 0)
}

fn linked(prior: Status, rule: &str) -> ComplaintEvent {
    ComplaintEvent::DuplicateLinked {
        primary_id: PRIMARY.into(),
        reason: WHY.into(),
        distance_meters: 50.0,
        rule: rule.into(),
        rule_radius_meters: 1_000,
        prior_status: prior,
        occurred_at: now(),
    }
}

fn unlink() -> Action {
    Action::UnlinkDuplicate(UnlinkDuplicate {
        reason: LongText::parse("A different drain after all").unwrap(),
    })
}

fn unlinked(restored: Status) -> ComplaintEvent {
    ComplaintEvent::DuplicateUnlinked {
        primary_id: PRIMARY.into(),
        reason: "A different drain after all".into(),
        restored_status: restored,
        occurred_at: now(),
    }
}

fn close_with(primary_id: &str) -> Action {
    Action::CloseWithIncident(CloseWithIncident {
        primary_id: Code::parse(primary_id).unwrap(),
        resolution: Resolution::Resolved,
        summary: LongText::parse(SUMMARY).unwrap(),
    })
}

fn rule_violated(message: &str) -> ComplaintError {
    ComplaintError::RuleViolated(message.into())
}

#[test]
fn staff_link_a_report_from_every_stage_before_closing_and_unlinking_restores_it() {
    let stages = [
        (submitted_case(), Status::Submitted),
        (verified_case(), Status::Verified),
        (assigned_case(), Status::Assigned),
        (in_progress_case(), Status::InProgress),
    ];
    for (history, status) in stages {
        given(history.clone())
            .when(cmd(agent(), link()))
            .then_expect_events(vec![linked(status, "SAME_CATEGORY_NEARBY")]);
        let linked_history = and(history.clone(), [linked(status, "SAME_CATEGORY_NEARBY")]);
        let case = fold(linked_history.clone());
        assert_eq!(case.status, Status::Duplicate);
        assert_eq!(case.duplicate_of.as_deref(), Some(PRIMARY));
        assert_eq!(case.incident_primary(), Some(PRIMARY));
        given(linked_history.clone())
            .when(cmd(supervisor(), unlink()))
            .then_expect_events(vec![unlinked(status)]);
        let back = fold(and(linked_history, [unlinked(status)]));
        let mut before = fold(history);
        before.updated_at = back.updated_at;
        assert_eq!(back, before, "unlinking gives back the case as it was");
    }
}

#[test]
fn the_link_records_the_rule_it_falls_under() {
    let far = PrimaryFacts {
        latitude: -5.1477 + 1_500.0 / 111_195.0,
        ..primary(Status::Assigned, "ROAD_DAMAGE")
    };
    let event = fold_link(link_to(Some(far), 0));
    let ComplaintEvent::DuplicateLinked {
        distance_meters,
        rule,
        ..
    } = event
    else {
        panic!("{event:?}")
    };
    assert_eq!(rule, "SAME_CATEGORY_FARTHER");
    assert!((distance_meters - 1_500.0).abs() < 0.2, "{distance_meters}");
    let other = link_to(Some(primary(Status::Assigned, "GARBAGE")), 0);
    given(assigned_case())
        .when(cmd(agent(), other))
        .then_expect_events(vec![linked(Status::Assigned, "OTHER_CATEGORY")]);
}

fn fold_link(action: Action) -> ComplaintEvent {
    let case = Complaint(Some(fold(assigned_case())));
    case.decide(cmd(agent(), action), &services_after(Duration::zero()))
        .unwrap()
}

#[test]
fn chains_cycles_and_closed_primaries_are_refused() {
    given(assigned_case())
        .when(cmd(
            agent(),
            link_to(Some(primary(Status::Duplicate, "ROAD_DAMAGE")), 0),
        ))
        .then_expect_error(rule_violated(&format!(
            "{PRIMARY} is itself linked as a duplicate: link to its primary instead"
        )));
    given(assigned_case())
        .when(cmd(
            agent(),
            link_to(Some(primary(Status::Assigned, "ROAD_DAMAGE")), 2),
        ))
        .then_expect_error(rule_violated(&format!(
            "this case is the primary of 2 linked duplicate(s): unlink them, or link them to \
             {PRIMARY} one by one, before linking it"
        )));
    given(assigned_case())
        .when(cmd(
            agent(),
            link_to(Some(primary(Status::Closed, "ROAD_DAMAGE")), 0),
        ))
        .then_expect_error(rule_violated(&format!(
            "{PRIMARY} is CLOSED: an incident's primary must be open"
        )));
    given(assigned_case())
        .when(cmd(agent(), link_to(None, 0)))
        .then_expect_error(ComplaintError::invalid(
            "primaryId",
            format!("no complaint {PRIMARY}"),
        ));
    let itself = Action::LinkDuplicate(LinkDuplicate {
        primary_id: Code::parse(ID).unwrap(),
        reason: LongText::parse(WHY).unwrap(),
        primary: Some(primary(Status::Assigned, "ROAD_DAMAGE")),
        own_duplicates: 0,
    });
    given(assigned_case())
        .when(cmd(agent(), itself))
        .then_expect_error(ComplaintError::invalid(
            "primaryId",
            "a complaint cannot duplicate itself",
        ));
}

#[test]
fn waiting_closed_rejected_and_linked_cases_are_not_linked() {
    for (history, status) in [
        (waiting_case(), Status::WaitingForInfo),
        (closed_case(), Status::Closed),
        (rejected_case(), Status::Rejected),
        (
            and(
                assigned_case(),
                [linked(Status::Assigned, "SAME_CATEGORY_NEARBY")],
            ),
            Status::Duplicate,
        ),
    ] {
        given(history)
            .when(cmd(agent(), link()))
            .then_expect_error(transition(LINK, status));
    }
    given(assigned_case())
        .when(cmd(agent(), unlink()))
        .then_expect_error(transition(UNLINK, Status::Assigned));
}

#[test]
fn an_opd_links_only_its_own_cases_and_citizens_never() {
    given(assigned_case())
        .when(cmd(opd_admin("DPU"), link()))
        .then_expect_events(vec![linked(Status::Assigned, "SAME_CATEGORY_NEARBY")]);
    let elsewhere = PrimaryFacts {
        opd: Some("DLH".into()),
        ..primary(Status::Assigned, "ROAD_DAMAGE")
    };
    given(assigned_case())
        .when(cmd(opd_officer("DPU"), link_to(Some(elsewhere), 0)))
        .then_expect_error(ComplaintError::forbidden(
            "OPD_OFFICER may link only to its own OPD's cases",
        ));
    given(assigned_case())
        .when(cmd(opd_admin("DLH"), link()))
        .then_expect_error(denied_at(&opd_admin("DLH"), LINK, "DPU"));
    for actor in [citizen(), analyst(), auditor()] {
        given(assigned_case())
            .when(cmd(actor.clone(), link()))
            .then_expect_error(denied(&actor, LINK));
    }
}

#[test]
fn a_linked_duplicate_is_closed_only_with_its_incident() {
    let history = and(
        assigned_case(),
        [linked(Status::Assigned, "SAME_CATEGORY_NEARBY")],
    );
    given(history.clone())
        .when(cmd(agent(), close(Resolution::Resolved)))
        .then_expect_error(transition("close", Status::Duplicate));
    given(history.clone())
        .when(cmd(opd_admin("DPU"), respond()))
        .then_expect_error(transition("respond to", Status::Duplicate));
    given(history.clone())
        .when(cmd(agent(), escalate()))
        .then_expect_error(transition("escalate", Status::Duplicate));
    given(history.clone())
        .when(cmd(system(), close_with(PRIMARY)))
        .then_expect_events(vec![closed_as(Resolution::Resolved, Some(PRIMARY))]);
    given(history.clone())
        .when(cmd(system(), close_with(EARLIER_ID)))
        .then_expect_error(transition(CLOSE_WITH, Status::Duplicate));
    given(history.clone())
        .when(cmd(agent(), close_with(PRIMARY)))
        .then_expect_error(denied(&agent(), CLOSE_WITH));
    let closed = fold(and(
        history,
        [closed_as(Resolution::Resolved, Some(PRIMARY))],
    ));
    assert_eq!(closed.status, Status::Closed);
    assert_eq!(closed.incident_primary(), Some(PRIMARY), "still follows it");
    // Its reporter disputes the closing: the case is its own again.
    let reopened = fold(and(
        and(
            assigned_case(),
            [linked(Status::Assigned, "SAME_CATEGORY_NEARBY")],
        ),
        [closed_as(Resolution::Resolved, Some(PRIMARY)), reopened()],
    ));
    assert_eq!(reopened.incident_primary(), None);
    assert_eq!(reopened.status, Status::Assigned);
}

/// Linked for three days, then unlinked: every leg's deadline moves by exactly
/// the linked span (calendar time for an emergency), nothing breaches while
/// linked even far past the old deadline, and a case closed with its
/// incident is not breached.
#[test]
fn clocks_are_suspended_while_linked_and_run_again_from_where_they_were() {
    let (calendar, book) = toml::from_str::<SlaConfig>(include_str!("../../../config/sla.toml"))
        .unwrap()
        .build()
        .unwrap();
    let t0 = now();
    let submitted = at(
        submitted_from(SubmitInput {
            priority: Some(Priority::Emergency),
            ..submit_input()
        }),
        t0,
    );
    let history = vec![submitted, at(assigned("DPU"), t0 + Duration::minutes(5))];
    // Both read a minute after the clocks (re)started running.
    let before = timers(&history, &book, &calendar, t0 + Duration::minutes(11));
    let link_at = t0 + Duration::minutes(10);
    let unlink_at = link_at + Duration::days(3);
    let linked_history = and(
        history.clone(),
        [at(
            linked(Status::Assigned, "SAME_CATEGORY_NEARBY"),
            link_at,
        )],
    );
    let during = timers(&linked_history, &book, &calendar, unlink_at);
    let running = |t: &&aduan_domain::sla::LegTimer| t.stopped_at.is_none();
    assert_eq!(
        during.iter().filter(running).count(),
        2,
        "respond and resolve"
    );
    for t in during.iter().filter(running) {
        assert!(t.paused, "{:?} runs while linked", t.leg);
        assert_ne!(t.state, TimerState::Breached, "{:?}", t.leg);
        assert!(t
            .explanation
            .paused
            .iter()
            .any(|p| p.reason.contains(PRIMARY)));
    }
    let after = timers(
        &and(
            linked_history.clone(),
            [at(unlinked(Status::Assigned), unlink_at)],
        ),
        &book,
        &calendar,
        unlink_at + Duration::minutes(1),
    );
    for (b, a) in before
        .iter()
        .zip(&after)
        .filter(|(b, _)| b.stopped_at.is_none())
    {
        assert_eq!(a.leg, b.leg);
        assert_eq!(a.deadline - b.deadline, unlink_at - link_at, "{:?}", a.leg);
        assert_eq!(a.used_seconds, b.used_seconds, "{:?}", a.leg);
        assert!(!a.paused);
    }
    let closed = timers(
        &and(
            linked_history,
            [at(
                closed_as(Resolution::Resolved, Some(PRIMARY)),
                unlink_at,
            )],
        ),
        &book,
        &calendar,
        unlink_at + Duration::days(30),
    );
    assert!(closed.iter().all(|t| t.state != TimerState::Breached));
}
