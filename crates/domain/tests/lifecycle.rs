//! Every valid transition of a complaint, one test each.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

mod common;

use aduan_domain::*;
use chrono::Duration;
use common::*;

// ---- submit ---------------------------------------------------------------------------

#[test]
fn citizen_submits_a_report_linked_to_their_account() {
    given_none()
        .when(cmd(citizen(), submit()))
        .then_expect_events(vec![submitted()]);
}

#[test]
fn citizen_cannot_link_their_report_to_another_account() {
    let spoofed = submit_with(|s| {
        s.reporter = Some(Reporter {
            subject: Some("citizen-budi".into()),
            ..reporter_details()
        })
    });
    given_none()
        .when(cmd(citizen(), spoofed))
        .then_expect_events(vec![submitted()]);
}

#[test]
fn citizen_without_contact_details_is_still_the_reporter() {
    let input = SubmitInput {
        reporter: None,
        anonymous: true,
        ..submit_input()
    };
    let linked = SubmitInput {
        reporter: Some(Reporter {
            subject: Some(CITIZEN.into()),
            name: None,
            phone: None,
            email: None,
        }),
        ..input.clone()
    };
    given_none()
        .when(cmd(citizen(), submission(input)))
        .then_expect_events(vec![submitted_from(linked)]);
}

#[test]
fn agent_submits_a_call_with_the_callers_details_and_priority() {
    let input = SubmitInput {
        channel: Channel::CallCenter,
        priority: Some(Priority::High),
        ..submit_input()
    };
    given_none()
        .when(cmd(agent(), submission(input.clone())))
        .then_expect_events(vec![submitted_from(input)]);
}

#[test]
fn supervisor_submits_a_walk_in_report() {
    let input = SubmitInput {
        channel: Channel::WalkIn,
        ..submit_input()
    };
    given_none()
        .when(cmd(supervisor(), submission(input.clone())))
        .then_expect_events(vec![submitted_from(input)]);
}

#[test]
fn system_imports_an_anonymous_report_from_the_national_platform() {
    let input = SubmitInput {
        channel: Channel::NationalPlatform,
        reporter: None,
        anonymous: true,
        external_ref: Some("LAPOR-2024-991".into()),
        ..submit_input()
    };
    given_none()
        .when(cmd(system(), submission(input.clone())))
        .then_expect_events(vec![submitted_from(input)]);
}

// ---- verify / reject --------------------------------------------------------------------

#[test]
fn agent_verifies_keeping_category_and_priority() {
    given(submitted_case())
        .when(cmd(agent(), verify()))
        .then_expect_events(vec![verified()]);
}

#[test]
fn supervisor_verifies_with_corrected_category_and_priority() {
    let corrected = Action::Verify(
        parse_verify(
            Some(Priority::Emergency),
            Some("GARBAGE"),
            Some(" Caller described rubbish, not a hole "),
        )
        .unwrap(),
    );
    given(submitted_case())
        .when(cmd(supervisor(), corrected))
        .then_expect_events(vec![ComplaintEvent::Verified {
            priority: Priority::Emergency,
            category: "GARBAGE".into(),
            note: Some("Caller described rubbish, not a hole".into()),
            occurred_at: now(),
        }]);
}

#[test]
fn agent_rejects_a_submitted_report() {
    given(submitted_case())
        .when(cmd(agent(), reject(RejectReason::Spam)))
        .then_expect_events(vec![rejected(RejectReason::Spam)]);
}

#[test]
fn supervisor_rejects_a_verified_report_with_a_note() {
    let with_note =
        Action::Reject(parse_reject(RejectReason::OutOfScope, Some("Private road")).unwrap());
    given(verified_case())
        .when(cmd(supervisor(), with_note))
        .then_expect_events(vec![ComplaintEvent::Rejected {
            reason: RejectReason::OutOfScope,
            note: Some("Private road".into()),
            occurred_at: now(),
        }]);
}

// ---- assign / transfer -----------------------------------------------------------------

#[test]
fn agent_dispatches_a_verified_case_to_an_opd() {
    given(verified_case())
        .when(cmd(agent(), assign("DPU")))
        .then_expect_events(vec![assigned("DPU")]);
}

#[test]
fn supervisor_dispatches_straight_to_an_officer() {
    given(verified_case())
        .when(cmd(supervisor(), assign_officer("DPU", "officer-7")))
        .then_expect_events(vec![officer_assigned("DPU", "officer-7")]);
}

#[test]
fn opd_admin_assigns_an_officer_of_its_own_opd() {
    given(assigned_case())
        .when(cmd(opd_admin("DPU"), assign_officer("DPU", "officer-7")))
        .then_expect_events(vec![officer_assigned("DPU", "officer-7")]);
}

#[test]
fn opd_admin_reassigns_an_officer_while_in_progress() {
    given(and(
        in_progress_case(),
        [officer_assigned("DPU", "officer-7")],
    ))
    .when(cmd(opd_admin("DPU"), assign_officer("DPU", "officer-8")))
    .then_expect_events(vec![officer_assigned("DPU", "officer-8")]);
}

#[test]
fn agent_transfers_a_case_to_another_opd() {
    given(assigned_case())
        .when(cmd(agent(), transfer("DLH")))
        .then_expect_events(vec![transferred("DPU", "DLH")]);
}

#[test]
fn opd_admin_transfers_its_case_in_progress() {
    given(in_progress_case())
        .when(cmd(opd_admin("DPU"), transfer("DLH")))
        .then_expect_events(vec![transferred("DPU", "DLH")]);
}

#[test]
fn receiving_opd_works_on_a_transferred_case() {
    given(and(assigned_case(), [transferred("DPU", "DLH")]))
        .when(cmd(opd_officer("DLH"), respond()))
        .then_expect_events(vec![responded()]);
}

// ---- respond / request and provide info --------------------------------------------------

#[test]
fn opd_officer_responds_to_an_assigned_case() {
    given(assigned_case())
        .when(cmd(opd_officer("DPU"), respond()))
        .then_expect_events(vec![responded()]);
}

#[test]
fn opd_admin_responds_again_while_in_progress() {
    given(in_progress_case())
        .when(cmd(opd_admin("DPU"), respond()))
        .then_expect_events(vec![responded()]);
}

#[test]
fn agent_requests_info_before_verifying() {
    given(submitted_case())
        .when(cmd(agent(), request_info()))
        .then_expect_events(vec![info_requested()]);
}

#[test]
fn supervisor_requests_info_before_dispatch() {
    given(verified_case())
        .when(cmd(supervisor(), request_info()))
        .then_expect_events(vec![info_requested()]);
}

#[test]
fn opd_officer_requests_info_on_its_case() {
    given(assigned_case())
        .when(cmd(opd_officer("DPU"), request_info()))
        .then_expect_events(vec![info_requested()]);
}

#[test]
fn reporter_provides_the_requested_info() {
    given(waiting_case())
        .when(cmd(citizen(), provide_info()))
        .then_expect_events(vec![info_provided()]);
}

#[test]
fn agent_provides_info_a_caller_gave_by_phone() {
    let with_photo = Action::ProvideInfo(parse_provide_info(ANSWER, &[PHOTO.into()]).unwrap());
    given(waiting_case())
        .when(cmd(agent(), with_photo))
        .then_expect_events(vec![ComplaintEvent::InfoProvided {
            answer: ANSWER.into(),
            attachments: vec![PHOTO.into()],
            occurred_at: now(),
        }]);
}

#[test]
fn answered_unverified_case_is_submitted_again() {
    given(and(submitted_case(), [info_requested(), info_provided()]))
        .when(cmd(agent(), verify()))
        .then_expect_events(vec![verified()]);
}

#[test]
fn answered_verified_case_is_verified_again() {
    given(and(verified_case(), [info_requested(), info_provided()]))
        .when(cmd(agent(), assign("DPU")))
        .then_expect_events(vec![assigned("DPU")]);
}

#[test]
fn answered_case_is_back_with_its_opd() {
    given(and(waiting_case(), [info_provided()]))
        .when(cmd(opd_officer("DPU"), respond()))
        .then_expect_events(vec![responded()]);
}

// ---- field handling / escalation ---------------------------------------------------------

#[test]
fn opd_officer_records_field_handling() {
    let submitted_yesterday = at(submitted(), now() - Duration::days(1));
    let handled_at = now() - Duration::hours(2);
    given(vec![submitted_yesterday, verified(), assigned("DPU")])
        .when(cmd(opd_officer("DPU"), record_field_handling(handled_at)))
        .then_expect_events(vec![field_handled(handled_at)]);
}

#[test]
fn field_handling_within_the_allowed_clock_skew_is_accepted() {
    let handled_at = now() + Rules::default().clock_skew;
    given(in_progress_case())
        .when(cmd(opd_admin("DPU"), record_field_handling(handled_at)))
        .then_expect_events(vec![field_handled(handled_at)]);
}

#[test]
fn agent_escalates_an_open_case_to_level_one() {
    given(assigned_case())
        .when(cmd(agent(), escalate()))
        .then_expect_events(vec![escalated(1)]);
}

#[test]
fn system_escalates_an_escalated_case_one_level_higher() {
    given(and(assigned_case(), [escalated(1), escalated(2)]))
        .when(cmd(system(), escalate()))
        .then_expect_events(vec![escalated(3)]);
}

#[test]
fn supervisor_escalates_a_case_waiting_for_info() {
    given(waiting_case())
        .when(cmd(supervisor(), escalate()))
        .then_expect_events(vec![escalated(1)]);
}

// ---- close ---------------------------------------------------------------------------------

fn dpu_closes(resolution: Resolution, duplicate_of: Option<&str>) {
    given(in_progress_case())
        .when(cmd(opd_officer("DPU"), close_as(resolution, duplicate_of)))
        .then_expect_events(vec![closed_as(resolution, duplicate_of)]);
}

#[test]
fn opd_closes_as_resolved() {
    dpu_closes(Resolution::Resolved, None);
}

#[test]
fn opd_closes_as_not_resolved() {
    dpu_closes(Resolution::NotResolved, None);
}

#[test]
fn opd_closes_as_out_of_scope() {
    dpu_closes(Resolution::OutOfScope, None);
}

#[test]
fn opd_closes_as_duplicate() {
    dpu_closes(Resolution::Duplicate, Some(EARLIER_ID));
}

#[test]
fn opd_admin_closes_an_assigned_case() {
    given(assigned_case())
        .when(cmd(opd_admin("DPU"), close(Resolution::Resolved)))
        .then_expect_events(vec![closed(Resolution::Resolved)]);
}

#[test]
fn agent_closes_an_unverified_report_as_duplicate() {
    given(submitted_case())
        .when(cmd(
            agent(),
            close_as(Resolution::Duplicate, Some(EARLIER_ID)),
        ))
        .then_expect_events(vec![closed_as(Resolution::Duplicate, Some(EARLIER_ID))]);
}

#[test]
fn system_closes_a_case_left_waiting_for_info() {
    given(waiting_case())
        .when(cmd(system(), close(Resolution::NotResolved)))
        .then_expect_events(vec![closed(Resolution::NotResolved)]);
}

// ---- reopen / rate -------------------------------------------------------------------------

#[test]
fn reporter_reopens_a_closed_case() {
    given(closed_case())
        .when(cmd(citizen(), reopen()))
        .then_expect_events(vec![reopened()]);
}

#[test]
fn reporter_reopens_on_the_last_moment_of_the_window() {
    let window = Rules::default().reopen_window;
    given_after(window, closed_case())
        .when(cmd(citizen(), reopen()))
        .then_expect_events(vec![at(reopened(), now() + window)]);
}

#[test]
fn agent_reopens_on_the_callers_behalf() {
    given(closed_case())
        .when(cmd(agent(), reopen()))
        .then_expect_events(vec![reopened()]);
}

#[test]
fn reopened_case_is_back_with_its_opd() {
    given(reopened_case())
        .when(cmd(opd_officer("DPU"), respond()))
        .then_expect_events(vec![responded()]);
}

#[test]
fn reopened_undispatched_case_awaits_verification_again() {
    let closed_early = and(
        submitted_case(),
        [
            closed_as(Resolution::Duplicate, Some(EARLIER_ID)),
            reopened(),
        ],
    );
    given(closed_early)
        .when(cmd(agent(), verify()))
        .then_expect_events(vec![verified()]);
}

#[test]
fn reporter_rates_a_closed_case() {
    given(closed_case())
        .when(cmd(citizen(), rate(5)))
        .then_expect_events(vec![rated(5)]);
}

#[test]
fn reporter_rates_the_lowest_score_without_comment() {
    let bare = Action::Rate(parse_rate(1, Some("   "), None).unwrap());
    given(closed_case())
        .when(cmd(citizen(), bare))
        .then_expect_events(vec![ComplaintEvent::Rated {
            score: 1,
            comment: None,
            occurred_at: now(),
        }]);
}

#[test]
fn reporter_rates_again_after_reopen_and_close() {
    given(and(
        rated_case(),
        [reopened(), closed(Resolution::Resolved)],
    ))
    .when(cmd(citizen(), rate(2)))
    .then_expect_events(vec![rated(2)]);
}

#[test]
fn only_a_citizens_own_token_links_a_report_to_a_citizen_account() {
    let claimed = Reporter {
        subject: Some("someone-else".into()),
        ..reporter_details()
    };
    let input = SubmitInput {
        channel: Channel::CallCenter,
        reporter: Some(claimed),
        ..submit_input()
    };
    given_none()
        .when(cmd(agent(), submission(input.clone())))
        .then_expect_events(vec![submitted_from(SubmitInput {
            reporter: Some(reporter_details()),
            ..input
        })]);
}
