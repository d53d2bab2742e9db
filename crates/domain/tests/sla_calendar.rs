//! Business-calendar arithmetic: worked examples a supervisor can check by hand,
//! and properties that must hold for any start and duration.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc, Weekday};
use proptest::prelude::*;

use aduan_domain::sla::{BusinessCalendar, Pause, Span};

const WITA: i32 = 8 * 3600;

/// Makassar office hours: Monday to Friday, 08:00-16:00 WITA, Nyepi 2026 off.
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

/// A local WITA wall-clock time in March 2026.
fn wita(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    chrono::FixedOffset::east_opt(WITA)
        .unwrap()
        .with_ymd_and_hms(2026, 3, day, hour, minute, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn pause(from: DateTime<Utc>, to: DateTime<Utc>) -> Pause {
    Pause {
        span: Span::new(from, to),
        reason: "waiting for the citizen".into(),
    }
}

#[test]
fn a_friday_afternoon_complaint_runs_on_into_monday() {
    // Friday 6 March 15:00: one hour left that day, two more on Monday.
    let deadline = makassar().add(wita(6, 15, 0), Duration::hours(3), &[]);
    assert_eq!(deadline, wita(9, 10, 0));
}

#[test]
fn a_holiday_is_skipped_and_named_in_the_explanation() {
    // Wednesday 18 March 15:00, eight working hours; Thursday 19 March is Nyepi.
    let cal = makassar();
    let deadline = cal.add(wita(18, 15, 0), Duration::hours(8), &[]);
    assert_eq!(deadline, wita(20, 15, 0));
    let why = cal.explain(wita(18, 15, 0), deadline, &[]);
    assert_eq!(
        why.holidays_skipped,
        vec![NaiveDate::from_ymd_opt(2026, 3, 19).unwrap()]
    );
    assert_eq!(
        why.counted,
        vec![
            Span::new(wita(18, 15, 0), wita(18, 16, 0)),
            Span::new(wita(20, 8, 0), wita(20, 15, 0))
        ]
    );
    assert_eq!(why.total(), Duration::hours(8));
}

#[test]
fn a_three_day_pause_moves_the_deadline_by_the_working_time_it_covered() {
    // Monday 2 March 09:00, two working days. Without a pause: Wednesday 09:00.
    let cal = makassar();
    assert_eq!(
        cal.add(wita(2, 9, 0), Duration::hours(16), &[]),
        wita(4, 9, 0)
    );
    // Waiting for the citizen from Monday 10:00 to Thursday 10:00 covers
    // 6 + 8 + 8 + 2 = 24 working hours, so the deadline moves to next Monday 09:00.
    let waiting = [pause(wita(2, 10, 0), wita(5, 10, 0))];
    assert_eq!(
        cal.measure(wita(2, 10, 0), wita(5, 10, 0), &[]),
        Duration::hours(24)
    );
    let deadline = cal.add(wita(2, 9, 0), Duration::hours(16), &waiting);
    assert_eq!(deadline, wita(9, 9, 0));
    let why = cal.explain(wita(2, 9, 0), deadline, &waiting);
    assert_eq!(why.paused, waiting.to_vec());
    assert_eq!(why.total(), Duration::hours(16));
}

#[test]
fn a_complaint_at_night_starts_counting_next_morning() {
    let deadline = makassar().add(wita(3, 22, 30), Duration::minutes(30), &[]);
    assert_eq!(deadline, wita(4, 8, 30));
}

#[test]
fn calendar_time_counts_every_minute() {
    let start = wita(7, 23, 0); // a Saturday night
    assert_eq!(
        BusinessCalendar::continuous().add(start, Duration::hours(4), &[]),
        start + Duration::hours(4)
    );
}

#[test]
fn calendars_without_working_time_or_with_bad_windows_are_refused() {
    assert!(BusinessCalendar::new(WITA, &[], &[(480, 960)], []).is_err());
    assert!(BusinessCalendar::new(WITA, &[Weekday::Mon], &[(960, 480)], []).is_err());
    assert!(BusinessCalendar::new(WITA, &[Weekday::Mon], &[(480, 800), (700, 960)], []).is_err());
    assert!(BusinessCalendar::new(WITA, &[Weekday::Mon], &[(0, 1441)], []).is_err());
}

fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    // Any minute in 2026 (holidays of the test calendar included).
    (0i64..365 * 24 * 60)
        .prop_map(|m| Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::minutes(m))
}

fn amount() -> impl Strategy<Value = Duration> {
    (1i64..60 * 8 * 60).prop_map(Duration::minutes)
}

proptest! {
    #[test]
    fn deadlines_grow_with_the_duration(start in instant(), a in amount(), b in amount()) {
        let cal = makassar();
        let (short, long) = if a <= b { (a, b) } else { (b, a) };
        prop_assert!(cal.add(start, short, &[]) <= cal.add(start, long, &[]));
    }

    #[test]
    fn deadlines_fall_in_working_time(start in instant(), d in amount()) {
        let cal = makassar();
        prop_assert!(cal.is_working_time(cal.add(start, d, &[])));
    }

    #[test]
    fn measuring_up_to_a_deadline_gives_back_the_duration(start in instant(), d in amount()) {
        let cal = makassar();
        prop_assert_eq!(cal.measure(start, cal.add(start, d, &[]), &[]), d);
    }

    #[test]
    fn a_pause_of_p_working_time_moves_the_deadline_by_exactly_p(
        start in instant(),
        d in amount(),
        offset in 0i64..5 * 24 * 60,
        length in 1i64..5 * 24 * 60,
    ) {
        let cal = makassar();
        let from = start + Duration::minutes(offset);
        let waiting = [pause(from, from + Duration::minutes(length))];
        let p = cal.measure(from, from + Duration::minutes(length), &[]);
        let paused = cal.add(start, d, &waiting);
        prop_assume!(waiting[0].span.end <= paused);
        prop_assert_eq!(paused, cal.add(start, d + p, &[]));
    }

    #[test]
    fn measuring_is_additive(a in instant(), b in instant(), c in instant()) {
        let mut t = [a, b, c];
        t.sort();
        let cal = makassar();
        prop_assert_eq!(cal.measure(t[0], t[1], &[]) + cal.measure(t[1], t[2], &[]), cal.measure(t[0], t[2], &[]));
    }
}
