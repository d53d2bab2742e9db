//! Shared fixtures for the aggregate tests.
//!
//! Every command runs at one clock instant, [`now`], and every fixture event is stamped
//! with it, so a command's expected event is simply the fixture event. Case histories
//! (`assigned_case()`, `closed_case()`, ...) dispatch the case to DPU; DLH is "another
//! OPD". The reporter on record is the citizen [`CITIZEN`].
#![allow(dead_code)] // each test crate uses a different part of this module

use std::sync::Arc;

use aduan_domain::sla::Leg;
use aduan_domain::*;
use chrono::{DateTime, Duration, TimeZone, Utc};
use cqrs_es::test::{AggregateTestExecutor, TestFramework};
use cqrs_es::Aggregate;

mod edge;
pub use edge::*;

pub const ID: &str = "ADU-2024-000123";
pub const EARLIER_ID: &str = "ADU-2024-000100";
pub const CITIZEN: &str = "citizen-andi";
pub const TITLE: &str = "Pothole on Jalan Penghibur";
pub const DESCRIPTION: &str = "A deep hole in front of SD Inpres, dangerous at night.";
pub const PHOTO: &str = "https://files.aduan.example.id/pothole.jpg";
pub const REASON: &str = "Drainage is handled by another department";
pub const REASON_CODE: &str = "BUKAN_WEWENANG";
pub const MESSAGE: &str = "Our crew will inspect the site today.";
pub const QUESTION: &str = "Which side of the road is the hole on?";
pub const ANSWER: &str = "The north side, near the bus stop.";
pub const NOTES: &str = "Hole patched with asphalt.";
pub const SUMMARY: &str = "Road repaired.";
pub const COMMENT: &str = "Fast and friendly.";
pub const NOTE: &str = "Called the reporter; the hole is growing.";

// ---- time and services ----------------------------------------------------------

/// The instant every command is decided at (unless a test moves the clock).
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 1, 9, 0, 0).unwrap()
}

pub fn reference() -> ReferenceData {
    let opd = |code: &str, name: &str| Opd {
        code: code.into(),
        name: name.into(),
        description: None,
    };
    let category = |code: &str, default_opd: &str| Category {
        code: code.into(),
        name: code.to_lowercase(),
        default_opd: default_opd.into(),
        attributes: vec![],
    };
    let kecamatan = |code: &str| Kecamatan {
        code: code.into(),
        name: code.to_lowercase(),
    };
    ReferenceData {
        opds: vec![
            opd("DPU", "Dinas Pekerjaan Umum"),
            opd("DLH", "Dinas Lingkungan Hidup"),
            opd("DISHUB", "Dinas Perhubungan"),
        ],
        categories: vec![
            category("ROAD_DAMAGE", "DPU"),
            category("GARBAGE", "DLH"),
            category("TRAFFIC_LIGHT", "DISHUB"),
        ],
        kecamatan: vec![kecamatan("MARISO"), kecamatan("TALLO")],
        ..Default::default()
    }
}

/// Services whose clock stands at `now() + elapsed`.
pub fn services_after(elapsed: Duration) -> ComplaintServices {
    let clock = FixedClock::at(now());
    clock.advance(elapsed);
    ComplaintServices::new(Arc::new(clock), Arc::new(reference()), Rules::default())
}

pub fn given(events: Vec<ComplaintEvent>) -> AggregateTestExecutor<Complaint> {
    TestFramework::<Complaint>::with(services_after(Duration::zero())).given(events)
}

pub fn given_none() -> AggregateTestExecutor<Complaint> {
    given(vec![])
}

/// Like [`given`], with the clock moved `elapsed` past [`now`].
pub fn given_after(
    elapsed: Duration,
    events: Vec<ComplaintEvent>,
) -> AggregateTestExecutor<Complaint> {
    TestFramework::<Complaint>::with(services_after(elapsed)).given(events)
}

pub fn cmd(actor: Actor, action: Action) -> Command {
    Command::new(actor, action)
}

// ---- actors -----------------------------------------------------------------------

/// The signed-in citizen who reported the case.
pub fn citizen() -> Actor {
    Actor::new(CITIZEN, Role::Citizen, None)
}

pub fn other_citizen() -> Actor {
    Actor::new("citizen-budi", Role::Citizen, None)
}

pub fn agent() -> Actor {
    Actor::new("agent-siti", Role::Agent, None)
}

pub fn supervisor() -> Actor {
    Actor::new("supervisor-rina", Role::Supervisor, None)
}

pub fn system() -> Actor {
    Actor::new("system-sla", Role::System, None)
}

pub fn analyst() -> Actor {
    Actor::new("analyst-1", Role::Analyst, None)
}

pub fn auditor() -> Actor {
    Actor::new("auditor-1", Role::Auditor, None)
}

pub fn opd_admin(opd: &str) -> Actor {
    Actor::new(format!("admin-{opd}"), Role::OpdAdmin, Some(opd))
}

pub fn opd_officer(opd: &str) -> Actor {
    Actor::new(format!("officer-{opd}"), Role::OpdOfficer, Some(opd))
}

// ---- commands ---------------------------------------------------------------------

pub fn reporter_details() -> Reporter {
    Reporter {
        subject: None,
        name: Some("Andi".into()),
        phone: Some("+62 811-4000-123".into()),
        email: Some("andi@example.id".into()),
    }
}

/// A valid report with contact details but no account link, as it arrives.
pub fn submit_input() -> SubmitInput {
    SubmitInput {
        complaint_id: ID.into(),
        channel: Channel::Mobile,
        category: "ROAD_DAMAGE".into(),
        priority: None,
        title: TITLE.into(),
        description: DESCRIPTION.into(),
        location: Location {
            latitude: -5.1477,
            longitude: 119.4327,
            address: Some("Jl. Penghibur 12".into()),
            kecamatan: Some("MARISO".into()),
            kelurahan: Some("Lette".into()),
        },
        reporter: Some(reporter_details()),
        anonymous: false,
        attachments: vec![PHOTO.into()],
        external_ref: None,
        tracking_code_hash: None,
    }
}

pub fn submit() -> Action {
    submission(submit_input())
}

/// The report with one thing changed, as an edge parses it (valid only).
pub fn submit_with(change: impl FnOnce(&mut SubmitInput)) -> Action {
    let mut input = submit_input();
    change(&mut input);
    submission(input)
}

pub fn verify() -> Action {
    Action::Verify(parse_verify(None, None, None).unwrap())
}

pub fn reject(reason: RejectReason) -> Action {
    Action::Reject(parse_reject(reason, None).unwrap())
}

/// Dispatch to `opd`, one of the city's.
pub fn assign(opd: &str) -> Action {
    Action::Assign(parse_assign(opd, None, None).unwrap())
}

pub fn assign_officer(opd: &str, officer: &str) -> Action {
    Action::Assign(parse_assign(opd, Some(officer), None).unwrap())
}

/// A transfer to `to_opd`, one of the city's.
pub fn transfer(to_opd: &str) -> Action {
    Action::Transfer(parse_transfer(to_opd, REASON_CODE, Some(REASON)).unwrap())
}

pub fn respond() -> Action {
    Action::Respond(parse_respond(MESSAGE).unwrap())
}

pub fn request_info() -> Action {
    Action::RequestInfo(parse_request_info(QUESTION).unwrap())
}

pub fn provide_info() -> Action {
    Action::ProvideInfo(parse_provide_info(ANSWER, &[]).unwrap())
}

pub fn record_field_handling(handled_at: DateTime<Utc>) -> Action {
    Action::RecordFieldHandling(parse_field_handling(NOTES, handled_at, &[PHOTO.into()]).unwrap())
}

pub fn escalate() -> Action {
    Action::Escalate(parse_escalate(REASON).unwrap())
}

pub fn close(resolution: Resolution) -> Action {
    close_as(resolution, None)
}

pub fn close_as(resolution: Resolution, duplicate_of: Option<&str>) -> Action {
    Action::Close(parse_close(resolution, SUMMARY, duplicate_of).unwrap())
}

pub fn reopen() -> Action {
    Action::Reopen(parse_reopen(REASON).unwrap())
}

/// A rating of `score`, 1 to 5.
pub fn rate(score: i32) -> Action {
    Action::Rate(parse_rate(score, Some(COMMENT), None).unwrap())
}

/// One valid instance of every action except `Submit`, aimed at a case with DPU.
pub fn every_action_but_submit() -> Vec<Action> {
    vec![
        verify(),
        reject(RejectReason::Spam),
        assign_officer("DPU", "officer-7"),
        transfer("DLH"),
        respond(),
        request_info(),
        provide_info(),
        record_field_handling(now()),
        escalate(),
        close(Resolution::Resolved),
        reopen(),
        rate(5),
        add_note(NoteVisibility::Internal),
        record_breach(Leg::Respond, now()),
        auto_close(),
    ]
}

pub fn add_note(visibility: NoteVisibility) -> Action {
    Action::AddNote(parse_note(NOTE, visibility).unwrap())
}

pub fn record_breach(leg: Leg, deadline: DateTime<Utc>) -> Action {
    Action::RecordBreach(RecordBreach { leg, deadline })
}

pub fn auto_close() -> Action {
    Action::AutoClose(AutoClose {
        waiting_since: now(),
    })
}

// ---- events -----------------------------------------------------------------------

/// The event a valid report produces, its fields and reporter taken as given.
pub fn submitted_from(s: SubmitInput) -> ComplaintEvent {
    ComplaintEvent::Submitted {
        complaint_id: s.complaint_id,
        channel: s.channel,
        category: s.category,
        priority: s.priority.unwrap_or(Priority::Normal),
        title: s.title,
        description: s.description,
        location: s.location,
        reporter: s.reporter,
        anonymous: s.anonymous,
        attachments: s.attachments,
        external_ref: s.external_ref,
        tracking_code_hash: s.tracking_code_hash,
        number: None,
        occurred_at: now(),
    }
}

/// [`CITIZEN`]'s report, linked to their account.
pub fn submitted() -> ComplaintEvent {
    submitted_from(SubmitInput {
        reporter: Some(Reporter {
            subject: Some(CITIZEN.into()),
            ..reporter_details()
        }),
        ..submit_input()
    })
}

pub fn verified() -> ComplaintEvent {
    ComplaintEvent::Verified {
        priority: Priority::Normal,
        category: "ROAD_DAMAGE".into(),
        note: None,
        occurred_at: now(),
    }
}

pub fn rejected(reason: RejectReason) -> ComplaintEvent {
    ComplaintEvent::Rejected {
        reason,
        note: None,
        occurred_at: now(),
    }
}

pub fn assigned(opd: &str) -> ComplaintEvent {
    ComplaintEvent::Assigned {
        opd: opd.into(),
        officer_id: None,
        note: None,
        occurred_at: now(),
    }
}

pub fn officer_assigned(opd: &str, officer: &str) -> ComplaintEvent {
    ComplaintEvent::Assigned {
        opd: opd.into(),
        officer_id: Some(officer.into()),
        note: None,
        occurred_at: now(),
    }
}

pub fn transferred(from_opd: &str, to_opd: &str) -> ComplaintEvent {
    ComplaintEvent::Transferred {
        from_opd: from_opd.into(),
        to_opd: to_opd.into(),
        reason: REASON.into(),
        reason_code: Some(REASON_CODE.into()),
        occurred_at: now(),
    }
}

pub fn responded() -> ComplaintEvent {
    ComplaintEvent::Responded {
        message: MESSAGE.into(),
        template: None,
        occurred_at: now(),
    }
}

pub fn info_requested() -> ComplaintEvent {
    ComplaintEvent::InfoRequested {
        question: QUESTION.into(),
        template: None,
        occurred_at: now(),
    }
}

pub fn info_provided() -> ComplaintEvent {
    ComplaintEvent::InfoProvided {
        answer: ANSWER.into(),
        attachments: vec![],
        occurred_at: now(),
    }
}

pub fn field_handled(handled_at: DateTime<Utc>) -> ComplaintEvent {
    ComplaintEvent::FieldHandled {
        notes: NOTES.into(),
        handled_at,
        photos: vec![PHOTO.into()],
        occurred_at: now(),
    }
}

pub fn escalated(level: u32) -> ComplaintEvent {
    ComplaintEvent::Escalated {
        level,
        reason: REASON.into(),
        handoff_loop: None,
        occurred_at: now(),
    }
}

pub fn closed(resolution: Resolution) -> ComplaintEvent {
    closed_as(resolution, None)
}

pub fn closed_as(resolution: Resolution, duplicate_of: Option<&str>) -> ComplaintEvent {
    ComplaintEvent::Closed {
        resolution,
        summary: SUMMARY.into(),
        duplicate_of: duplicate_of.map(str::to_string),
        template: None,
        occurred_at: now(),
    }
}

pub fn reopened() -> ComplaintEvent {
    ComplaintEvent::Reopened {
        reason: REASON.into(),
        occurred_at: now(),
    }
}

pub fn rated(score: u8) -> ComplaintEvent {
    ComplaintEvent::Rated {
        score,
        comment: Some(COMMENT.into()),
        occurred_at: now(),
    }
}

pub fn note_added(visibility: NoteVisibility) -> ComplaintEvent {
    ComplaintEvent::NoteAdded {
        text: NOTE.into(),
        visibility,
        template: None,
        occurred_at: now(),
    }
}

/// `event`, restamped to have occurred at `instant`.
pub fn at(mut event: ComplaintEvent, instant: DateTime<Utc>) -> ComplaintEvent {
    match &mut event {
        ComplaintEvent::Submitted { occurred_at, .. }
        | ComplaintEvent::Verified { occurred_at, .. }
        | ComplaintEvent::Rejected { occurred_at, .. }
        | ComplaintEvent::LocationCorrected { occurred_at, .. }
        | ComplaintEvent::Assigned { occurred_at, .. }
        | ComplaintEvent::Transferred { occurred_at, .. }
        | ComplaintEvent::ReturnedToCommandCenter { occurred_at, .. }
        | ComplaintEvent::Responded { occurred_at, .. }
        | ComplaintEvent::InfoRequested { occurred_at, .. }
        | ComplaintEvent::InfoProvided { occurred_at, .. }
        | ComplaintEvent::FieldHandled { occurred_at, .. }
        | ComplaintEvent::Escalated { occurred_at, .. }
        | ComplaintEvent::Closed { occurred_at, .. }
        | ComplaintEvent::Reopened { occurred_at, .. }
        | ComplaintEvent::Rated { occurred_at, .. }
        | ComplaintEvent::DuplicateLinked { occurred_at, .. }
        | ComplaintEvent::DuplicateUnlinked { occurred_at, .. }
        | ComplaintEvent::SlaBreached { occurred_at, .. }
        | ComplaintEvent::AutoClosed { occurred_at, .. }
        | ComplaintEvent::NoteAdded { occurred_at, .. }
        | ComplaintEvent::AttachmentAdded { occurred_at, .. }
        | ComplaintEvent::ReporterDataErased { occurred_at, .. }
        | ComplaintEvent::SurveyAnswered { occurred_at, .. }
        | ComplaintEvent::NotificationsOptedOut { occurred_at }
        | ComplaintEvent::CalendarCorrected { occurred_at, .. } => *occurred_at = instant,
    }
    event
}

// ---- histories: the events that put a case in each status ---------------------------

/// `history` followed by `more`.
pub fn and(
    mut history: Vec<ComplaintEvent>,
    more: impl IntoIterator<Item = ComplaintEvent>,
) -> Vec<ComplaintEvent> {
    history.extend(more);
    history
}

/// SUBMITTED.
pub fn submitted_case() -> Vec<ComplaintEvent> {
    vec![submitted()]
}

/// VERIFIED, not yet dispatched.
pub fn verified_case() -> Vec<ComplaintEvent> {
    and(submitted_case(), [verified()])
}

/// REJECTED by the Command Center.
pub fn rejected_case() -> Vec<ComplaintEvent> {
    and(submitted_case(), [rejected(RejectReason::Spam)])
}

/// ASSIGNED to DPU, no officer yet.
pub fn assigned_case() -> Vec<ComplaintEvent> {
    and(verified_case(), [assigned("DPU")])
}

/// IN_PROGRESS at DPU.
pub fn in_progress_case() -> Vec<ComplaintEvent> {
    and(assigned_case(), [responded()])
}

/// WAITING_FOR_INFO: DPU asked the reporter a question while working on it.
pub fn waiting_case() -> Vec<ComplaintEvent> {
    and(in_progress_case(), [info_requested()])
}

/// CLOSED by DPU as RESOLVED (first closure, unrated).
pub fn closed_case() -> Vec<ComplaintEvent> {
    and(in_progress_case(), [closed(Resolution::Resolved)])
}

/// CLOSED and rated by the reporter.
pub fn rated_case() -> Vec<ComplaintEvent> {
    and(closed_case(), [rated(4)])
}

/// Reopened after its first closure: back with DPU, ASSIGNED.
pub fn reopened_case() -> Vec<ComplaintEvent> {
    and(closed_case(), [reopened()])
}

/// The state the events fold into.
pub fn fold(events: Vec<ComplaintEvent>) -> Case {
    let mut complaint = Complaint::default();
    for event in events {
        complaint.apply(event);
    }
    complaint.0.expect("the history starts with Submitted")
}

// ---- expected errors ------------------------------------------------------------------

pub fn transition(action: &str, status: Status) -> ComplaintError {
    ComplaintError::InvalidTransition {
        action: action.into(),
        status,
    }
}

/// FORBIDDEN for an actor with no tie to the case's OPD (or a case with no OPD).
pub fn denied(actor: &Actor, verb: &str) -> ComplaintError {
    ComplaintError::forbidden(format!("{} may not {verb} this complaint", actor.role))
}

/// FORBIDDEN for an OPD actor on a case that is with `case_opd`.
pub fn denied_at(actor: &Actor, verb: &str, case_opd: &str) -> ComplaintError {
    ComplaintError::forbidden(format!(
        "{} may not {verb} this complaint (the case is with {case_opd})",
        actor.role
    ))
}

/// The tracking code the server made for the test's case.
pub const CODE: &str = "a-code-the-server-made-for-this-case";

/// `events` of a case submitted with `CODE` (its hash, as the server keeps it).
pub fn with_code(mut events: Vec<ComplaintEvent>) -> Vec<ComplaintEvent> {
    if let ComplaintEvent::Submitted {
        tracking_code_hash, ..
    } = &mut events[0]
    {
        *tracking_code_hash = Some(aduan_domain::tracking::hash(CODE));
    }
    events
}
