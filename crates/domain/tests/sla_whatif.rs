//! SLA what-if: the same cases under the actual and a proposed policy, on the
//! shipped Makassar settings (Monday to Friday, 7 working hours a day).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

use chrono::{DateTime, TimeZone, Utc};

use aduan_domain::sla::*;
use aduan_domain::{ComplaintEvent, Location, Priority, Resolution};

const SHIPPED: &str = include_str!("../../../config/sla.toml");

fn settings() -> (BusinessCalendar, PolicyBook) {
    toml::from_str::<SlaConfig>(SHIPPED)
        .unwrap()
        .build()
        .unwrap()
}

/// The shipped book with every follow-up target cut to 4 working hours.
fn stricter(book: &PolicyBook) -> PolicyBook {
    let mut versions = book.versions.clone();
    for rule in versions.iter_mut().flat_map(|p| p.rules.iter_mut()) {
        rule.respond = Target {
            amount: 4,
            unit: Unit::WorkingHours,
        };
    }
    PolicyBook::new(versions).unwrap()
}

/// WITA wall-clock time in 2026.
fn wita(month: u32, day: u32, hour: u32) -> DateTime<Utc> {
    chrono::FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .with_ymd_and_hms(2026, month, day, hour, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn submitted(id: &str, category: &str, at: DateTime<Utc>) -> ComplaintEvent {
    ComplaintEvent::Submitted {
        complaint_id: id.into(),
        channel: aduan_domain::Channel::Web,
        category: category.into(),
        priority: Priority::Normal,
        title: "Laporan".into(),
        description: "Laporan warga".into(),
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

fn assigned(opd: &str, at: DateTime<Utc>) -> ComplaintEvent {
    ComplaintEvent::Assigned {
        opd: opd.into(),
        officer_id: None,
        note: None,
        occurred_at: at,
    }
}

fn responded(at: DateTime<Utc>) -> ComplaintEvent {
    ComplaintEvent::Responded {
        message: "Kami tangani".into(),
        template: None,
        occurred_at: at,
    }
}

fn closed(at: DateTime<Utc>) -> ComplaintEvent {
    ComplaintEvent::Closed {
        resolution: Resolution::Resolved,
        summary: "Selesai".into(),
        duplicate_of: None,
        template: None,
        occurred_at: at,
    }
}

/// Five cases; the period is 1-13 March 2026 (no holidays in it).
fn cases() -> Vec<(&'static str, Vec<ComplaintEvent>)> {
    vec![
        // A reply after 7 working hours: met on 5 days, breached on 4 hours.
        (
            "c-1",
            vec![
                submitted("c-1", "ROAD_DAMAGE", wita(3, 2, 9)),
                assigned("DPU", wita(3, 2, 10)),
                responded(wita(3, 3, 10)),
                closed(wita(3, 4, 10)),
            ],
        ),
        // A reply after 1 working hour: met either way.
        (
            "c-2",
            vec![
                submitted("c-2", "ROAD_DAMAGE", wita(3, 2, 9)),
                assigned("DPU", wita(3, 2, 10)),
                responded(wita(3, 2, 11)),
                closed(wita(3, 3, 10)),
            ],
        ),
        // No reply after 34 of 35 working hours: at risk, or breached on 4 hours.
        (
            "c-3",
            vec![
                submitted("c-3", "ROAD_DAMAGE", wita(3, 9, 8)),
                assigned("DPU", wita(3, 9, 9)),
            ],
        ),
        // Another OPD, replied within 2 working hours, still open: on track either way.
        (
            "c-5",
            vec![
                submitted("c-5", "GARBAGE", wita(3, 4, 8)),
                assigned("DLH", wita(3, 4, 9)),
                responded(wita(3, 4, 11)),
            ],
        ),
        // Submitted before the period: not counted.
        (
            "c-4",
            vec![
                submitted("c-4", "ROAD_DAMAGE", wita(2, 20, 9)),
                assigned("DPU", wita(2, 20, 10)),
            ],
        ),
    ]
}

fn period() -> Period {
    Period {
        from: wita(3, 1, 0),
        to: wita(3, 14, 0),
    }
}

fn compare(actual: Side<'_>, proposed: Side<'_>) -> Comparison {
    let mut replay = Replay::new(period(), actual, proposed);
    for (id, events) in cases() {
        replay.add(id, &events);
    }
    replay.finish()
}

#[test]
fn the_current_policy_proposed_gives_the_actual_figures() {
    let (calendar, book) = settings();
    let side = Side {
        book: &book,
        calendar: &calendar,
    };
    let c = compare(side, side);
    assert!(c.changed.is_empty());
    assert_eq!(c.total.actual, c.total.proposed);
    for g in &c.groups {
        assert_eq!(g.actual, g.proposed, "{:?} {}", g.opd, g.category);
    }
    assert_eq!(c.total.actual.cases, 4);
    // c-5 was replied to but is still open: its resolve clock runs.
    assert_eq!(c.total.actual.met, 2);
    assert_eq!(c.total.actual.on_track, 1);
    assert_eq!(c.total.actual.at_risk, 1);
    assert_eq!(c.total.actual.breached, 0);
    let dpu = c
        .groups
        .iter()
        .find(|g| g.opd.as_deref() == Some("DPU"))
        .unwrap();
    assert_eq!(dpu.actual.cases, 3);
    // Replies after 7 h and 1 h: the lower middle is 1 h.
    assert_eq!(dpu.actual.median_first_response_seconds, Some(3600));
    // Closed after 1 day (c-2) and 2 days (c-1), on calendar time.
    assert_eq!(dpu.actual.median_close_seconds, Some(25 * 3600));
}

#[test]
fn a_stricter_response_target_breaches_exactly_the_slow_cases() {
    let (calendar, book) = settings();
    let strict = stricter(&book);
    let c = compare(
        Side {
            book: &book,
            calendar: &calendar,
        },
        Side {
            book: &strict,
            calendar: &calendar,
        },
    );
    assert_eq!(c.total.actual.breached, 0);
    assert_eq!(c.total.proposed.breached, 2);
    let named: Vec<_> = c
        .changed
        .iter()
        .map(|o| (o.complaint_id.as_str(), o.actual.state, o.proposed.state))
        .collect();
    assert_eq!(
        named,
        [
            ("c-1", TimerState::Met, TimerState::Breached),
            ("c-3", TimerState::AtRisk, TimerState::Breached),
        ]
    );
    let dlh = c
        .groups
        .iter()
        .find(|g| g.opd.as_deref() == Some("DLH"))
        .unwrap();
    assert_eq!(dlh.actual, dlh.proposed);
}

#[test]
fn a_holiday_added_in_the_proposal_moves_the_clocks_it_spans() {
    let (calendar, book) = settings();
    // Tuesday 3 March a day off: c-1's reply came after 0 working hours on it.
    let config: SlaConfig = toml::from_str(SHIPPED).unwrap();
    let mut proposed = config.calendar.clone();
    proposed
        .local_holidays
        .push(chrono::NaiveDate::from_ymd_opt(2026, 3, 3).unwrap());
    let proposed = proposed.build().unwrap();
    let c = compare(
        Side {
            book: &book,
            calendar: &calendar,
        },
        Side {
            book: &book,
            calendar: &proposed,
        },
    );
    let dpu = c
        .groups
        .iter()
        .find(|g| g.opd.as_deref() == Some("DPU"))
        .unwrap();
    // c-1: Monday 10:00-16:00 counts 5 h instead of 7 h (Tuesday 08:00-10:00 off).
    assert_eq!(dpu.actual.median_first_response_seconds, Some(3600));
    assert!(c.changed.is_empty());
    let events = &cases()[0].1;
    let side = |calendar| Side {
        book: &book,
        calendar,
    };
    let end = period().to;
    let actual = outcome(events, side(&calendar), end).unwrap();
    let moved = outcome(events, side(&proposed), end).unwrap();
    assert_eq!(actual.first_response_seconds, Some(7 * 3600));
    assert_eq!(moved.first_response_seconds, Some(5 * 3600));
}
