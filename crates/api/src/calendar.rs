//! The holiday calendar's coverage, said loudly: a warning at start for each of
//! the current and next year the national list does not cover, a detail on
//! `/readyz`, and gauges on `/metrics` (see `aduan_domain::sla::coverage`).
//! Readiness itself does not depend on it: a calendar running out makes
//! deadlines wrong, not the server unable to serve.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use aduan_domain::sla::{Coverage, SlaConfig};

/// The Unix time coverage ends (midnight after the last covered day, city time).
pub const COVERED_UNTIL: &str = "aduan_sla_calendar_covered_until_seconds";
/// How many of the current and the next year the list does not cover (0-2).
pub const MISSING_YEARS: &str = "aduan_sla_calendar_missing_years";

/// The city's local date at `now`.
pub fn today(config: &SlaConfig, now: DateTime<Utc>) -> NaiveDate {
    config
        .calendar
        .local_date(now)
        .unwrap_or_else(|| now.date_naive())
}

pub fn coverage(config: &SlaConfig, now: DateTime<Utc>) -> (Coverage, NaiveDate) {
    let today = today(config, now);
    (config.calendar.coverage(today), today)
}

/// Logs one warning per missing year (at start).
pub fn warn(config: &SlaConfig, now: DateTime<Utc>) -> Coverage {
    let (c, today) = coverage(config, now);
    for w in c.warnings(today) {
        tracing::warn!(covered_until = ?c.covered_until, "{w}");
    }
    if c.missing.is_empty() {
        tracing::info!(covered_until = ?c.covered_until, "holiday calendar covers this year and the next");
    }
    c
}

/// The `calendar` detail of `/readyz`.
pub fn detail(config: &SlaConfig, now: DateTime<Utc>) -> serde_json::Value {
    let (c, today) = coverage(config, now);
    serde_json::json!({
        "years": c.years,
        "coveredUntil": c.covered_until,
        "missingYears": c.missing,
        "warnings": c.warnings(today),
    })
}

/// Sets the gauges (at every scrape, so they follow the date).
pub fn set_gauges(config: &SlaConfig, now: DateTime<Utc>) {
    let (c, _) = coverage(config, now);
    let until = c
        .covered_until
        .and_then(|d| d.succ_opt())
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .zip(config.calendar.offset())
        .and_then(|(t, offset)| offset.from_local_datetime(&t).single())
        .map_or(0.0, |t| t.timestamp() as f64);
    metrics::gauge!(COVERED_UNTIL).set(until);
    metrics::gauge!(MISSING_YEARS).set(c.missing.len() as f64);
}

pub fn describe() {
    metrics::describe_gauge!(
        COVERED_UNTIL,
        metrics::Unit::Seconds,
        "Unix time the SLA holiday list stops covering (midnight after its last listed year, city time)"
    );
    metrics::describe_gauge!(
        MISSING_YEARS,
        "Of the current and the next year, how many the SLA holiday list does not cover (alert above 0)"
    );
}
