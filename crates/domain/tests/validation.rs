//! INVALID_INPUT: every field check, with the exact field and message a client sees.

mod common;

use aduan_domain::*;
use chrono::Duration;
use common::*;

fn invalid(field: &str, message: &str) -> ComplaintError {
    ComplaintError::invalid(field, message)
}

/// A citizen's submission with one field changed is refused with `expected`.
fn submit_fails(change: impl FnOnce(&mut Submit), expected: ComplaintError) {
    given_none()
        .when(cmd(citizen(), submit_with(change)))
        .then_expect_error(expected);
}

// ---- submit: text ----------------------------------------------------------------------

#[test]
fn empty_title() {
    submit_fails(
        |s| s.title = String::new(),
        invalid("title", "must not be empty"),
    );
}

#[test]
fn whitespace_title() {
    submit_fails(
        |s| s.title = " \t\n ".into(),
        invalid("title", "must not be empty"),
    );
}

#[test]
fn title_over_200_characters() {
    submit_fails(
        |s| s.title = "é".repeat(201),
        invalid("title", "is 201 characters long; the limit is 200"),
    );
}

#[test]
fn text_is_stored_trimmed() {
    let padded = submit_with(|s| {
        s.title = format!("  {TITLE}\n");
        s.description = format!("\t{DESCRIPTION} ");
    });
    given_none()
        .when(cmd(citizen(), padded))
        .then_expect_events(vec![submitted()]);
}

#[test]
fn description_over_5000_characters() {
    submit_fails(
        |s| s.description = "x".repeat(5001),
        invalid("description", "is 5001 characters long; the limit is 5000"),
    );
}

#[test]
fn description_of_exactly_5000_characters_is_accepted() {
    let long = "x".repeat(5000);
    let input = Submit {
        description: long,
        reporter: None,
        ..submit_input()
    };
    given_none()
        .when(cmd(agent(), Action::Submit(input.clone())))
        .then_expect_events(vec![submitted_from(input)]);
}

#[test]
fn control_characters_are_stripped_from_text() {
    let input = Submit {
        title: "\u{1b}[2JPothole\u{0}".into(),
        description: "broken\u{7}bell\r\nsecond line".into(),
        ..submit_input()
    };
    given_none()
        .when(cmd(agent(), Action::Submit(input.clone())))
        .then_expect_events(vec![submitted_from(Submit {
            title: "[2JPothole".into(),
            description: "brokenbell\nsecond line".into(),
            ..input
        })]);
}

#[test]
fn text_of_nothing_but_control_characters_is_empty() {
    submit_fails(
        |s| s.description = "\u{0}\u{7}".into(),
        invalid("description", "must not be empty"),
    );
}

#[test]
fn empty_complaint_id() {
    submit_fails(
        |s| s.complaint_id = " ".into(),
        invalid("complaintId", "must not be empty"),
    );
}

#[test]
fn external_ref_over_100_characters() {
    submit_fails(
        |s| s.external_ref = Some("R".repeat(101)),
        invalid("externalRef", "is 101 characters long; the limit is 100"),
    );
}

// ---- submit: location and reference data -------------------------------------------------

fn latitude_fails(latitude: f64) {
    submit_fails(
        |s| s.location.latitude = latitude,
        invalid("location.latitude", "must be between -90 and 90"),
    );
}

fn longitude_fails(longitude: f64) {
    submit_fails(
        |s| s.location.longitude = longitude,
        invalid("location.longitude", "must be between -180 and 180"),
    );
}

#[test]
fn latitude_above_90() {
    latitude_fails(90.000_1);
}

#[test]
fn latitude_below_minus_90() {
    latitude_fails(-90.5);
}

#[test]
fn latitude_nan() {
    latitude_fails(f64::NAN);
}

#[test]
fn latitude_infinite() {
    latitude_fails(f64::NEG_INFINITY);
}

#[test]
fn longitude_above_180() {
    longitude_fails(180.5);
}

#[test]
fn longitude_below_minus_180() {
    longitude_fails(-181.0);
}

#[test]
fn longitude_nan() {
    longitude_fails(f64::NAN);
}

#[test]
fn coordinates_on_the_edges_are_accepted() {
    let mut input = Submit {
        reporter: None,
        ..submit_input()
    };
    input.location.latitude = -90.0;
    input.location.longitude = 180.0;
    given_none()
        .when(cmd(agent(), Action::Submit(input.clone())))
        .then_expect_events(vec![submitted_from(input)]);
}

#[test]
fn unknown_kecamatan() {
    submit_fails(
        |s| s.location.kecamatan = Some("ATLANTIS".into()),
        invalid("location.kecamatan", "unknown kecamatan \"ATLANTIS\""),
    );
}

#[test]
fn blank_kecamatan_counts_as_absent() {
    let mut input = Submit {
        reporter: None,
        ..submit_input()
    };
    input.location.kecamatan = Some("  ".into());
    let mut stored = input.clone();
    stored.location.kecamatan = None;
    given_none()
        .when(cmd(agent(), Action::Submit(input)))
        .then_expect_events(vec![submitted_from(stored)]);
}

#[test]
fn unknown_category() {
    submit_fails(
        |s| s.category = "POTHOLES".into(),
        invalid("category", "unknown category \"POTHOLES\""),
    );
}

// ---- submit: reporter and attachments --------------------------------------------------------

fn reporter_fails(change: impl FnOnce(&mut Reporter), expected: ComplaintError) {
    submit_fails(|s| change(s.reporter.as_mut().unwrap()), expected);
}

#[test]
fn phone_with_letters() {
    reporter_fails(
        |r| r.phone = Some("call me maybe".into()),
        invalid("reporter.phone", "is not a phone number"),
    );
}

#[test]
fn phone_with_too_few_digits() {
    reporter_fails(
        |r| r.phone = Some("+62 811".into()),
        invalid("reporter.phone", "is not a phone number"),
    );
}

#[test]
fn phone_with_too_many_digits() {
    reporter_fails(
        |r| r.phone = Some("+62 811 4000 1234 5678".into()),
        invalid("reporter.phone", "is not a phone number"),
    );
}

#[test]
fn email_without_at_sign() {
    reporter_fails(
        |r| r.email = Some("andi.example.id".into()),
        invalid("reporter.email", "is not an email address"),
    );
}

#[test]
fn email_without_user() {
    reporter_fails(
        |r| r.email = Some("@example.id".into()),
        invalid("reporter.email", "is not an email address"),
    );
}

#[test]
fn email_without_domain() {
    reporter_fails(
        |r| r.email = Some("andi@localhost".into()),
        invalid("reporter.email", "is not an email address"),
    );
}

#[test]
fn email_with_a_space() {
    reporter_fails(
        |r| r.email = Some("andi budi@example.id".into()),
        invalid("reporter.email", "is not an email address"),
    );
}

#[test]
fn attachment_that_is_not_a_web_url() {
    submit_fails(
        |s| s.attachments = vec!["file:///etc/passwd".into()],
        invalid("attachments", "must be http(s) URLs"),
    );
}

#[test]
fn more_than_ten_attachments() {
    submit_fails(
        |s| s.attachments = vec![PHOTO.into(); 11],
        invalid("attachments", "at most 10 are allowed"),
    );
}

#[test]
fn blank_attachment() {
    submit_fails(
        |s| s.attachments = vec![PHOTO.into(), " ".into()],
        invalid("attachments", "must not be empty"),
    );
}

// ---- other commands ----------------------------------------------------------------------

#[test]
fn verify_with_unknown_category() {
    let recategorised = Action::Verify(Verify {
        priority: None,
        category: Some("UFO".into()),
        note: None,
    });
    given(submitted_case())
        .when(cmd(agent(), recategorised))
        .then_expect_error(invalid("category", "unknown category \"UFO\""));
}

#[test]
fn assign_to_unknown_opd() {
    given(verified_case())
        .when(cmd(agent(), assign("DINAS_X")))
        .then_expect_error(invalid("opd", "unknown OPD \"DINAS_X\""));
}

#[test]
fn opd_admin_assigns_without_an_officer() {
    given(assigned_case())
        .when(cmd(opd_admin("DPU"), assign("DPU")))
        .then_expect_error(invalid(
            "officerId",
            "is required when an OPD assigns its officer",
        ));
}

#[test]
fn transfer_to_unknown_opd() {
    given(assigned_case())
        .when(cmd(agent(), transfer("DINAS_X")))
        .then_expect_error(invalid("toOpd", "unknown OPD \"DINAS_X\""));
}

#[test]
fn transfer_to_the_same_opd() {
    given(assigned_case())
        .when(cmd(agent(), transfer("DPU")))
        .then_expect_error(invalid("toOpd", "is the OPD the case is already with"));
}

#[test]
fn transfer_without_reason() {
    let bare = Action::Transfer(Transfer {
        to_opd: "DLH".into(),
        reason: " ".into(),
    });
    given(assigned_case())
        .when(cmd(agent(), bare))
        .then_expect_error(invalid("reason", "must not be empty"));
}

#[test]
fn empty_response() {
    let empty = Action::Respond(Respond { message: "".into() });
    given(assigned_case())
        .when(cmd(opd_officer("DPU"), empty))
        .then_expect_error(invalid("message", "must not be empty"));
}

#[test]
fn empty_question() {
    let empty = Action::RequestInfo(RequestInfo {
        question: "\n".into(),
    });
    given(assigned_case())
        .when(cmd(opd_officer("DPU"), empty))
        .then_expect_error(invalid("question", "must not be empty"));
}

#[test]
fn empty_answer() {
    let empty = Action::ProvideInfo(ProvideInfo {
        answer: "  ".into(),
        attachments: vec![],
    });
    given(waiting_case())
        .when(cmd(citizen(), empty))
        .then_expect_error(invalid("answer", "must not be empty"));
}

#[test]
fn answer_with_a_non_web_attachment() {
    let bad = Action::ProvideInfo(ProvideInfo {
        answer: ANSWER.into(),
        attachments: vec!["ftp://files.example.id/x.jpg".into()],
    });
    given(waiting_case())
        .when(cmd(citizen(), bad))
        .then_expect_error(invalid("attachments", "must be http(s) URLs"));
}

#[test]
fn field_handling_in_the_future() {
    let beyond_skew = now() + Rules::default().clock_skew + Duration::seconds(1);
    given(in_progress_case())
        .when(cmd(opd_officer("DPU"), record_field_handling(beyond_skew)))
        .then_expect_error(invalid("handledAt", "lies in the future"));
}

#[test]
fn field_handling_before_submission() {
    let before = now() - Rules::default().clock_skew - Duration::seconds(1);
    given(in_progress_case())
        .when(cmd(opd_officer("DPU"), record_field_handling(before)))
        .then_expect_error(invalid(
            "handledAt",
            "is before the complaint was submitted",
        ));
}

#[test]
fn field_handling_just_before_submission_within_clock_skew_is_accepted() {
    let before = now() - Rules::default().clock_skew;
    given(in_progress_case())
        .when(cmd(opd_officer("DPU"), record_field_handling(before)))
        .then_expect_events(vec![field_handled(before)]);
}

#[test]
fn field_handling_without_notes() {
    let bare = Action::RecordFieldHandling(RecordFieldHandling {
        notes: "".into(),
        handled_at: now(),
        photos: vec![],
    });
    given(in_progress_case())
        .when(cmd(opd_officer("DPU"), bare))
        .then_expect_error(invalid("notes", "must not be empty"));
}

#[test]
fn escalation_reason_over_500_characters() {
    let long = Action::Escalate(Escalate {
        reason: "r".repeat(501),
    });
    given(assigned_case())
        .when(cmd(agent(), long))
        .then_expect_error(invalid(
            "reason",
            "is 501 characters long; the limit is 500",
        ));
}

// ---- close ---------------------------------------------------------------------------------

fn close_fails(action: Action, expected: ComplaintError) {
    given(in_progress_case())
        .when(cmd(opd_officer("DPU"), action))
        .then_expect_error(expected);
}

#[test]
fn duplicate_without_duplicate_of() {
    close_fails(
        close(Resolution::Duplicate),
        invalid("duplicateOf", "is required for a DUPLICATE resolution"),
    );
}

#[test]
fn duplicate_with_blank_duplicate_of() {
    close_fails(
        close_as(Resolution::Duplicate, Some("  ")),
        invalid("duplicateOf", "is required for a DUPLICATE resolution"),
    );
}

#[test]
fn duplicate_of_with_a_resolution_other_than_duplicate() {
    close_fails(
        close_as(Resolution::Resolved, Some(EARLIER_ID)),
        invalid("duplicateOf", "is only for a DUPLICATE resolution"),
    );
}

#[test]
fn duplicate_of_itself() {
    close_fails(
        close_as(Resolution::Duplicate, Some(ID)),
        invalid("duplicateOf", "a complaint cannot duplicate itself"),
    );
}

#[test]
fn close_without_summary() {
    let bare = Action::Close(Close {
        resolution: Resolution::Resolved,
        summary: "".into(),
        duplicate_of: None,
    });
    close_fails(bare, invalid("summary", "must not be empty"));
}

// ---- reopen / rate -------------------------------------------------------------------------

#[test]
fn reopen_without_reason() {
    let bare = Action::Reopen(Reopen { reason: "".into() });
    given(closed_case())
        .when(cmd(citizen(), bare))
        .then_expect_error(invalid("reason", "must not be empty"));
}

fn rating_fails(score: i32) {
    given(closed_case())
        .when(cmd(citizen(), rate(score)))
        .then_expect_error(invalid("score", "must be between 1 and 5"));
}

#[test]
fn rating_zero() {
    rating_fails(0);
}

#[test]
fn rating_six() {
    rating_fails(6);
}

#[test]
fn rating_negative() {
    rating_fails(-1);
}

#[test]
fn rating_that_would_wrap_into_range() {
    rating_fails(261);
}
