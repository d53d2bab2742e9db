//! The Command Center corrects where a case is (`CorrectLocation` /
//! `LocationCorrected`), alone or while verifying: who may, at which stages,
//! the refusals with their exact errors, and what the case reads after.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

mod common;

use aduan_domain::*;
use common::*;

const VERB: &str = "correct the location of";
const WHY: &str = "The reporter called: it is in Tallo, not Mariso";

fn correction(kecamatan: Option<&str>, address: Option<&str>) -> PlaceCorrection {
    PlaceCorrection::parse(&reference(), (None, None), address, kecamatan, None).unwrap()
}

fn correct(kecamatan: &str) -> Action {
    Action::CorrectLocation(CorrectLocation {
        correction: correction(Some(kecamatan), None),
        reason: Some(LongText::parse(WHY).unwrap()),
    })
}

/// The submitted place (`submit_input`'s) with the kecamatan `kecamatan`.
fn placed_in(kecamatan: &str) -> Location {
    Location {
        kecamatan: Some(kecamatan.into()),
        ..submit_input().location
    }
}

fn corrected(kecamatan: &str, reason: Option<&str>) -> ComplaintEvent {
    ComplaintEvent::LocationCorrected {
        location: placed_in(kecamatan),
        reason: reason.map(str::to_string),
        occurred_at: now(),
    }
}

fn open_stages() -> Vec<Vec<ComplaintEvent>> {
    vec![
        submitted_case(),
        verified_case(),
        and(submitted_case(), [info_requested()]),
        assigned_case(),
        in_progress_case(),
        waiting_case(),
        reopened_case(),
    ]
}

#[test]
fn the_command_center_corrects_the_place_at_every_open_stage() {
    for history in open_stages() {
        for actor in [agent(), supervisor()] {
            given(history.clone())
                .when(cmd(actor, correct("TALLO")))
                .then_expect_events(vec![corrected("TALLO", Some(WHY))]);
        }
    }
}

#[test]
fn a_closed_or_rejected_case_keeps_its_place() {
    for (history, status) in [
        (closed_case(), Status::Closed),
        (rated_case(), Status::Closed),
        (rejected_case(), Status::Rejected),
    ] {
        given(history)
            .when(cmd(agent(), correct("TALLO")))
            .then_expect_error(transition(VERB, status));
    }
}

#[test]
fn nobody_but_the_command_center_corrects_a_place() {
    let forbidden =
        |role: &str| ComplaintError::forbidden(format!("{role} may not {VERB} this complaint"));
    for (actor, error) in [
        (citizen(), forbidden("CITIZEN")),
        (analyst(), forbidden("ANALYST")),
        (auditor(), forbidden("AUDITOR")),
        (system(), forbidden("SYSTEM")),
        (
            opd_admin("DPU"),
            ComplaintError::forbidden(format!(
                "OPD_ADMIN may not {VERB} this complaint (the case is with DPU)"
            )),
        ),
    ] {
        given(assigned_case())
            .when(cmd(actor, correct("TALLO")))
            .then_expect_error(error);
    }
    // Before dispatch, an OPD role is told about the case's state, as always.
    given(submitted_case())
        .when(cmd(opd_officer("DPU"), correct("TALLO")))
        .then_expect_error(transition(VERB, Status::Submitted));
}

#[test]
fn a_correction_that_changes_nothing_is_refused() {
    given(submitted_case())
        .when(cmd(agent(), correct("MARISO")))
        .then_expect_error(ComplaintError::RuleViolated(
            "the case is already at that location".into(),
        ));
}

#[test]
fn an_erased_case_takes_no_new_address_but_may_be_placed() {
    let erased = and(
        submitted_case(),
        [ComplaintEvent::ReporterDataErased {
            reporter_ref: "r".into(),
            reason: "request".into(),
            occurred_at: now(),
        }],
    );
    let address = Action::CorrectLocation(CorrectLocation {
        correction: correction(None, Some("Jl. Baru 1")),
        reason: None,
    });
    given(erased.clone())
        .when(cmd(agent(), address))
        .then_expect_error(ComplaintError::RuleViolated(
            "the reporter's personal data on this case is erased; its address stays erased".into(),
        ));
    let mut location = placed_in("TALLO");
    location.address = Some(erasure::ERASED.into());
    given(erased)
        .when(cmd(agent(), correct("TALLO")))
        .then_expect_events(vec![ComplaintEvent::LocationCorrected {
            location,
            reason: Some(WHY.into()),
            occurred_at: now(),
        }]);
}

fn verify_placing(kecamatan: Option<&str>) -> Action {
    Action::Verify(Verify {
        location: Some(correction(kecamatan, None)),
        ..common::parse_verify(None, None, None).unwrap()
    })
}

#[test]
fn a_verification_places_the_case_first_and_skips_a_place_already_so() {
    given(submitted_case())
        .when(cmd(agent(), verify_placing(Some("TALLO"))))
        .then_expect_events(vec![corrected("TALLO", None), verified()]);
    given(submitted_case())
        .when(cmd(agent(), verify_placing(Some("MARISO"))))
        .then_expect_events(vec![verified()]);
    // Refused as a whole: nothing is placed on a case that cannot be verified.
    given(verified_case())
        .when(cmd(agent(), verify_placing(Some("TALLO"))))
        .then_expect_error(transition("verify", Status::Verified));
}

#[test]
fn the_case_reads_its_corrected_place_and_its_clocks_do_not_move() {
    let before = fold(assigned_case());
    let after = fold(and(assigned_case(), [corrected("TALLO", Some(WHY))]));
    assert_eq!(after.location, placed_in("TALLO"));
    assert!(after.location_corrected && !before.location_corrected);
    assert_eq!(after.status, before.status);
    assert_eq!(after.opd, before.opd);
    assert_eq!(after.assigned_at, before.assigned_at);
    assert_eq!(after.escalation_level, before.escalation_level);
    let events = and(assigned_case(), [corrected("TALLO", None)]);
    let (calendar, book) =
        toml::from_str::<sla::SlaConfig>(include_str!("../../../config/sla.toml"))
            .unwrap()
            .build()
            .unwrap();
    assert_eq!(
        sla::timers(&events, &book, &calendar, now()),
        sla::timers(&assigned_case(), &book, &calendar, now())
    );
}
