//! Attachments (`AddAttachment` / `AttachmentAdded`): who may file one, by
//! account or tracking code, who may file INTERNAL ones, the reference checks,
//! and that a file changes nothing of the case but its history.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

mod common;

use aduan_domain::*;
use common::*;

const VERB: &str = "attach a file to";

fn file(visibility: NoteVisibility) -> AttachmentRef {
    AttachmentRef {
        sha256: "ab".repeat(32),
        media_type: "image/jpeg".into(),
        size: 123_456,
        thumbnail_sha256: Some("cd".repeat(32)),
        caption: Some("Lubang di depan sekolah".into()),
        visibility,
    }
}

/// Attaching a valid `file`.
fn attach(file: AttachmentRef, code: Option<&str>) -> Action {
    Action::AddAttachment(parse_attachment(file, code).unwrap())
}

fn added(file: AttachmentRef) -> Vec<ComplaintEvent> {
    vec![ComplaintEvent::AttachmentAdded {
        file,
        occurred_at: now(),
    }]
}

#[test]
fn the_reporter_files_evidence_by_account_or_by_tracking_code() {
    let public = file(NoteVisibility::Public);
    given(submitted_case())
        .when(cmd(citizen(), attach(public.clone(), None)))
        .then_expect_events(added(public.clone()));
    given(with_code(submitted_case()))
        .when(cmd(Actor::public(), attach(public.clone(), Some(CODE))))
        .then_expect_events(added(public.clone()));
    // After closing too: evidence that the repair did not hold.
    given(with_code(closed_case()))
        .when(cmd(Actor::public(), attach(public.clone(), Some(CODE))))
        .then_expect_events(added(public));
}

#[test]
fn anyone_else_without_the_code_is_refused() {
    for (actor, code) in [
        (Actor::public(), None),
        (Actor::public(), Some("some-other-code")),
        (other_citizen(), None),
        (analyst(), None),
        (auditor(), None),
    ] {
        given(with_code(submitted_case()))
            .when(cmd(
                actor.clone(),
                attach(file(NoteVisibility::Public), code),
            ))
            .then_expect_error(denied(&actor, VERB));
    }
}

#[test]
fn only_staff_file_internal_attachments() {
    let internal = file(NoteVisibility::Internal);
    for actor in [agent(), supervisor(), system()] {
        given(submitted_case())
            .when(cmd(actor, attach(internal.clone(), None)))
            .then_expect_events(added(internal.clone()));
    }
    given(assigned_case())
        .when(cmd(opd_officer("DPU"), attach(internal.clone(), None)))
        .then_expect_events(added(internal.clone()));
    let refused = given(submitted_case())
        .when(cmd(citizen(), attach(internal, None)))
        .inspect_result()
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::InvalidInput);
}

#[test]
fn opd_roles_attach_only_to_their_own_cases() {
    given(assigned_case())
        .when(cmd(
            opd_officer("DLH"),
            attach(file(NoteVisibility::Public), None),
        ))
        .then_expect_error(denied_at(&opd_officer("DLH"), VERB, "DPU"));
    let before_dispatch = given(submitted_case())
        .when(cmd(
            opd_officer("DPU"),
            attach(file(NoteVisibility::Public), None),
        ))
        .inspect_result()
        .unwrap_err();
    assert_eq!(before_dispatch.code(), ErrorCode::InvalidTransition);
}

#[test]
fn malformed_references_are_invalid_input() {
    let mut bad_hash = file(NoteVisibility::Public);
    bad_hash.sha256 = "../../etc/passwd".into();
    let mut bad_thumbnail = file(NoteVisibility::Public);
    bad_thumbnail.thumbnail_sha256 = Some("AB".repeat(32));
    let mut bad_type = file(NoteVisibility::Public);
    bad_type.media_type = "image/svg+xml".into();
    let mut empty = file(NoteVisibility::Public);
    empty.size = 0;
    let mut long_caption = file(NoteVisibility::Public);
    long_caption.caption = Some("x".repeat(501));
    for (f, field) in [
        (bad_hash, "file"),
        (bad_thumbnail, "file"),
        (bad_type, "file"),
        (empty, "file"),
        (long_caption, "caption"),
    ] {
        let err = parse_attachment(f, None).unwrap_err();
        assert!(
            matches!(&err, ComplaintError::InvalidInput { field: f, .. } if f == field),
            "{err:?}"
        );
    }
}

#[test]
fn a_file_changes_nothing_of_the_case() {
    let before = fold(assigned_case());
    let after = fold(and(assigned_case(), added(file(NoteVisibility::Internal))));
    assert_eq!(before, after);
}

// ---- files that ride on another command ------------------------------------------

/// `action` with valid `files`.
fn with_files(actor: Actor, action: Action, files: Vec<AttachmentRef>) -> Command {
    cmd(actor, action).with_files(parse_files(files).unwrap())
}

#[test]
fn files_follow_their_command_in_the_same_append() {
    let (a, b) = (file(NoteVisibility::Public), file(NoteVisibility::Internal));
    let mut expected = vec![responded()];
    expected.extend(added(a.clone()));
    expected.extend(added(b.clone()));
    given(assigned_case())
        .when(with_files(
            opd_officer("DPU"),
            respond(),
            vec![a.clone(), b],
        ))
        .then_expect_events(expected);
    // The citizen's answer with a photo.
    let mut expected = vec![info_provided()];
    expected.extend(added(a.clone()));
    given(waiting_case())
        .when(with_files(citizen(), provide_info(), vec![a]))
        .then_expect_events(expected);
}

#[test]
fn files_are_refused_with_other_commands_too_many_or_internal_from_the_reporter() {
    let invalid = |history: Vec<ComplaintEvent>, command: Command, field: &str| {
        let err = given(history).when(command).inspect_result().unwrap_err();
        let misdirected = ComplaintError::Misdirected(Misdirected::FilesNotCarried);
        assert!(
            matches!(&err, ComplaintError::InvalidInput { field: f, .. } if f == field)
                || (field == "files" && err == misdirected),
            "{err:?}"
        );
    };
    let one = vec![file(NoteVisibility::Public)];
    invalid(
        submitted_case(),
        with_files(agent(), verify(), one),
        "files",
    );
    let eleven = vec![file(NoteVisibility::Public); 11];
    invalid(
        assigned_case(),
        with_files(opd_officer("DPU"), respond(), eleven),
        "files",
    );
    let internal = vec![file(NoteVisibility::Internal)];
    invalid(
        waiting_case(),
        with_files(citizen(), provide_info(), internal),
        "visibility",
    );
    // A malformed file is refused where the command's files are checked.
    let mut bad = file(NoteVisibility::Public);
    bad.media_type = "text/html".into();
    let err = parse_files(vec![file(NoteVisibility::Public), bad]).unwrap_err();
    assert!(
        matches!(&err, ComplaintError::InvalidInput { field, .. } if field == "file"),
        "{err:?}"
    );
    // The command's own refusal comes first, files or not.
    given(assigned_case())
        .when(with_files(
            opd_officer("DLH"),
            respond(),
            vec![file(NoteVisibility::Public)],
        ))
        .then_expect_error(denied_at(&opd_officer("DLH"), "respond to", "DPU"));
}
