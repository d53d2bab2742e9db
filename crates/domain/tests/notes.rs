//! Case notes (`AddNote` / `NoteAdded`): who may add one at which stage, the
//! refusals with their exact errors, the text checks, and that a note changes
//! nothing of the case but its history.
//!
//! Stages: a note may be added at every stage from submission on, closed and
//! rejected cases included. OPD roles may add notes only to cases their OPD
//! holds, so not before dispatch (INVALID_TRANSITION, as for their other
//! commands) and not after the case moved to another OPD (FORBIDDEN).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

mod common;

use aduan_domain::sla::{self, SlaConfig};
use aduan_domain::*;
use chrono::Duration;
use common::*;

const VERB: &str = "add a note to";

/// Every stage a case can be in, by name; the DPU cases are with DPU.
fn stages() -> Vec<(&'static str, Vec<ComplaintEvent>)> {
    vec![
        ("submitted", submitted_case()),
        ("verified", verified_case()),
        (
            "waiting before dispatch",
            and(submitted_case(), [info_requested()]),
        ),
        ("rejected", rejected_case()),
        ("assigned", assigned_case()),
        ("in progress", in_progress_case()),
        ("waiting at the OPD", waiting_case()),
        ("closed", closed_case()),
        ("rated", rated_case()),
        ("reopened", reopened_case()),
    ]
}

/// Whether the stage's case is with DPU.
fn with_dpu(events: &[ComplaintEvent]) -> bool {
    fold(events.to_vec()).opd.as_deref() == Some("DPU")
}

fn adds_the_note(actor: Actor, history: Vec<ComplaintEvent>, visibility: NoteVisibility) {
    given(history)
        .when(cmd(actor, add_note(visibility)))
        .then_expect_events(vec![note_added(visibility)]);
}

// ---- who may, at every stage ------------------------------------------------------------

#[test]
fn agent_adds_notes_at_every_stage() {
    for (_, history) in stages() {
        adds_the_note(agent(), history, NoteVisibility::Internal);
    }
}

#[test]
fn supervisor_adds_notes_at_every_stage() {
    for (_, history) in stages() {
        adds_the_note(supervisor(), history, NoteVisibility::Public);
    }
}

/// Bridges record what another system said about the case.
#[test]
fn system_adds_notes_at_every_stage() {
    for (_, history) in stages() {
        adds_the_note(system(), history, NoteVisibility::Internal);
    }
}

fn opd_role_at_every_stage(actor: Actor) {
    for (stage, history) in stages() {
        let status = fold(history.clone()).status;
        let result = given(history.clone())
            .when(cmd(actor.clone(), add_note(NoteVisibility::Internal)))
            .inspect_result();
        if with_dpu(&history) {
            assert_eq!(
                result,
                Ok(vec![note_added(NoteVisibility::Internal)]),
                "{stage}"
            );
        } else {
            // Not dispatched yet: no OPD holds it.
            assert_eq!(result, Err(transition(VERB, status)), "{stage}");
        }
    }
}

#[test]
fn opd_admin_adds_notes_to_its_cases_at_every_stage_after_dispatch() {
    opd_role_at_every_stage(opd_admin("DPU"));
}

#[test]
fn opd_officer_adds_notes_to_its_cases_at_every_stage_after_dispatch() {
    opd_role_at_every_stage(opd_officer("DPU"));
}

#[test]
fn opd_officer_adds_a_public_note() {
    adds_the_note(
        opd_officer("DPU"),
        in_progress_case(),
        NoteVisibility::Public,
    );
}

#[test]
fn receiving_opd_adds_notes_after_a_transfer() {
    adds_the_note(
        opd_officer("DLH"),
        and(assigned_case(), [transferred("DPU", "DLH")]),
        NoteVisibility::Internal,
    );
}

#[test]
fn notes_pile_up_on_one_case() {
    let many: Vec<ComplaintEvent> = (0..300)
        .map(|i| {
            if i % 3 == 0 {
                note_added(NoteVisibility::Public)
            } else {
                note_added(NoteVisibility::Internal)
            }
        })
        .collect();
    adds_the_note(
        opd_officer("DPU"),
        and(in_progress_case(), many),
        NoteVisibility::Internal,
    );
}

// ---- who may not --------------------------------------------------------------------------

fn refused_at_every_stage(actor: Actor) {
    for (stage, history) in stages() {
        let result = given(history)
            .when(cmd(actor.clone(), add_note(NoteVisibility::Public)))
            .inspect_result();
        assert_eq!(result, Err(denied(&actor, VERB)), "{stage}");
    }
}

#[test]
fn reporter_may_not_add_notes() {
    refused_at_every_stage(citizen());
}

#[test]
fn another_citizen_may_not_add_notes() {
    refused_at_every_stage(other_citizen());
}

#[test]
fn the_public_may_not_add_notes() {
    refused_at_every_stage(Actor::public());
}

#[test]
fn analyst_may_not_add_notes() {
    refused_at_every_stage(analyst());
}

#[test]
fn auditor_may_not_add_notes() {
    refused_at_every_stage(auditor());
}

#[test]
fn another_opds_officer_may_not_add_notes() {
    let officer = opd_officer("DLH");
    given(in_progress_case())
        .when(cmd(officer.clone(), add_note(NoteVisibility::Internal)))
        .then_expect_error(denied_at(&officer, VERB, "DPU"));
}

#[test]
fn another_opds_admin_may_not_add_notes_to_a_closed_case() {
    let admin = opd_admin("DLH");
    given(closed_case())
        .when(cmd(admin.clone(), add_note(NoteVisibility::Public)))
        .then_expect_error(denied_at(&admin, VERB, "DPU"));
}

#[test]
fn previous_opd_may_not_add_notes_after_a_transfer() {
    let officer = opd_officer("DPU");
    given(and(assigned_case(), [transferred("DPU", "DLH")]))
        .when(cmd(officer.clone(), add_note(NoteVisibility::Internal)))
        .then_expect_error(denied_at(&officer, VERB, "DLH"));
}

#[test]
fn noting_a_case_that_does_not_exist_finds_nothing() {
    given_none()
        .when(cmd(agent(), add_note(NoteVisibility::Internal)))
        .then_expect_error(ComplaintError::NotFound);
}

/// A role that may never add notes is refused for its role, whatever the note
/// says. (An empty note no longer reaches `decide`: the edge refuses it while
/// parsing, so whether such a role learns about its input is the edge's order.)
#[test]
fn a_refused_role_is_forbidden_whatever_the_note_says() {
    for text in [".", &"x".repeat(5000)] {
        given(in_progress_case())
            .when(cmd(analyst(), note_with(text)))
            .then_expect_error(denied(&analyst(), VERB));
    }
}

// ---- the text -------------------------------------------------------------------------------

/// An INTERNAL note of a valid `text`.
fn note_with(text: &str) -> Action {
    Action::AddNote(parse_note(text, NoteVisibility::Internal).unwrap())
}

fn note_fails(text: &str, expected: ComplaintError) {
    let result = parse_note(text, NoteVisibility::Internal);
    assert_eq!(result, Err(expected.clone()));
    assert_eq!(expected.code(), ErrorCode::InvalidInput);
}

#[test]
fn empty_note() {
    note_fails("", ComplaintError::invalid("text", "must not be empty"));
}

#[test]
fn blank_note() {
    note_fails(
        " \t\n ",
        ComplaintError::invalid("text", "must not be empty"),
    );
}

#[test]
fn note_of_nothing_but_control_characters() {
    note_fails(
        "\u{0}\u{1b}\u{7f}",
        ComplaintError::invalid("text", "must not be empty"),
    );
}

#[test]
fn note_over_5000_characters() {
    note_fails(
        &"x".repeat(5001),
        ComplaintError::invalid("text", "is 5001 characters long; the limit is 5000"),
    );
}

#[test]
fn note_of_exactly_5000_characters_is_accepted() {
    let text = "é".repeat(5000);
    given(in_progress_case())
        .when(cmd(agent(), note_with(&text)))
        .then_expect_events(vec![ComplaintEvent::NoteAdded {
            text,
            visibility: NoteVisibility::Internal,
            template: None,
            occurred_at: now(),
        }]);
}

#[test]
fn note_is_stored_trimmed_without_control_characters() {
    given(in_progress_case())
        .when(cmd(
            agent(),
            note_with("  Rang\u{0}the\u{1b}[31m reporter\r\n\tno answer  "),
        ))
        .then_expect_events(vec![ComplaintEvent::NoteAdded {
            text: "Rangthe[31m reporter\n\tno answer".into(),
            visibility: NoteVisibility::Internal,
            template: None,
            occurred_at: now(),
        }]);
}

// ---- a note changes nothing but the history ---------------------------------------------------

#[test]
fn a_note_leaves_the_case_as_it_was() {
    for (stage, history) in stages() {
        let later = Duration::hours(3);
        let notes = [
            at(note_added(NoteVisibility::Internal), now() + later),
            at(note_added(NoteVisibility::Public), now() + later),
        ];
        assert_eq!(
            fold(and(history.clone(), notes)),
            fold(history),
            "{stage}: status, timestamps (updatedAt too) and the rest"
        );
    }
}

#[test]
fn a_note_between_commands_changes_no_decision() {
    given(and(
        in_progress_case(),
        [note_added(NoteVisibility::Internal)],
    ))
    .when(cmd(opd_officer("DPU"), close(Resolution::Resolved)))
    .then_expect_events(vec![closed(Resolution::Resolved)]);
    given(and(waiting_case(), [note_added(NoteVisibility::Public)]))
        .when(cmd(citizen(), provide_info()))
        .then_expect_events(vec![info_provided()]);
}

#[test]
fn notes_stop_no_sla_clock() {
    let (calendar, book) = toml::from_str::<SlaConfig>(include_str!("../../../config/sla.toml"))
        .unwrap()
        .build()
        .unwrap();
    let later = now() + Duration::days(2);
    let without = waiting_case();
    let with = and(
        without.clone(),
        [
            at(
                note_added(NoteVisibility::Public),
                now() + Duration::hours(1),
            ),
            at(
                note_added(NoteVisibility::Internal),
                now() + Duration::hours(2),
            ),
        ],
    );
    assert_eq!(
        sla::timers(&with, &book, &calendar, later),
        sla::timers(&without, &book, &calendar, later)
    );
    // A public note is not a response: the response clock of a dispatched case
    // keeps running.
    let assigned = assigned_case();
    let noted = and(
        assigned.clone(),
        [at(
            note_added(NoteVisibility::Public),
            now() + Duration::hours(1),
        )],
    );
    assert_eq!(
        sla::timers(&noted, &book, &calendar, later),
        sla::timers(&assigned, &book, &calendar, later)
    );
}

#[test]
fn internal_notes_are_told_apart() {
    assert!(note_added(NoteVisibility::Internal).is_internal_note());
    assert!(!note_added(NoteVisibility::Public).is_internal_note());
    assert!(!responded().is_internal_note());
}
