//! INVALID_INPUT: every field check, with the exact field (its domain name) and
//! message a client sees. Input is checked where it is parsed into the command's
//! values, as an edge does (`common::edge`); what depends on the case is checked
//! by `decide`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

mod common;

use aduan_domain::*;
use chrono::Duration;
use common::*;

fn invalid(field: &str, message: &str) -> ComplaintError {
    ComplaintError::invalid(field, message)
}

/// A submission with one field changed is refused with `expected`.
fn submit_fails(change: impl FnOnce(&mut SubmitInput), expected: ComplaintError) {
    let mut input = submit_input();
    change(&mut input);
    assert_eq!(parse_submit(input), Err(expected));
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
    let input = SubmitInput {
        description: long,
        reporter: None,
        ..submit_input()
    };
    given_none()
        .when(cmd(agent(), submission(input.clone())))
        .then_expect_events(vec![submitted_from(input)]);
}

#[test]
fn control_characters_are_stripped_from_text() {
    let input = SubmitInput {
        title: "\u{1b}[2JPothole\u{0}".into(),
        description: "broken\u{7}bell\r\nsecond line".into(),
        ..submit_input()
    };
    given_none()
        .when(cmd(agent(), submission(input.clone())))
        .then_expect_events(vec![submitted_from(SubmitInput {
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
        invalid("complaint_id", "must not be empty"),
    );
}

#[test]
fn external_ref_over_100_characters() {
    submit_fails(
        |s| s.external_ref = Some("R".repeat(101)),
        invalid("external_ref", "is 101 characters long; the limit is 100"),
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
    let mut input = SubmitInput {
        reporter: None,
        ..submit_input()
    };
    input.location.latitude = -90.0;
    input.location.longitude = 180.0;
    given_none()
        .when(cmd(agent(), submission(input.clone())))
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
    let mut input = SubmitInput {
        reporter: None,
        ..submit_input()
    };
    input.location.kecamatan = Some("  ".into());
    let mut stored = input.clone();
    stored.location.kecamatan = None;
    given_none()
        .when(cmd(agent(), submission(input)))
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
    assert_eq!(
        parse_verify(None, Some("UFO"), None),
        Err(invalid("category", "unknown category \"UFO\""))
    );
}

#[test]
fn assign_to_unknown_opd() {
    assert_eq!(
        parse_assign("DINAS_X", None, None),
        Err(invalid("opd", "unknown OPD \"DINAS_X\""))
    );
}

#[test]
fn opd_admin_assigns_without_an_officer() {
    given(assigned_case())
        .when(cmd(opd_admin("DPU"), assign("DPU")))
        .then_expect_error(invalid(
            "officer_id",
            "is required when an OPD assigns its officer",
        ));
}

#[test]
fn opd_admin_assigns_with_a_blank_officer() {
    // A blank officer is none: the OPD's admin is told one is required.
    given(assigned_case())
        .when(cmd(opd_admin("DPU"), assign_officer("DPU", " ")))
        .then_expect_error(invalid(
            "officer_id",
            "is required when an OPD assigns its officer",
        ));
}

#[test]
fn transfer_to_unknown_opd() {
    assert_eq!(
        parse_transfer("DINAS_X", REASON_CODE, None),
        Err(invalid("to_opd", "unknown OPD \"DINAS_X\""))
    );
}

#[test]
fn transfer_to_the_same_opd() {
    given(assigned_case())
        .when(cmd(agent(), transfer("DPU")))
        .then_expect_error(invalid("to_opd", "is the OPD the case is already with"));
}

#[test]
fn transfer_without_reason_code() {
    assert_eq!(
        parse_transfer("DLH", " ", Some(REASON)),
        Err(invalid(
            "reason_code",
            "\" \" is not a reason code (A-Z, 0-9 and _, at most 40)"
        ))
    );
}

#[test]
fn empty_response() {
    assert_eq!(
        parse_respond(""),
        Err(invalid("message", "must not be empty"))
    );
}

#[test]
fn empty_question() {
    assert_eq!(
        parse_request_info("\n"),
        Err(invalid("question", "must not be empty"))
    );
}

#[test]
fn empty_answer() {
    assert_eq!(
        parse_provide_info("  ", &[]),
        Err(invalid("answer", "must not be empty"))
    );
}

#[test]
fn answer_with_a_non_web_attachment() {
    assert_eq!(
        parse_provide_info(ANSWER, &["ftp://files.example.id/x.jpg".into()]),
        Err(invalid("attachments", "must be http(s) URLs"))
    );
}

#[test]
fn field_handling_in_the_future() {
    let beyond_skew = now() + Rules::default().clock_skew + Duration::seconds(1);
    given(in_progress_case())
        .when(cmd(opd_officer("DPU"), record_field_handling(beyond_skew)))
        .then_expect_error(invalid("handled_at", "lies in the future"));
}

#[test]
fn field_handling_before_submission() {
    let before = now() - Rules::default().clock_skew - Duration::seconds(1);
    given(in_progress_case())
        .when(cmd(opd_officer("DPU"), record_field_handling(before)))
        .then_expect_error(invalid(
            "handled_at",
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
    assert_eq!(
        parse_field_handling("", now(), &[]),
        Err(invalid("notes", "must not be empty"))
    );
}

#[test]
fn escalation_reason_over_500_characters() {
    assert_eq!(
        parse_escalate(&"r".repeat(501)),
        Err(invalid(
            "reason",
            "is 501 characters long; the limit is 500"
        ))
    );
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
        invalid("duplicate_of", "is required for a DUPLICATE resolution"),
    );
}

#[test]
fn duplicate_with_blank_duplicate_of() {
    close_fails(
        close_as(Resolution::Duplicate, Some("  ")),
        invalid("duplicate_of", "is required for a DUPLICATE resolution"),
    );
}

#[test]
fn duplicate_of_with_a_resolution_other_than_duplicate() {
    close_fails(
        close_as(Resolution::Resolved, Some(EARLIER_ID)),
        invalid("duplicate_of", "is only for a DUPLICATE resolution"),
    );
}

#[test]
fn duplicate_of_itself() {
    close_fails(
        close_as(Resolution::Duplicate, Some(ID)),
        invalid("duplicate_of", "a complaint cannot duplicate itself"),
    );
}

#[test]
fn close_without_summary() {
    assert_eq!(
        parse_close(Resolution::Resolved, "", None),
        Err(invalid("summary", "must not be empty"))
    );
}

// ---- reopen / rate -------------------------------------------------------------------------

#[test]
fn reopen_without_reason() {
    assert_eq!(
        parse_reopen(""),
        Err(invalid("reason", "must not be empty"))
    );
}

fn rating_fails(score: i32) {
    assert_eq!(
        parse_rate(score, Some(COMMENT), None),
        Err(invalid("score", "must be between 1 and 5"))
    );
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
