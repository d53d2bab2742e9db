//! The holiday calendar that does not run out silently: a server whose national
//! holiday list misses the current or the next year says so at start (log), on
//! `/readyz`, on `/metrics` and in `slaPolicies`; a `--holidays` file
//! (ADUAN_HOLIDAYS) adds the missing years and the city's own days. "Today" is
//! the real clock: the lists are written relative to the current year.

use std::path::PathBuf;

use chrono::Datelike;
use serde_json::{json, Value};

use crate::support::*;

on_both_stores!(a_calendar_that_does_not_cover_this_or_next_year_says_so_everywhere);

const POLICIES: &str = "{ slaPolicies { version holidayCoverage { years coveredUntil \
    coversCurrentYear coversNextYear warnings } } \
    businessCalendar { holidays localHolidays coverage { coversNextYear } } }";

/// The shipped SLA settings with the national list replaced by `years`' New
/// Year's Day and Independence Day.
fn settings_with(years: &[i32]) -> PathBuf {
    let shipped = include_str!("../../config/sla.toml");
    let start = shipped.find("\nholidays = [").expect("a holidays list") + 1;
    let end = start + shipped[start..].find(']').unwrap() + 1;
    let days: Vec<String> = years
        .iter()
        .flat_map(|y| [format!("\"{y}-01-01\""), format!("\"{y}-08-17\"")])
        .collect();
    let text = format!(
        "{}holidays = [{}]{}",
        &shipped[..start],
        days.join(", "),
        &shipped[end..]
    );
    temp_file("sla", &text)
}

fn temp_file(what: &str, text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "aduan-{what}-{}.toml",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&path, text).unwrap();
    path
}

async fn metric(env: &Env, name: &str) -> f64 {
    let text = env.server.get("/metrics").await.text().await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no {name} in:\n{text}"))
        .trim()
        .parse()
        .unwrap()
}

async fn readyz(env: &Env) -> Value {
    let response = env.server.get("/readyz").await;
    assert_eq!(
        response.status(),
        200,
        "a calendar never makes the server unready"
    );
    response.json().await.unwrap()
}

async fn a_calendar_that_does_not_cover_this_or_next_year_says_so_everywhere(backend: Backend) {
    // WITA is UTC+8: the city's year, as the server reckons it.
    let year = (chrono::Utc::now() + chrono::Duration::hours(8)).year();
    let store = aduan_testkit::TestStore::create(backend).await;

    // Only last year listed: neither this year nor the next is covered.
    let stale = settings_with(&[year - 1]);
    let env = Env::start_on(store, &[("ADUAN_SLA_CONFIG", stale.to_str().unwrap())]).await;
    let ready = readyz(&env).await;
    assert_eq!(ready["status"], "ready");
    assert_eq!(
        ready["calendar"]["missingYears"],
        json!([year, year + 1]),
        "{ready}"
    );
    assert_eq!(
        ready["calendar"]["coveredUntil"],
        json!(format!("{}-12-31", year - 1))
    );
    assert_eq!(ready["calendar"]["warnings"].as_array().unwrap().len(), 2);
    assert_eq!(metric(&env, "aduan_sla_calendar_missing_years").await, 2.0);
    let until = metric(&env, "aduan_sla_calendar_covered_until_seconds").await;
    // Midnight WITA at the start of this year: 16:00 UTC on 31 December.
    let start_of_year = chrono::NaiveDate::from_ymd_opt(year, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        - chrono::Duration::hours(8);
    assert_eq!(until, start_of_year.timestamp() as f64);
    let data = env.agent.ok(POLICIES, json!({})).await;
    let coverage = &data["slaPolicies"][0]["holidayCoverage"];
    assert_eq!(coverage["years"], json!([year - 1]));
    assert_eq!(coverage["coversCurrentYear"], false);
    assert_eq!(coverage["coversNextYear"], false);
    assert!(
        coverage["warnings"][0]
            .as_str()
            .unwrap()
            .contains(&format!("does not cover {year}")),
        "{coverage}"
    );
    let log = env.server.log();
    assert!(
        log.contains(&format!("does not cover {year}"))
            && log.contains(&format!("does not cover {}", year + 1)),
        "no start-up warning in:\n{log}"
    );
    let (store, server) = (env.store, env.server);
    stop_cleanly(server).await;

    // This year only: the next is missing.
    let current = settings_with(&[year]);
    let env = Env::start_on(store, &[("ADUAN_SLA_CONFIG", current.to_str().unwrap())]).await;
    assert_eq!(
        readyz(&env).await["calendar"]["missingYears"],
        json!([year + 1])
    );
    assert_eq!(metric(&env, "aduan_sla_calendar_missing_years").await, 1.0);
    let data = env.agent.ok(POLICIES, json!({})).await;
    let coverage = &data["slaPolicies"][0]["holidayCoverage"];
    assert_eq!(coverage["coversCurrentYear"], true);
    assert_eq!(coverage["coversNextYear"], false);
    let (store, server) = (env.store, env.server);
    stop_cleanly(server).await;

    // A holidays file adds next year's national days and a city day of its own.
    let extra = temp_file(
        "holidays",
        &format!(
            "holidays = [\"{next}-01-01\", \"{next}-08-17\"]\nlocal_holidays = [\"{year}-11-09\"]\n",
            next = year + 1
        ),
    );
    let env = Env::start_on(
        store,
        &[
            ("ADUAN_SLA_CONFIG", current.to_str().unwrap()),
            ("ADUAN_HOLIDAYS", extra.to_str().unwrap()),
        ],
    )
    .await;
    let ready = readyz(&env).await;
    assert_eq!(ready["calendar"]["missingYears"], json!([]), "{ready}");
    assert_eq!(ready["calendar"]["warnings"], json!([]));
    assert_eq!(metric(&env, "aduan_sla_calendar_missing_years").await, 0.0);
    let data = env.agent.ok(POLICIES, json!({})).await;
    let coverage = &data["slaPolicies"][0]["holidayCoverage"];
    assert_eq!(coverage["years"], json!([year, year + 1]));
    assert_eq!(
        coverage["coveredUntil"],
        json!(format!("{}-12-31", year + 1))
    );
    assert_eq!(coverage["coversNextYear"], true);
    let calendar = &data["businessCalendar"];
    assert_eq!(calendar["localHolidays"], json!([format!("{year}-11-09")]));
    assert_eq!(calendar["holidays"].as_array().unwrap().len(), 4);
    assert_eq!(calendar["coverage"]["coversNextYear"], true);
    env.finish().await;
    for path in [stale, current, extra] {
        let _ = std::fs::remove_file(path);
    }
}
