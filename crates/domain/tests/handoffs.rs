//! Hand-offs with reasons (issue 25): transfers and returns to the Command
//! Center carry a configured reason code, and a case that loops between OPDs
//! or is handed on too often is escalated once, in the same append.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

mod common;

use aduan_domain::handoffs::{HandoffLoop, COMMAND_CENTER};
use aduan_domain::*;
use common::*;

fn dispatched_to(opd: &str) -> Vec<ComplaintEvent> {
    vec![submitted(), verified(), assigned(opd)]
}

fn loop_escalation(level: u32, found: HandoffLoop) -> ComplaintEvent {
    ComplaintEvent::Escalated {
        level,
        reason: found.describe(),
        handoff_loop: Some(found),
        occurred_at: now(),
    }
}

fn returned(from: &str) -> ComplaintEvent {
    ComplaintEvent::ReturnedToCommandCenter {
        from_opd: from.into(),
        reason_code: "LOKASI_DI_LUAR_WILAYAH".into(),
        note: Some(NOTE.into()),
        occurred_at: now(),
    }
}

fn give_back() -> Action {
    Action::ReturnToCommandCenter(parse_return("LOKASI_DI_LUAR_WILAYAH", Some(NOTE)).unwrap())
}

#[test]
fn a_transfer_records_its_reason_code_and_the_codes_name_without_text() {
    let bare = Action::Transfer(parse_transfer("DLH", "SALAH_KATEGORI", None).unwrap());
    given(dispatched_to("DPU"))
        .when(cmd(opd_admin("DPU"), bare))
        .then_expect_events(vec![ComplaintEvent::Transferred {
            from_opd: "DPU".into(),
            to_opd: "DLH".into(),
            reason: "Salah kategori".into(),
            reason_code: Some("SALAH_KATEGORI".into()),
            occurred_at: now(),
        }]);
}

#[test]
fn an_unknown_reason_code_is_refused_and_nothing_is_written() {
    let unknown = Action::Transfer(parse_transfer("DLH", "MALAS", Some(REASON)).unwrap());
    let err = given(dispatched_to("DPU"))
        .when(cmd(opd_admin("DPU"), unknown))
        .inspect_result()
        .unwrap_err();
    assert!(
        matches!(&err, ComplaintError::InvalidInput { field, .. } if field == "reason_code"),
        "{err:?}"
    );
    let back = Action::ReturnToCommandCenter(parse_return("MALAS", None).unwrap());
    let err = given(dispatched_to("DPU"))
        .when(cmd(opd_admin("DPU"), back))
        .inspect_result()
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    // A code of the wrong shape never reaches the aggregate.
    assert!(parse_transfer("DLH", "bukan wewenang", None).is_err());
}

#[test]
fn an_old_transfer_without_a_code_still_loads() {
    let old = serde_json::json!({"Transferred": {
        "from_opd": "DPU", "to_opd": "DLH", "reason": "bukan kami",
        "occurred_at": "2024-03-01T01:00:00Z"}});
    let event: ComplaintEvent = serde_json::from_value(old).unwrap();
    assert!(matches!(
        event,
        ComplaintEvent::Transferred {
            reason_code: None,
            ..
        }
    ));
    let old = serde_json::json!({"Escalated": {
        "level": 1, "reason": "slow", "occurred_at": "2024-03-01T01:00:00Z"}});
    let event: ComplaintEvent = serde_json::from_value(old).unwrap();
    assert!(matches!(
        event,
        ComplaintEvent::Escalated {
            handoff_loop: None,
            ..
        }
    ));
}

#[test]
fn a_b_a_is_escalated_with_the_loop_once() {
    let mut events = dispatched_to("DPU");
    events.push(transferred("DPU", "DLH"));
    let found = HandoffLoop {
        revisited: Some("DPU".into()),
        holders: vec!["DPU".into(), "DLH".into(), "DPU".into()],
        handoffs: 2,
        over_limit: false,
    };
    given(events.clone())
        .when(cmd(opd_admin("DLH"), transfer("DPU")))
        .then_expect_events(vec![
            transferred("DLH", "DPU"),
            loop_escalation(1, found.clone()),
        ]);
    // Once: the same two OPDs again make no second escalation (under a
    // limit high enough that the count does not trip either).
    events.extend([transferred("DLH", "DPU"), loop_escalation(1, found)]);
    let mut services = services_after(chrono::Duration::zero());
    let mut reference = reference();
    reference.handoffs.max_transfers = 10;
    services.reference = std::sync::Arc::new(reference);
    let mut complaint = Complaint::default();
    for e in events {
        cqrs_es::Aggregate::apply(&mut complaint, e);
    }
    let decided = complaint
        .decide_all(cmd(opd_admin("DPU"), transfer("DLH")), &services)
        .unwrap();
    assert_eq!(decided, vec![transferred("DPU", "DLH")]);
}

#[test]
fn more_than_the_limit_of_transfers_is_escalated_once() {
    let mut events = dispatched_to("DPU");
    events.extend([transferred("DPU", "DLH"), transferred("DLH", "DISHUB")]);
    let found = HandoffLoop {
        revisited: None,
        holders: ["DPU", "DLH", "DISHUB", COMMAND_CENTER]
            .map(String::from)
            .to_vec(),
        handoffs: 3,
        over_limit: true,
    };
    // The third hand-off (here a return) goes over the default limit of 2.
    given(events.clone())
        .when(cmd(opd_admin("DISHUB"), give_back()))
        .then_expect_events(vec![returned("DISHUB"), loop_escalation(1, found.clone())]);
    events.extend([returned("DISHUB"), loop_escalation(1, found)]);
    // Dispatched anew to DPU: a loop of its own, while the limit is not
    // escalated again.
    let again = HandoffLoop {
        revisited: Some("DPU".into()),
        holders: ["DPU", "DLH", "DISHUB", COMMAND_CENTER, "DPU"]
            .map(String::from)
            .to_vec(),
        handoffs: 3,
        over_limit: false,
    };
    given(events)
        .when(cmd(agent(), assign("DPU")))
        .then_expect_events(vec![assigned("DPU"), loop_escalation(2, again)])
}

#[test]
fn the_holding_opd_returns_a_case_to_the_command_center() {
    let mut events = dispatched_to("DPU");
    events.push(responded());
    given(events.clone())
        .when(cmd(opd_officer("DPU"), give_back()))
        .then_expect_events(vec![returned("DPU")]);
    events.push(returned("DPU"));
    let mut complaint = Complaint::default();
    for e in events.clone() {
        cqrs_es::Aggregate::apply(&mut complaint, e);
    }
    let case = complaint.0.unwrap();
    assert_eq!((case.status, case.opd), (Status::Verified, None));
    // In the routing queue: the Command Center dispatches it again.
    given(events)
        .when(cmd(agent(), assign("DLH")))
        .then_expect_events(vec![assigned("DLH")]);
}

#[test]
fn only_the_holding_opd_returns_a_case_and_only_while_it_holds_it() {
    let err = given(dispatched_to("DPU"))
        .when(cmd(opd_admin("DLH"), give_back()))
        .inspect_result()
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Forbidden);
    let err = given(dispatched_to("DPU"))
        .when(cmd(agent(), give_back()))
        .inspect_result()
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Forbidden);
    let mut events = dispatched_to("DPU");
    events.push(returned("DPU"));
    let err = given(events)
        .when(cmd(opd_admin("DPU"), give_back()))
        .inspect_result()
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidTransition);
}

#[test]
fn returning_to_an_opd_through_the_command_center_is_a_loop() {
    let mut events = dispatched_to("DPU");
    events.push(returned("DPU"));
    let found = HandoffLoop {
        revisited: Some("DPU".into()),
        holders: ["DPU", COMMAND_CENTER, "DPU"].map(String::from).to_vec(),
        handoffs: 1,
        over_limit: false,
    };
    given(events)
        .when(cmd(agent(), assign("DPU")))
        .then_expect_events(vec![assigned("DPU"), loop_escalation(1, found)]);
}
