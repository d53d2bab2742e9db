//! Time charged to whoever held a case (issue 25): legs measured on the
//! business calendar, across a holiday, a weekend and a wait for the citizen.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

mod common;

use aduan_domain::handoffs::{legs, HoldLeg, LegEnd, COMMAND_CENTER};
use aduan_domain::sla::BusinessCalendar;
use aduan_domain::*;
use chrono::{DateTime, NaiveDate, TimeZone, Utc, Weekday};
use common::*;

const WITA: i32 = 8 * 3600;
const HOUR: i64 = 3600;

/// Monday to Friday 08:00-16:00 WITA; Nyepi (Thursday 19 March 2026) off.
fn makassar() -> BusinessCalendar {
    let weekdays = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
    ];
    let nyepi = NaiveDate::from_ymd_opt(2026, 3, 19).unwrap();
    BusinessCalendar::new(WITA, &weekdays, &[(8 * 60, 16 * 60)], [nyepi]).unwrap()
}

fn wita(day: u32, hour: u32) -> DateTime<Utc> {
    chrono::FixedOffset::east_opt(WITA)
        .unwrap()
        .with_ymd_and_hms(2026, 3, day, hour, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn transferred_for(from: &str, to: &str, code: &str) -> ComplaintEvent {
    ComplaintEvent::Transferred {
        from_opd: from.into(),
        to_opd: to.into(),
        reason: REASON.into(),
        reason_code: Some(code.into()),
        occurred_at: now(),
    }
}

fn returned_from(from: &str) -> ComplaintEvent {
    ComplaintEvent::ReturnedToCommandCenter {
        from_opd: from.into(),
        reason_code: "PERLU_KOORDINASI".into(),
        note: None,
        occurred_at: now(),
    }
}

fn leg(holder: &str, from: DateTime<Utc>, to: Option<DateTime<Utc>>, hours: i64) -> HoldLeg {
    HoldLeg {
        holder: holder.into(),
        from,
        to,
        working_seconds: hours * HOUR,
        ended: LegEnd::Held,
        handed_to: None,
        reason_code: None,
        looped: false,
        breaches: 0,
    }
}

fn handed(mut l: HoldLeg, ended: LegEnd, to: Option<&str>, code: Option<&str>) -> HoldLeg {
    l.ended = ended;
    l.handed_to = to.map(str::to_string);
    l.reason_code = code.map(str::to_string);
    l
}

/// Submitted Monday 16 March 09:00; dispatched to DPU at 11:00; transferred
/// to DLH Wednesday 10:00; DLH asks the citizen Friday 08:00, answered 10:00,
/// returns it Friday 12:00; dispatched to DISHUB Monday 23rd 09:00 (its
/// officer named at 10:00), closed 15:00.
fn story() -> Vec<ComplaintEvent> {
    vec![
        at(submitted(), wita(16, 9)),
        at(verified(), wita(16, 10)),
        at(assigned("DPU"), wita(16, 11)),
        at(
            transferred_for("DPU", "DLH", "BUKAN_WEWENANG"),
            wita(18, 10),
        ),
        at(info_requested(), wita(20, 8)),
        at(info_provided(), wita(20, 10)),
        at(returned_from("DLH"), wita(20, 12)),
        at(assigned("DISHUB"), wita(23, 9)),
        at(officer_assigned("DISHUB", "petugas-1"), wita(23, 10)),
        at(closed(Resolution::Resolved), wita(23, 15)),
    ]
}

#[test]
fn each_holder_is_charged_its_working_time_across_a_holiday_a_weekend_and_a_wait() {
    let got = legs(&story(), &makassar(), wita(30, 9));
    let want = vec![
        // 09:00-11:00.
        handed(
            leg(COMMAND_CENTER, wita(16, 9), Some(wita(16, 11)), 2),
            LegEnd::Dispatched,
            Some("DPU"),
            None,
        ),
        // Monday 11-16 (5 h), Tuesday 8 h, Wednesday 8-10 (2 h).
        handed(
            leg("DPU", wita(16, 11), Some(wita(18, 10)), 15),
            LegEnd::Transferred,
            Some("DLH"),
            Some("BUKAN_WEWENANG"),
        ),
        // Wednesday 10-16 (6 h), Nyepi nothing, Friday 8-12 less the wait
        // 8-10 (2 h).
        handed(
            leg("DLH", wita(18, 10), Some(wita(20, 12)), 8),
            LegEnd::Returned,
            Some(COMMAND_CENTER),
            Some("PERLU_KOORDINASI"),
        ),
        // Friday 12-16 (4 h), the weekend nothing, Monday 8-9 (1 h).
        handed(
            leg(COMMAND_CENTER, wita(20, 12), Some(wita(23, 9)), 5),
            LegEnd::Dispatched,
            Some("DISHUB"),
            None,
        ),
        // Monday 9-15; naming its officer is no hand-off.
        handed(
            leg("DISHUB", wita(23, 9), Some(wita(23, 15)), 6),
            LegEnd::Closed,
            None,
            None,
        ),
    ];
    assert_eq!(got, want);
}

#[test]
fn a_held_leg_is_measured_up_to_now_and_an_open_wait_is_not_charged() {
    let events = vec![
        at(submitted(), wita(16, 9)),
        at(assigned("DPU"), wita(16, 10)),
        at(info_requested(), wita(16, 12)),
    ];
    let got = legs(&events, &makassar(), wita(17, 12));
    assert_eq!(got.len(), 2);
    assert_eq!(got[1], leg("DPU", wita(16, 10), None, 2));
}

#[test]
fn a_reopened_case_goes_back_to_its_last_holder() {
    let events = vec![
        at(submitted(), wita(16, 9)),
        at(assigned("DPU"), wita(16, 10)),
        at(closed(Resolution::Resolved), wita(16, 12)),
        at(reopened(), wita(17, 9)),
    ];
    let got = legs(&events, &makassar(), wita(17, 11));
    let holders: Vec<(&str, LegEnd, i64)> = got
        .iter()
        .map(|l| (l.holder.as_str(), l.ended, l.working_seconds / HOUR))
        .collect();
    assert_eq!(
        holders,
        [
            (COMMAND_CENTER, LegEnd::Dispatched, 1),
            ("DPU", LegEnd::Closed, 2),
            ("DPU", LegEnd::Held, 2)
        ]
    );
}

#[test]
fn the_hand_off_that_closes_a_loop_is_marked_by_its_escalation_not_its_time() {
    // All at one instant: only the escalation's place in the log tells.
    let found = aduan_domain::HandoffLoop {
        revisited: Some("DPU".into()),
        holders: vec!["DPU".into(), "DLH".into(), "DPU".into()],
        handoffs: 2,
        over_limit: false,
    };
    let events = vec![
        submitted(),
        assigned("DPU"),
        transferred_for("DPU", "DLH", "BUKAN_WEWENANG"),
        transferred_for("DLH", "DPU", "SALAH_KATEGORI"),
        ComplaintEvent::Escalated {
            level: 1,
            reason: found.describe(),
            handoff_loop: Some(found),
            occurred_at: now(),
        },
    ];
    let got = legs(&events, &makassar(), now());
    let looped: Vec<(&str, bool)> = got.iter().map(|l| (l.holder.as_str(), l.looped)).collect();
    assert_eq!(
        looped,
        [
            (COMMAND_CENTER, false),
            ("DPU", false),
            ("DLH", true),
            ("DPU", false)
        ]
    );
}

fn breach(
    leg: aduan_domain::sla::Leg,
    deadline: DateTime<Utc>,
    at_: DateTime<Utc>,
) -> ComplaintEvent {
    ComplaintEvent::SlaBreached {
        leg,
        deadline,
        level: 1,
        occurred_at: at_,
    }
}

#[test]
fn a_breach_is_charged_to_whoever_held_the_case_when_its_deadline_passed() {
    use aduan_domain::sla::Leg;
    let mut events = story();
    // DPU let the follow-up run out on Tuesday 17th; the watcher recorded it
    // only after DPU had handed the case on. The desk's routing deadline
    // passed on Monday 23rd 08:00, before DISHUB took it at 09:00.
    events.insert(4, breach(Leg::Respond, wita(17, 15), wita(18, 11)));
    events.insert(8, breach(Leg::Reroute, wita(23, 8), wita(23, 8)));
    let got = legs(&events, &makassar(), wita(30, 9));
    let charged: Vec<(&str, u32)> = got
        .iter()
        .map(|l| (l.holder.as_str(), l.breaches))
        .collect();
    assert_eq!(
        charged,
        [
            (COMMAND_CENTER, 0),
            ("DPU", 1),
            ("DLH", 0),
            (COMMAND_CENTER, 1),
            ("DISHUB", 0)
        ]
    );
}
