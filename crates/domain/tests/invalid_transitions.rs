//! Every transition the rules refuse, and every actor who may not act, one test each.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

mod common;

use aduan_domain::*;
use chrono::Duration;
use common::*;

// ---- existence ---------------------------------------------------------------------------

#[test]
fn submitting_twice_is_refused() {
    given(submitted_case())
        .when(cmd(citizen(), submit()))
        .then_expect_error(ComplaintError::AlreadyExists);
}

#[test]
fn submitting_over_a_closed_case_is_refused() {
    given(closed_case())
        .when(cmd(agent(), submit()))
        .then_expect_error(ComplaintError::AlreadyExists);
}

#[test]
fn every_command_before_submission_finds_nothing() {
    for action in every_action_but_submit() {
        let verb = action.verb();
        let result = given_none().when(cmd(agent(), action)).inspect_result();
        assert_eq!(result, Err(ComplaintError::NotFound), "{verb}");
    }
}

// ---- roles that never act ------------------------------------------------------------------

fn may_do_nothing(actor: Actor) {
    for action in every_action_but_submit() {
        let expected = denied(&actor, action.verb());
        let result = given(in_progress_case())
            .when(cmd(actor.clone(), action))
            .inspect_result();
        assert_eq!(result, Err(expected));
    }
}

#[test]
fn analyst_may_not_act_on_a_case() {
    may_do_nothing(analyst());
}

#[test]
fn auditor_may_not_act_on_a_case() {
    may_do_nothing(auditor());
}

fn may_not_submit(actor: Actor) {
    let expected = ComplaintError::forbidden(format!("{} may not submit complaints", actor.role));
    given_none()
        .when(cmd(actor, submit()))
        .then_expect_error(expected);
}

#[test]
fn analyst_may_not_submit() {
    may_not_submit(analyst());
}

#[test]
fn auditor_may_not_submit() {
    may_not_submit(auditor());
}

#[test]
fn opd_admin_may_not_submit() {
    may_not_submit(opd_admin("DPU"));
}

#[test]
fn opd_officer_may_not_submit() {
    may_not_submit(opd_officer("DPU"));
}

// ---- verify / reject ---------------------------------------------------------------------

#[test]
fn verifying_twice_is_refused() {
    given(verified_case())
        .when(cmd(agent(), verify()))
        .then_expect_error(transition("verify", Status::Verified));
}

#[test]
fn verifying_a_dispatched_case_is_refused() {
    given(assigned_case())
        .when(cmd(supervisor(), verify()))
        .then_expect_error(transition("verify", Status::Assigned));
}

#[test]
fn reporter_may_not_verify_their_own_report() {
    given(submitted_case())
        .when(cmd(citizen(), verify()))
        .then_expect_error(denied(&citizen(), "verify"));
}

#[test]
fn system_may_not_verify() {
    given(submitted_case())
        .when(cmd(system(), verify()))
        .then_expect_error(denied(&system(), "verify"));
}

#[test]
fn rejecting_after_assignment_is_refused() {
    given(assigned_case())
        .when(cmd(agent(), reject(RejectReason::Spam)))
        .then_expect_error(transition("reject", Status::Assigned));
}

#[test]
fn rejecting_twice_is_refused() {
    given(rejected_case())
        .when(cmd(agent(), reject(RejectReason::Spam)))
        .then_expect_error(transition("reject", Status::Rejected));
}

#[test]
fn rejecting_a_case_waiting_for_info_is_refused() {
    given(and(submitted_case(), [info_requested()]))
        .when(cmd(agent(), reject(RejectReason::Incomplete)))
        .then_expect_error(transition("reject", Status::WaitingForInfo));
}

#[test]
fn opd_may_not_reject() {
    let admin = opd_admin("DPU");
    given(assigned_case())
        .when(cmd(admin.clone(), reject(RejectReason::OutOfScope)))
        .then_expect_error(denied_at(&admin, "reject", "DPU"));
}

// ---- assign --------------------------------------------------------------------------------

#[test]
fn dispatching_an_unverified_case_is_refused() {
    given(submitted_case())
        .when(cmd(agent(), assign("DPU")))
        .then_expect_error(transition("assign", Status::Submitted));
}

#[test]
fn command_center_may_not_reassign_a_dispatched_case() {
    given(assigned_case())
        .when(cmd(agent(), assign("DLH")))
        .then_expect_error(transition("assign", Status::Assigned));
}

#[test]
fn dispatching_a_rejected_case_is_refused() {
    given(rejected_case())
        .when(cmd(supervisor(), assign("DPU")))
        .then_expect_error(transition("assign", Status::Rejected));
}

#[test]
fn opd_admin_may_not_assign_before_dispatch() {
    let admin = opd_admin("DPU");
    given(verified_case())
        .when(cmd(admin, assign_officer("DPU", "officer-7")))
        .then_expect_error(transition("assign", Status::Verified));
}

#[test]
fn opd_admin_may_not_assign_another_opds_case() {
    let admin = opd_admin("DLH");
    given(assigned_case())
        .when(cmd(admin.clone(), assign_officer("DLH", "officer-7")))
        .then_expect_error(denied_at(&admin, "assign", "DPU"));
}

#[test]
fn opd_admin_may_not_move_its_case_by_assigning() {
    given(assigned_case())
        .when(cmd(opd_admin("DPU"), assign_officer("DLH", "officer-7")))
        .then_expect_error(ComplaintError::Misdirected(Misdirected::AssignElsewhere));
}

#[test]
fn opd_officer_may_not_assign() {
    let officer = opd_officer("DPU");
    given(assigned_case())
        .when(cmd(officer.clone(), assign_officer("DPU", "officer-7")))
        .then_expect_error(denied_at(&officer, "assign", "DPU"));
}

#[test]
fn opd_admin_may_not_assign_while_waiting_for_info() {
    given(waiting_case())
        .when(cmd(opd_admin("DPU"), assign_officer("DPU", "officer-7")))
        .then_expect_error(transition("assign", Status::WaitingForInfo));
}

#[test]
fn opd_admin_may_not_assign_a_closed_case() {
    given(closed_case())
        .when(cmd(opd_admin("DPU"), assign_officer("DPU", "officer-7")))
        .then_expect_error(transition("assign", Status::Closed));
}

#[test]
fn citizen_may_not_assign() {
    given(verified_case())
        .when(cmd(citizen(), assign("DPU")))
        .then_expect_error(denied(&citizen(), "assign"));
}

// ---- transfer ------------------------------------------------------------------------------

#[test]
fn another_opds_admin_may_not_transfer() {
    let admin = opd_admin("DLH");
    given(assigned_case())
        .when(cmd(admin.clone(), transfer("DISHUB")))
        .then_expect_error(denied_at(&admin, "transfer", "DPU"));
}

#[test]
fn opd_officer_may_not_transfer() {
    let officer = opd_officer("DPU");
    given(assigned_case())
        .when(cmd(officer.clone(), transfer("DLH")))
        .then_expect_error(denied_at(&officer, "transfer", "DPU"));
}

#[test]
fn transferring_before_dispatch_is_refused() {
    given(verified_case())
        .when(cmd(agent(), transfer("DLH")))
        .then_expect_error(transition("transfer", Status::Verified));
}

#[test]
fn transferring_while_waiting_for_info_is_refused() {
    given(waiting_case())
        .when(cmd(opd_admin("DPU"), transfer("DLH")))
        .then_expect_error(transition("transfer", Status::WaitingForInfo));
}

#[test]
fn transferring_a_closed_case_is_refused() {
    given(closed_case())
        .when(cmd(supervisor(), transfer("DLH")))
        .then_expect_error(transition("transfer", Status::Closed));
}

#[test]
fn citizen_may_not_transfer() {
    given(assigned_case())
        .when(cmd(citizen(), transfer("DLH")))
        .then_expect_error(denied(&citizen(), "transfer"));
}

// ---- respond -------------------------------------------------------------------------------

#[test]
fn responding_before_assignment_is_refused() {
    let officer = opd_officer("DPU");
    given(verified_case())
        .when(cmd(officer, respond()))
        .then_expect_error(transition("respond to", Status::Verified));
}

#[test]
fn another_opd_may_not_respond() {
    let officer = opd_officer("DLH");
    given(assigned_case())
        .when(cmd(officer.clone(), respond()))
        .then_expect_error(denied_at(&officer, "respond to", "DPU"));
}

#[test]
fn previous_opd_may_not_respond_after_a_transfer() {
    let officer = opd_officer("DPU");
    given(and(assigned_case(), [transferred("DPU", "DLH")]))
        .when(cmd(officer.clone(), respond()))
        .then_expect_error(denied_at(&officer, "respond to", "DLH"));
}

#[test]
fn command_center_may_not_respond_for_the_opd() {
    given(assigned_case())
        .when(cmd(agent(), respond()))
        .then_expect_error(denied(&agent(), "respond to"));
}

#[test]
fn responding_while_waiting_for_info_is_refused() {
    given(waiting_case())
        .when(cmd(opd_officer("DPU"), respond()))
        .then_expect_error(transition("respond to", Status::WaitingForInfo));
}

#[test]
fn responding_to_a_closed_case_is_refused() {
    given(closed_case())
        .when(cmd(opd_officer("DPU"), respond()))
        .then_expect_error(transition("respond to", Status::Closed));
}

// ---- request / provide info ------------------------------------------------------------------

#[test]
fn command_center_may_not_request_info_once_dispatched() {
    given(assigned_case())
        .when(cmd(agent(), request_info()))
        .then_expect_error(denied(&agent(), "request information on"));
}

#[test]
fn another_opd_may_not_request_info() {
    let officer = opd_officer("DLH");
    given(in_progress_case())
        .when(cmd(officer.clone(), request_info()))
        .then_expect_error(denied_at(&officer, "request information on", "DPU"));
}

#[test]
fn requesting_info_while_already_waiting_is_refused() {
    given(and(submitted_case(), [info_requested()]))
        .when(cmd(agent(), request_info()))
        .then_expect_error(transition("request information on", Status::WaitingForInfo));
}

#[test]
fn requesting_info_on_a_closed_case_is_refused() {
    given(closed_case())
        .when(cmd(supervisor(), request_info()))
        .then_expect_error(transition("request information on", Status::Closed));
}

#[test]
fn reporter_may_not_request_info() {
    given(submitted_case())
        .when(cmd(citizen(), request_info()))
        .then_expect_error(denied(&citizen(), "request information on"));
}

#[test]
fn providing_info_when_none_was_asked_is_refused() {
    given(in_progress_case())
        .when(cmd(citizen(), provide_info()))
        .then_expect_error(transition("provide information on", Status::InProgress));
}

#[test]
fn providing_info_after_it_was_given_is_refused() {
    given(and(waiting_case(), [info_provided()]))
        .when(cmd(agent(), provide_info()))
        .then_expect_error(transition("provide information on", Status::InProgress));
}

#[test]
fn another_citizen_may_not_provide_info() {
    given(waiting_case())
        .when(cmd(other_citizen(), provide_info()))
        .then_expect_error(denied(&other_citizen(), "provide information on"));
}

#[test]
fn opd_may_not_answer_its_own_question() {
    let officer = opd_officer("DPU");
    given(waiting_case())
        .when(cmd(officer.clone(), provide_info()))
        .then_expect_error(denied_at(&officer, "provide information on", "DPU"));
}

// ---- field handling / escalate -----------------------------------------------------------------

#[test]
fn another_opd_may_not_record_field_handling() {
    let officer = opd_officer("DLH");
    given(in_progress_case())
        .when(cmd(officer.clone(), record_field_handling(now())))
        .then_expect_error(denied_at(&officer, "record field handling on", "DPU"));
}

#[test]
fn command_center_may_not_record_field_handling() {
    given(in_progress_case())
        .when(cmd(agent(), record_field_handling(now())))
        .then_expect_error(denied(&agent(), "record field handling on"));
}

#[test]
fn field_handling_on_a_closed_case_is_refused() {
    given(closed_case())
        .when(cmd(opd_officer("DPU"), record_field_handling(now())))
        .then_expect_error(transition("record field handling on", Status::Closed));
}

#[test]
fn field_handling_while_waiting_for_info_is_refused() {
    given(waiting_case())
        .when(cmd(opd_officer("DPU"), record_field_handling(now())))
        .then_expect_error(transition(
            "record field handling on",
            Status::WaitingForInfo,
        ));
}

#[test]
fn escalating_a_closed_case_is_refused() {
    given(closed_case())
        .when(cmd(agent(), escalate()))
        .then_expect_error(transition("escalate", Status::Closed));
}

#[test]
fn escalating_a_rejected_case_is_refused() {
    given(rejected_case())
        .when(cmd(system(), escalate()))
        .then_expect_error(transition("escalate", Status::Rejected));
}

#[test]
fn reporter_may_not_escalate() {
    given(assigned_case())
        .when(cmd(citizen(), escalate()))
        .then_expect_error(denied(&citizen(), "escalate"));
}

#[test]
fn opd_may_not_escalate_its_own_case() {
    let admin = opd_admin("DPU");
    given(assigned_case())
        .when(cmd(admin.clone(), escalate()))
        .then_expect_error(denied_at(&admin, "escalate", "DPU"));
}

// ---- close ---------------------------------------------------------------------------------

#[test]
fn another_opd_may_not_close() {
    let officer = opd_officer("DLH");
    given(in_progress_case())
        .when(cmd(officer.clone(), close(Resolution::Resolved)))
        .then_expect_error(denied_at(&officer, "close", "DPU"));
}

#[test]
fn opd_may_not_close_before_dispatch() {
    let admin = opd_admin("DPU");
    given(verified_case())
        .when(cmd(admin, close(Resolution::Resolved)))
        .then_expect_error(transition("close", Status::Verified));
}

#[test]
fn opd_closing_twice_is_refused() {
    given(closed_case())
        .when(cmd(opd_officer("DPU"), close(Resolution::Resolved)))
        .then_expect_error(transition("close", Status::Closed));
}

#[test]
fn command_center_closing_twice_is_refused() {
    given(closed_case())
        .when(cmd(agent(), close(Resolution::Resolved)))
        .then_expect_error(transition("close", Status::Closed));
}

#[test]
fn closing_a_rejected_case_is_refused() {
    given(rejected_case())
        .when(cmd(system(), close(Resolution::OutOfScope)))
        .then_expect_error(transition("close", Status::Rejected));
}

#[test]
fn opd_may_not_close_while_waiting_for_info() {
    given(waiting_case())
        .when(cmd(opd_admin("DPU"), close(Resolution::NotResolved)))
        .then_expect_error(transition("close", Status::WaitingForInfo));
}

#[test]
fn reporter_may_not_close() {
    given(in_progress_case())
        .when(cmd(citizen(), close(Resolution::Resolved)))
        .then_expect_error(denied(&citizen(), "close"));
}

// ---- reopen --------------------------------------------------------------------------------

#[test]
fn reopening_after_the_window_is_refused() {
    let past_window = Rules::default().reopen_window + Duration::seconds(1);
    given_after(past_window, closed_case())
        .when(cmd(citizen(), reopen()))
        .then_expect_error(ComplaintError::RuleViolated(
            "the reopen window of 14 days after closing has passed".into(),
        ));
}

#[test]
fn command_center_is_also_bound_by_the_reopen_window() {
    given_after(Duration::days(30), closed_case())
        .when(cmd(supervisor(), reopen()))
        .then_expect_error(ComplaintError::RuleViolated(
            "the reopen window of 14 days after closing has passed".into(),
        ));
}

#[test]
fn reopening_an_open_case_is_refused() {
    given(in_progress_case())
        .when(cmd(citizen(), reopen()))
        .then_expect_error(transition("reopen", Status::InProgress));
}

#[test]
fn reopening_a_rejected_case_is_refused() {
    given(rejected_case())
        .when(cmd(citizen(), reopen()))
        .then_expect_error(transition("reopen", Status::Rejected));
}

#[test]
fn another_citizen_may_not_reopen() {
    given(closed_case())
        .when(cmd(other_citizen(), reopen()))
        .then_expect_error(denied(&other_citizen(), "reopen"));
}

#[test]
fn opd_may_not_reopen() {
    let officer = opd_officer("DPU");
    given(closed_case())
        .when(cmd(officer.clone(), reopen()))
        .then_expect_error(denied_at(&officer, "reopen", "DPU"));
}

// ---- rate ----------------------------------------------------------------------------------

#[test]
fn rating_an_open_case_is_refused() {
    given(in_progress_case())
        .when(cmd(citizen(), rate(5)))
        .then_expect_error(transition("rate", Status::InProgress));
}

#[test]
fn rating_a_reopened_case_is_refused() {
    given(and(rated_case(), [reopened()]))
        .when(cmd(citizen(), rate(5)))
        .then_expect_error(transition("rate", Status::Assigned));
}

#[test]
fn rating_the_same_closure_twice_is_refused() {
    given(rated_case())
        .when(cmd(citizen(), rate(5)))
        .then_expect_error(ComplaintError::RuleViolated(
            "this closure has already been rated".into(),
        ));
}

#[test]
fn another_citizen_may_not_rate() {
    given(closed_case())
        .when(cmd(other_citizen(), rate(1)))
        .then_expect_error(denied(&other_citizen(), "rate"));
}

#[test]
fn agent_may_not_rate_for_the_reporter() {
    given(closed_case())
        .when(cmd(agent(), rate(5)))
        .then_expect_error(denied(&agent(), "rate"));
}

#[test]
fn nobody_may_rate_a_report_made_without_an_account() {
    let anonymous_call = submitted_from(SubmitInput {
        reporter: None,
        ..submit_input()
    });
    given(vec![anonymous_call, closed(Resolution::Resolved)])
        .when(cmd(citizen(), rate(5)))
        .then_expect_error(denied(&citizen(), "rate"));
}

/// An OPD the city does not have never reaches `decide`: the edge refuses it
/// while parsing (INVALID_INPUT). `decide` checks who is acting before it looks
/// at the OPD: an actor who may never assign is refused, whichever OPD it names.
#[test]
fn analyst_assigning_is_forbidden_whichever_opd_it_names() {
    assert!(matches!(
        parse_assign("DINAS_X", None, None),
        Err(ComplaintError::InvalidInput { field, .. }) if field == "opd"
    ));
    for opd in ["DPU", "DLH", "DISHUB"] {
        given(verified_case())
            .when(cmd(analyst(), assign(opd)))
            .then_expect_error(denied(&analyst(), "assign"));
    }
}

/// And the state before the OPD: a case not yet verified is not dispatched,
/// whichever OPD the command names.
#[test]
fn dispatching_an_unverified_case_is_an_invalid_transition_whichever_opd() {
    for opd in ["DPU", "DLH", "DISHUB"] {
        given(submitted_case())
            .when(cmd(agent(), assign(opd)))
            .then_expect_error(transition("assign", Status::Submitted));
    }
}

/// `RequestInfo` gives the case's own OPD FORBIDDEN ("... (the case is with DPU)") when
/// the status is wrong, where `Respond`, `RecordFieldHandling` and `Close` give
/// INVALID_TRANSITION for the same situation.
#[test]
fn opd_asking_again_while_waiting_is_an_invalid_transition() {
    given(waiting_case())
        .when(cmd(opd_officer("DPU"), request_info()))
        .then_expect_error(transition("request information on", Status::WaitingForInfo));
}

#[test]
fn opd_asking_about_a_closed_case_is_an_invalid_transition() {
    given(closed_case())
        .when(cmd(opd_officer("DPU"), request_info()))
        .then_expect_error(transition("request information on", Status::Closed));
}
