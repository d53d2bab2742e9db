//! The calendar with history: changes hold from a date, a case counts in the
//! calendar known when its policy was chosen, and a correction of the past
//! moves only the cases it was applied to: each carries `CalendarCorrected`
//! in its own log (after a what-if named them).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use aduan_domain::sla::*;
use aduan_domain::{ComplaintEvent, Location, Priority};

const SHIPPED: &str = include_str!("../../../config/sla.toml");

/// WITA wall-clock time in March 2026 (2 March is a Monday).
fn wita(day: u32, hour: u32) -> DateTime<Utc> {
    chrono::FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .with_ymd_and_hms(2026, 3, day, hour, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn case(id: &str, submitted: DateTime<Utc>, dispatched: DateTime<Utc>) -> Vec<ComplaintEvent> {
    vec![
        ComplaintEvent::Submitted {
            complaint_id: id.into(),
            channel: aduan_domain::Channel::Web,
            category: "ROAD_DAMAGE".into(),
            priority: Priority::Normal,
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
            occurred_at: submitted,
        },
        ComplaintEvent::Assigned {
            opd: "DPU".into(),
            officer_id: None,
            note: None,
            occurred_at: dispatched,
        },
    ]
}

/// A day off on Tuesday 3 March, decided on `decided` (effective 1 March).
fn holiday_on_the_3rd(decided: DateTime<Utc>) -> CalendarChange {
    CalendarChange {
        version: 2,
        effective_from: wita(1, 0),
        decided_at: decided,
        reason: "cuti bersama missing from the list".into(),
        working_days: None,
        working_hours: None,
        add_holidays: vec![],
        add_local_holidays: vec![NaiveDate::from_ymd_opt(2026, 3, 3).unwrap()],
        remove_holidays: vec![],
    }
}

fn config(changes: Vec<CalendarChange>) -> SlaConfig {
    let mut config: SlaConfig = toml::from_str(SHIPPED).unwrap();
    config.calendar_changes = changes;
    config
}

fn respond(events: &[ComplaintEvent], config: &SlaConfig, now: DateTime<Utc>) -> LegTimer {
    let book = PolicyBook::new(config.policies.clone()).unwrap();
    let calendars = config.calendars().unwrap();
    timers(events, &book, &calendars, now)
        .into_iter()
        .find(|t| t.leg == Leg::Respond)
        .unwrap()
}

#[test]
fn a_correction_decided_later_moves_no_case_it_was_not_applied_to() {
    // Dispatched Monday 2 March 10:00; the 3rd made a day off on 30 March.
    let events = case("c-1", wita(2, 9), wita(2, 10));
    let before = respond(&events, &config(vec![]), wita(4, 10));
    let corrected = config(vec![holiday_on_the_3rd(wita(30, 9))]);
    let after = respond(&events, &corrected, wita(4, 10));
    assert_eq!(
        after, before,
        "a rebuild after the change recomputes the same"
    );
    assert_eq!(after.calendar_version, 1);
    // With the decision in its log, the case counts in the corrected
    // calendar: Monday 10:00-16:00 and Wednesday 08:00-10:00 (the 3rd off),
    // not 14 h.
    let mut applied = events.clone();
    applied.push(ComplaintEvent::CalendarCorrected {
        version: 2,
        reason: "cuti bersama missing from the list".into(),
        occurred_at: wita(30, 10),
    });
    let named = respond(&applied, &corrected, wita(4, 10));
    assert_eq!(named.calendar_version, 2);
    assert_eq!(before.used_seconds, 14 * 3600);
    assert_eq!(named.used_seconds, 7 * 3600);
    assert_eq!(named.deadline, before.deadline + chrono::Duration::days(1));
    // A later version decided after the case was chosen still does not
    // reach it: the correction names version 2.
    let mut third = holiday_on_the_3rd(wita(31, 9));
    third.version = 3;
    third.add_local_holidays = vec![NaiveDate::from_ymd_opt(2026, 3, 4).unwrap()];
    let mut both = corrected.clone();
    both.calendar_changes.push(third);
    assert_eq!(respond(&applied, &both, wita(4, 10)).calendar_version, 2);
}

#[test]
fn a_change_known_in_advance_holds_from_its_date_for_cases_chosen_after_it() {
    // Decided on 1 March: working hours 07:00-15:00 from Monday 9 March.
    let change = CalendarChange {
        version: 2,
        effective_from: wita(9, 0),
        decided_at: wita(1, 0),
        reason: "Ramadan working hours".into(),
        working_days: None,
        working_hours: Some(vec!["07:00-15:00".into()]),
        add_holidays: vec![],
        add_local_holidays: vec![],
        remove_holidays: vec![],
    };
    let config = config(vec![change]);
    let early = respond(&case("c-1", wita(2, 9), wita(2, 10)), &config, wita(2, 15));
    let late = respond(&case("c-2", wita(9, 7), wita(9, 8)), &config, wita(9, 15));
    assert_eq!(early.calendar_version, 1);
    assert_eq!(early.used_seconds, 4 * 3600); // 10-12, 13-15
    assert_eq!(late.calendar_version, 2);
    assert_eq!(late.used_seconds, 7 * 3600); // 08:00-15:00 without a break
}

#[test]
fn a_what_if_names_the_cases_a_correction_would_move() {
    let config = config(vec![holiday_on_the_3rd(wita(30, 9))]);
    let book = PolicyBook::new(config.policies.clone()).unwrap();
    let calendars = config.calendars().unwrap();
    let corrected = calendars.as_if_known(2).unwrap();
    let period = Period {
        from: wita(1, 0),
        to: wita(14, 0),
    };
    let mut replay = Replay::new(
        period,
        Side {
            book: &book,
            calendar: &calendars,
        },
        Side {
            book: &book,
            calendar: &corrected,
        },
    );
    replay.add("c-1", &case("c-1", wita(2, 9), wita(2, 10))); // spans the 3rd
    replay.add("c-2", &case("c-2", wita(9, 9), wita(9, 10))); // after it
    let c = replay.finish();
    assert_eq!(c.moved, ["c-1"]);
}

#[test]
fn calendar_versions_go_in_order() {
    let mut change = holiday_on_the_3rd(wita(30, 9));
    change.version = 3;
    assert_eq!(
        config(vec![change]).calendars(),
        Err(ConfigError::CalendarChange(3))
    );
}
