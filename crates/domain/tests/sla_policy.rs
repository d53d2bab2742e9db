//! SLA policies: which targets apply to a case, and which version is in force.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

use chrono::{DateTime, Duration, TimeZone, Utc};

use aduan_domain::sla::*;
use aduan_domain::Priority;

const SHIPPED: &str = include_str!("../../../config/sla.toml");

fn shipped() -> (BusinessCalendar, PolicyBook) {
    let config: SlaConfig = toml::from_str(SHIPPED).expect("config/sla.toml parses");
    config.build().expect("config/sla.toml is consistent")
}

fn target(amount: i64, unit: Unit) -> Target {
    Target { amount, unit }
}

fn rule(category: Option<&str>, priority: Option<Priority>, days: i64) -> Rule {
    Rule {
        category: category.map(str::to_string),
        priority,
        dispatch: target(days, Unit::WorkingDays),
        respond: target(days, Unit::WorkingDays),
        resolve: target(days, Unit::CalendarDays),
        reroute: None,
    }
}

fn policy(version: u32, from: DateTime<Utc>, rules: Vec<Rule>) -> Policy {
    Policy {
        version,
        effective_from: from,
        at_risk_percent: 80,
        auto_close_after: target(10, Unit::WorkingDays),
        rules,
    }
}

fn jan(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, day, 0, 0, 0).unwrap()
}

#[test]
fn the_shipped_settings_follow_the_national_rules() {
    let (calendar, book) = shipped();
    assert_eq!(calendar.working_day_length(), Duration::hours(7));
    let v1 = book.in_force_at(jan(2));
    let normal = v1.rule_for("ROAD_DAMAGE", Priority::Normal).unwrap();
    assert_eq!(normal.target(Leg::Dispatch), target(3, Unit::WorkingDays));
    assert_eq!(normal.target(Leg::Respond), target(5, Unit::WorkingDays));
    assert_eq!(normal.target(Leg::Resolve), target(60, Unit::CalendarDays));
    assert_eq!(v1.auto_close_after, target(10, Unit::WorkingDays));
    let emergency = v1.rule_for("ROAD_DAMAGE", Priority::Emergency).unwrap();
    assert!(!emergency.target(Leg::Dispatch).is_business_time());
}

#[test]
fn the_most_specific_rule_wins_and_category_outranks_priority() {
    let p = policy(
        1,
        jan(1),
        vec![
            rule(None, None, 1),
            rule(None, Some(Priority::Emergency), 2),
            rule(Some("FIRE"), None, 3),
            rule(Some("FIRE"), Some(Priority::Low), 4),
        ],
    );
    let days = |c: &str, p_: Priority| p.rule_for(c, p_).unwrap().dispatch.amount;
    assert_eq!(days("GARBAGE", Priority::Normal), 1);
    assert_eq!(days("GARBAGE", Priority::Emergency), 2);
    assert_eq!(days("FIRE", Priority::Emergency), 3);
    assert_eq!(days("FIRE", Priority::Low), 4);
}

#[test]
fn a_case_is_measured_against_the_version_in_force_when_its_clock_started() {
    let book = PolicyBook::new(vec![
        policy(2, jan(10), vec![rule(None, None, 2)]),
        policy(1, jan(1), vec![rule(None, None, 1)]),
    ])
    .unwrap();
    assert_eq!(book.in_force_at(jan(9)).version, 1);
    assert_eq!(book.in_force_at(jan(10)).version, 2);
    assert_eq!(book.in_force_at(jan(1) - Duration::days(30)).version, 1);
    assert_eq!(book.version(2).unwrap().effective_from, jan(10));
}

#[test]
fn inconsistent_policy_books_are_refused() {
    assert_eq!(PolicyBook::new(vec![]), Err(PolicyError::Empty));
    assert_eq!(
        PolicyBook::new(vec![policy(1, jan(1), vec![rule(Some("FIRE"), None, 1)])]),
        Err(PolicyError::NoDefault(1))
    );
    assert_eq!(
        PolicyBook::new(vec![policy(1, jan(1), vec![rule(None, None, 0)])]),
        Err(PolicyError::NonPositive(1))
    );
    assert_eq!(
        PolicyBook::new(vec![
            policy(1, jan(5), vec![rule(None, None, 1)]),
            policy(2, jan(1), vec![rule(None, None, 1)]),
        ]),
        Err(PolicyError::OutOfOrder)
    );
}

#[test]
fn working_days_are_counted_in_the_calendars_working_hours() {
    let (calendar, _) = shipped();
    assert_eq!(
        target(3, Unit::WorkingDays).duration(&calendar),
        Duration::hours(21)
    );
    assert_eq!(
        target(90, Unit::CalendarMinutes).duration(&calendar),
        Duration::minutes(90)
    );
    assert_eq!(
        target(2, Unit::CalendarDays).duration(&calendar),
        Duration::hours(48)
    );
}

#[test]
fn bad_calendar_settings_name_what_is_wrong() {
    let mut config: SlaConfig = toml::from_str(SHIPPED).unwrap();
    config.calendar.working_days.push("FUNDAY".into());
    assert_eq!(
        config.build().unwrap_err(),
        ConfigError::Day("FUNDAY".into())
    );
    let mut config: SlaConfig = toml::from_str(SHIPPED).unwrap();
    config.calendar.working_hours = vec!["16:00-08:00".into()];
    assert!(matches!(config.build(), Err(ConfigError::Calendar(_))));
}
