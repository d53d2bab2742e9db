//! SLA timers computed from a case's events, on the shipped Makassar settings
//! (Monday to Friday, 08:00-12:00 and 13:00-16:00 WITA: 7 working hours a day).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

use chrono::{DateTime, Duration, TimeZone, Utc};

use aduan_domain::sla::*;
use aduan_domain::{ComplaintEvent, Location, Priority, Resolution};

const SHIPPED: &str = include_str!("../../../config/sla.toml");

fn settings() -> (BusinessCalendar, PolicyBook) {
    toml::from_str::<SlaConfig>(SHIPPED)
        .unwrap()
        .build()
        .unwrap()
}

/// WITA wall-clock time in March 2026 (1 March is a Sunday).
fn wita(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    chrono::FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .with_ymd_and_hms(2026, 3, day, hour, minute, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn submitted(at: DateTime<Utc>, priority: Priority) -> ComplaintEvent {
    ComplaintEvent::Submitted {
        complaint_id: "c-1".into(),
        channel: aduan_domain::Channel::Web,
        category: "ROAD_DAMAGE".into(),
        priority,
        title: "Jalan berlubang".into(),
        description: "Lubang".into(),
        location: Location {
            latitude: -5.1,
            longitude: 119.4,
            address: None,
            kecamatan: None,
            kelurahan: None,
        },
        reporter: None,
        anonymous: false,
        attachments: vec![],
        external_ref: None,
        tracking_code_hash: None,
        number: None,
        occurred_at: at,
    }
}

fn assigned(at: DateTime<Utc>) -> ComplaintEvent {
    ComplaintEvent::Assigned {
        opd: "DPU".into(),
        officer_id: None,
        note: None,
        occurred_at: at,
    }
}

fn transferred(at: DateTime<Utc>) -> ComplaintEvent {
    ComplaintEvent::Transferred {
        from_opd: "DPU".into(),
        to_opd: "DLH".into(),
        reason: "wrong OPD".into(),
        reason_code: None,
        occurred_at: at,
    }
}

fn responded(at: DateTime<Utc>) -> ComplaintEvent {
    ComplaintEvent::Responded {
        message: "On our way".into(),
        template: None,
        occurred_at: at,
    }
}

fn info_requested(at: DateTime<Utc>) -> ComplaintEvent {
    ComplaintEvent::InfoRequested {
        question: "Which street?".into(),
        template: None,
        occurred_at: at,
    }
}

fn info_provided(at: DateTime<Utc>) -> ComplaintEvent {
    ComplaintEvent::InfoProvided {
        answer: "Jl. Veteran".into(),
        attachments: vec![],
        occurred_at: at,
    }
}

fn closed(at: DateTime<Utc>) -> ComplaintEvent {
    ComplaintEvent::Closed {
        resolution: Resolution::Resolved,
        summary: "Fixed".into(),
        duplicate_of: None,
        template: None,
        occurred_at: at,
    }
}

fn reopened(at: DateTime<Utc>) -> ComplaintEvent {
    ComplaintEvent::Reopened {
        reason: "Still broken".into(),
        occurred_at: at,
    }
}

fn leg(events: &[ComplaintEvent], leg: Leg, now: DateTime<Utc>) -> LegTimer {
    let (calendar, book) = settings();
    timers(events, &book, &calendar, now)
        .into_iter()
        .find(|t| t.leg == leg)
        .unwrap_or_else(|| panic!("no {leg:?} timer"))
}

#[test]
fn dispatch_within_three_working_days_is_met() {
    // Monday 09:00: 6 h Monday, 7 Tuesday, 7 Wednesday, 1 Thursday = 21 h.
    let events = [
        submitted(wita(2, 9, 0), Priority::Normal),
        assigned(wita(3, 10, 0)),
    ];
    let t = leg(&events, Leg::Dispatch, wita(6, 12, 0));
    assert_eq!(t.deadline, wita(5, 9, 0));
    assert_eq!(t.state, TimerState::Met);
    assert_eq!(t.used(), Duration::hours(8)); // Monday 6 h, Tuesday 08:00-10:00
    assert_eq!(t.stopped_at, Some(wita(3, 10, 0)));
}

#[test]
fn an_unanswered_follow_up_turns_at_risk_then_breached() {
    // Dispatched Tuesday 3 March 10:00; 5 working days = 35 h -> Tuesday 10 March 10:00.
    let events = [
        submitted(wita(2, 9, 0), Priority::Normal),
        assigned(wita(3, 10, 0)),
    ];
    assert_eq!(
        leg(&events, Leg::Respond, wita(4, 9, 0)).state,
        TimerState::OnTrack
    );
    let risky = leg(&events, Leg::Respond, wita(9, 15, 0)); // 32 of 35 h used
    assert_eq!(risky.deadline, wita(10, 10, 0));
    assert_eq!(risky.state, TimerState::AtRisk);
    assert_eq!(
        leg(&events, Leg::Respond, wita(10, 10, 1)).state,
        TimerState::Breached
    );
    // A timer computed at one instant tells its state at later ones without events.
    let early = leg(&events, Leg::Respond, wita(4, 9, 0));
    assert_eq!(early.at_risk_at, wita(9, 10, 0)); // 28 of 35 working hours
    for now in [
        wita(5, 9, 0),
        wita(9, 10, 0),
        wita(10, 10, 0),
        wita(10, 10, 1),
    ] {
        assert_eq!(
            early.state_at(now),
            leg(&events, Leg::Respond, now).state,
            "at {now}"
        );
    }
}

#[test]
fn waiting_for_the_citizen_pauses_every_clock_and_the_explanation_says_why() {
    let events = [
        submitted(wita(2, 9, 0), Priority::Normal),
        assigned(wita(3, 10, 0)),
        info_requested(wita(4, 8, 0)),
        info_provided(wita(6, 8, 0)), // two working days of 7 h waiting
    ];
    let t = leg(&events, Leg::Respond, wita(6, 9, 0));
    assert_eq!(t.deadline, wita(12, 10, 0)); // 14 working hours later than unpaused
    assert_eq!(t.used(), Duration::hours(6)); // Tuesday 5 h, Friday 1 h
    assert_eq!(t.explanation.paused.len(), 1);
    assert!(t.explanation.paused[0]
        .reason
        .contains("waiting for the citizen"));
    let still_waiting = leg(&events[..3], Leg::Respond, wita(5, 12, 0));
    assert!(still_waiting.paused);
    assert_eq!(still_waiting.used(), Duration::hours(5));
}

#[test]
fn a_transfer_restarts_the_follow_up_clock_but_no_other() {
    let events = [
        submitted(wita(2, 9, 0), Priority::Normal),
        assigned(wita(3, 10, 0)),
        transferred(wita(5, 10, 0)),
    ];
    let respond = leg(&events, Leg::Respond, wita(5, 11, 0));
    assert_eq!(respond.started_at, wita(5, 10, 0));
    assert_eq!(respond.used(), Duration::hours(1));
    assert_eq!(
        leg(&events, Leg::Dispatch, wita(5, 11, 0)).stopped_at,
        Some(wita(3, 10, 0))
    );
    assert_eq!(
        leg(&events, Leg::Resolve, wita(5, 11, 0)).started_at,
        wita(2, 9, 0)
    );
}

#[test]
fn a_response_stops_only_the_follow_up_clock() {
    let events = [
        submitted(wita(2, 9, 0), Priority::Normal),
        assigned(wita(3, 10, 0)),
        responded(wita(4, 9, 0)),
    ];
    assert_eq!(
        leg(&events, Leg::Respond, wita(20, 9, 0)).state,
        TimerState::Met
    );
    let resolve = leg(&events, Leg::Resolve, wita(20, 9, 0));
    assert_eq!(resolve.stopped_at, None);
    assert_eq!(resolve.state, TimerState::OnTrack);
}

#[test]
fn resolution_runs_sixty_calendar_days_and_time_spent_closed_does_not_count() {
    let events = [
        submitted(wita(2, 9, 0), Priority::Normal),
        assigned(wita(3, 10, 0)),
        closed(wita(4, 9, 0)),
        reopened(wita(9, 9, 0)), // five calendar days closed
    ];
    let t = leg(&events, Leg::Resolve, wita(9, 10, 0));
    assert_eq!(t.target_seconds, Duration::days(60).num_seconds());
    assert_eq!(t.deadline, wita(2, 9, 0) + Duration::days(65));
    assert_eq!(t.used(), Duration::days(2) + Duration::hours(1));
    let done = [&events[..], &[closed(wita(10, 9, 0))]].concat();
    assert_eq!(
        leg(&done, Leg::Resolve, wita(30, 0, 0)).state,
        TimerState::Met
    );
}

#[test]
fn emergencies_run_on_calendar_time_around_the_clock() {
    // Saturday night: 15 calendar minutes to dispatch.
    let events = [submitted(wita(7, 23, 0), Priority::Emergency)];
    let t = leg(&events, Leg::Dispatch, wita(7, 23, 10));
    assert_eq!(t.deadline, wita(7, 23, 15));
    assert_eq!(t.state, TimerState::OnTrack); // 10 of 15 minutes: 67 %
    assert_eq!(
        leg(&events, Leg::Dispatch, wita(7, 23, 13)).state,
        TimerState::AtRisk
    ); // 87 %
    assert_eq!(
        leg(&events, Leg::Dispatch, wita(7, 23, 16)).state,
        TimerState::Breached
    );
}

#[test]
fn a_policy_change_after_dispatch_does_not_move_the_cases_deadlines() {
    let (calendar, book) = settings();
    let mut v2 = book.versions[0].clone();
    v2.version = 2;
    v2.effective_from = wita(4, 0, 0);
    for rule in &mut v2.rules {
        rule.respond = Target {
            amount: 1,
            unit: Unit::WorkingDays,
        };
    }
    let book = PolicyBook::new(vec![book.versions[0].clone(), v2]).unwrap();
    let old_case = [
        submitted(wita(2, 9, 0), Priority::Normal),
        assigned(wita(3, 10, 0)),
    ];
    let new_case = [
        submitted(wita(4, 9, 0), Priority::Normal),
        assigned(wita(4, 10, 0)),
    ];
    let respond = |events: &[ComplaintEvent]| {
        timers(events, &book, &calendar, wita(5, 9, 0))
            .into_iter()
            .find(|t| t.leg == Leg::Respond)
            .unwrap()
    };
    assert_eq!(
        (
            respond(&old_case).policy_version,
            respond(&old_case).deadline
        ),
        (1, wita(10, 10, 0))
    );
    assert_eq!(
        (
            respond(&new_case).policy_version,
            respond(&new_case).deadline
        ),
        (2, wita(5, 10, 0))
    );
}

#[test]
fn replaying_the_same_events_gives_the_same_timers() {
    let (calendar, book) = settings();
    let events = [
        submitted(wita(2, 9, 0), Priority::High),
        assigned(wita(3, 10, 0)),
        info_requested(wita(3, 11, 0)),
    ];
    let now = wita(6, 12, 0);
    assert_eq!(
        timers(&events, &book, &calendar, now),
        timers(&events, &book, &calendar, now)
    );
    assert!(timers(&[], &book, &calendar, now).is_empty());
}

#[test]
fn each_timer_says_since_when_it_is_in_its_state() {
    let events = [
        submitted(wita(2, 9, 0), Priority::Normal),
        assigned(wita(3, 10, 0)),
    ];
    let dispatch = leg(&events, Leg::Dispatch, wita(4, 9, 0));
    assert_eq!(
        (dispatch.state, dispatch.state_since),
        (TimerState::Met, wita(3, 10, 0))
    );
    let respond = leg(&events, Leg::Respond, wita(4, 9, 0));
    assert_eq!(
        (respond.state, respond.state_since),
        (TimerState::OnTrack, wita(3, 10, 0))
    );
    // Computed later, the same clock dates its new states from when time reached them.
    assert_eq!(
        leg(&events, Leg::Respond, wita(9, 15, 0)).state_since,
        wita(9, 10, 0)
    );
    assert_eq!(
        leg(&events, Leg::Respond, wita(11, 9, 0)).state_since,
        wita(10, 10, 0)
    );
    // And a stored timer tells the same at read time, without its events.
    for now in [wita(4, 9, 0), wita(9, 15, 0), wita(11, 9, 0)] {
        let state = respond.state_at(now);
        assert_eq!(
            state_since(
                respond.state,
                respond.state_since,
                state,
                respond.deadline,
                respond.at_risk_at
            ),
            leg(&events, Leg::Respond, now).state_since,
            "at {now}"
        );
    }
}

#[test]
fn a_reopened_clock_is_on_track_since_the_reopening() {
    let events = [
        submitted(wita(2, 9, 0), Priority::Normal),
        assigned(wita(3, 10, 0)),
        closed(wita(4, 9, 0)),
    ];
    let closed_leg = leg(&events, Leg::Resolve, wita(5, 9, 0));
    assert_eq!(
        (closed_leg.state, closed_leg.state_since),
        (TimerState::Met, wita(4, 9, 0))
    );
    let reopened = [&events[..], &[reopened(wita(9, 9, 0))]].concat();
    let t = leg(&reopened, Leg::Resolve, wita(9, 10, 0));
    assert_eq!(
        (t.state, t.state_since),
        (TimerState::OnTrack, wita(9, 9, 0))
    );
}

fn case_sla(events: &[ComplaintEvent], now: DateTime<Utc>) -> CaseSla {
    let (calendar, book) = settings();
    CaseSla::of(&timers(events, &book, &calendar, now)).expect("clocks started")
}

#[test]
fn a_case_is_as_late_as_its_worst_clock_at_any_later_instant() {
    let events = [
        submitted(wita(2, 9, 0), Priority::Normal),
        assigned(wita(3, 10, 0)),
    ];
    // Computed at the dispatch: dispatch MET, respond and resolve running.
    let stored = case_sla(&events, wita(3, 10, 0));
    assert_eq!(stored.state, TimerState::OnTrack);
    assert_eq!(stored.deadline, Some(wita(10, 10, 0))); // respond's, before resolve's
    for now in [
        wita(3, 10, 0),
        wita(9, 9, 59),
        wita(9, 10, 0),
        wita(10, 10, 0),
        wita(10, 10, 1),
        wita(31, 0, 0),
    ] {
        let fresh = case_sla(&events, now);
        assert_eq!(stored.state_at(now), fresh.state, "at {now}");
    }
    assert_eq!(stored.state_at(wita(10, 10, 1)), TimerState::Breached);
}

#[test]
fn a_paused_case_keeps_its_state_and_a_closed_one_on_time_is_met() {
    let waiting = [
        submitted(wita(2, 9, 0), Priority::Normal),
        assigned(wita(3, 10, 0)),
        info_requested(wita(3, 11, 0)),
    ];
    let stored = case_sla(&waiting, wita(3, 11, 0));
    assert_eq!(stored.deadline, None, "every running clock is paused");
    assert_eq!(stored.state_at(wita(31, 0, 0)), TimerState::OnTrack);

    let done = [
        submitted(wita(2, 9, 0), Priority::Normal),
        assigned(wita(3, 10, 0)),
        responded(wita(3, 11, 0)),
        closed(wita(4, 9, 0)),
    ];
    let stored = case_sla(&done, wita(4, 9, 0));
    assert_eq!(stored.state, TimerState::Met);
    assert_eq!(stored.state_at(wita(31, 0, 0)), TimerState::Met);
}

#[test]
fn a_late_leg_keeps_the_case_breached_after_it_stops() {
    let events = [
        submitted(wita(2, 9, 0), Priority::Normal),
        assigned(wita(9, 10, 0)), // dispatch was due Thursday 5 March 09:00
        responded(wita(9, 11, 0)),
    ];
    let stored = case_sla(&events, wita(9, 11, 0));
    assert_eq!(stored.state, TimerState::Breached);
    assert_eq!(stored.state_at(wita(9, 12, 0)), TimerState::Breached);
}

fn returned_to_the_desk(at: DateTime<Utc>) -> ComplaintEvent {
    ComplaintEvent::ReturnedToCommandCenter {
        from_opd: "DPU".into(),
        reason_code: "LOKASI_DI_LUAR_WILAYAH".into(),
        note: None,
        occurred_at: at,
    }
}

#[test]
fn a_case_returned_to_the_command_center_runs_the_desks_own_clock() {
    // Returned Wednesday 4 March 10:00; the shipped default gives the desk one
    // working day (7 h): Thursday 10:00.
    let mut events = vec![
        submitted(wita(2, 9, 0), Priority::Normal),
        assigned(wita(3, 10, 0)),
        returned_to_the_desk(wita(4, 10, 0)),
    ];
    let (calendar, book) = settings();
    let before = timers(&events[..2], &book, &calendar, wita(4, 9, 0));
    assert!(
        before.iter().all(|t| t.leg != Leg::Reroute),
        "no return yet"
    );
    let waiting = leg(&events, Leg::Reroute, wita(4, 12, 0));
    assert_eq!(waiting.started_at, wita(4, 10, 0));
    assert_eq!(waiting.target_seconds, 7 * 3600);
    assert_eq!(waiting.deadline, wita(5, 10, 0));
    assert_eq!(waiting.state, TimerState::OnTrack);
    let late = leg(&events, Leg::Reroute, wita(5, 10, 1));
    assert_eq!(late.state, TimerState::Breached);
    let case = CaseSla::of(&timers(&events, &book, &calendar, wita(5, 10, 1))).unwrap();
    assert_eq!(
        case.state,
        TimerState::Breached,
        "the case is as bad as its desk leg"
    );
    // Routed again Thursday 09:00: met, and the next OPD's follow-up starts then.
    events.push(assigned(wita(5, 9, 0)));
    let routed = leg(&events, Leg::Reroute, wita(6, 12, 0));
    assert_eq!(
        (routed.state, routed.stopped_at),
        (TimerState::Met, Some(wita(5, 9, 0)))
    );
    assert_eq!(
        leg(&events, Leg::Respond, wita(6, 12, 0)).started_at,
        wita(5, 9, 0)
    );
    // A second return starts the desk's clock again from that return.
    events.push(returned_to_the_desk(wita(9, 8, 0)));
    let again = leg(&events, Leg::Reroute, wita(9, 9, 0));
    assert_eq!((again.started_at, again.stopped_at), (wita(9, 8, 0), None));
}

#[test]
fn a_rule_may_give_the_desk_its_own_target() {
    let (_, book) = settings();
    let policy = book.in_force_at(wita(2, 9, 0));
    let high = policy.rule_for("ROAD_DAMAGE", Priority::High).unwrap();
    assert_eq!(
        high.target(Leg::Reroute),
        Target {
            amount: 4,
            unit: Unit::WorkingHours
        }
    );
    // A rule without one routes again within its dispatch target.
    let emergency = policy.rule_for("ROAD_DAMAGE", Priority::Emergency).unwrap();
    assert_eq!(emergency.target(Leg::Reroute), emergency.dispatch);
}
