//! `slaAlerts`: a clock that turns AT_RISK and then BREACHED with no command in
//! between is announced within 2 s of each instant, to the roles the table
//! allows, OPD roles only for their own OPD's clocks.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{json, Value};

use aduan_testkit::Reply;

use super::*;

const ALERTS: &str = "subscription($opd: String) { slaAlerts(opd: $opd) { complaintId opd \
    state at timer { complaintId leg opd state atRiskAt deadline } } }";

/// A minute is the shortest target a policy can state, so this test takes a
/// minute; both stores run at once, in one test, to cost the suite one minute.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_clock_turning_by_time_alone_is_announced_on_both_stores() {
    tokio::join!(
        clocks_turn_by_time_alone(Backend::Postgres),
        clocks_turn_by_time_alone(Backend::Sqlite)
    );
}

/// The shipped settings with a one-minute follow-up target for every case,
/// AT_RISK at half of it.
fn one_minute_sla() -> std::path::PathBuf {
    let shipped = include_str!("../../../config/sla.toml");
    let fast = shipped
        .replace(
            "respond = { amount = 5, unit = \"working_days\" }",
            "respond = { amount = 1, unit = \"calendar_minutes\" }",
        )
        .replace("at_risk_percent = 80", "at_risk_percent = 50");
    assert!(
        fast.contains("respond = { amount = 1, unit = \"calendar_minutes\" }")
            && fast.contains("at_risk_percent = 50"),
        "config/sla.toml changed: update one_minute_sla"
    );
    let path =
        std::env::temp_dir().join(format!("aduan-sla-{}.toml", uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, fast).unwrap();
    path
}

type Arrived = (Value, chrono::DateTime<chrono::Utc>);

/// Reads `ws` until each of `wanted`'s subscriptions has its number of alerts;
/// each alert with the instant it arrived. Reading all along also answers the
/// server's pings.
async fn alerts(ws: &mut WsClient, wanted: &[(&str, usize)]) -> HashMap<String, Vec<Arrived>> {
    let mut out: HashMap<String, Vec<Arrived>> = HashMap::new();
    let full = |out: &HashMap<String, Vec<Arrived>>| {
        wanted
            .iter()
            .all(|(id, n)| out.get(*id).map_or(0, Vec::len) >= *n)
    };
    while !full(&out) {
        let (id, reply, arrived) = ws
            .any_reply_within(Duration::from_secs(75))
            .await
            .unwrap_or_else(|| panic!("alerts missing: {wanted:?}, got {out:?}"));
        let Reply::Next(payload) = reply else {
            panic!("{id}: {reply:?}")
        };
        assert!(payload.get("errors").is_none(), "{id}: {payload}");
        out.entry(id)
            .or_default()
            .push((payload["data"]["slaAlerts"].clone(), arrived));
    }
    out
}

async fn clocks_turn_by_time_alone(backend: Backend) {
    let sla = one_minute_sla();
    let env = Env::start_with(backend, &[("ADUAN_SLA_CONFIG", sla.to_str().unwrap())]).await;
    let server = &env.server;
    let mut city = server.ws(Some(&env.supervisor.token)).await;
    city.subscribe("all", ALERTS, json!({})).await;
    city.subscribe("dlh", ALERTS, json!({"opd": "DLH"})).await;
    let mut dpu = server.ws(Some(&env.dpu_officer.token)).await;
    dpu.subscribe("own", ALERTS, json!({})).await;
    dpu.subscribe("named", ALERTS, json!({"opd": "DPU"})).await;
    let mut dlh = server.ws(Some(&env.dlh_officer.token)).await;
    dlh.subscribe("own", ALERTS, json!({})).await;
    // Refused: another OPD's clocks, citizens, the public.
    dpu.subscribe("other", ALERTS, json!({"opd": "DLH"})).await;
    assert_eq!(error_code_of(&dpu.error("other").await), Some("FORBIDDEN"));
    let mut citizen = server.ws(Some(&env.citizen.token)).await;
    citizen.subscribe("a", ALERTS, json!({})).await;
    assert_eq!(error_code_of(&citizen.error("a").await), Some("FORBIDDEN"));
    let mut public = server.ws(None).await;
    public.subscribe("a", ALERTS, json!({})).await;
    assert_eq!(
        error_code_of(&public.error("a").await),
        Some("UNAUTHENTICATED")
    );

    // Two cases dispatched a moment apart, then no command at all.
    let to_dpu = env.assigned().await;
    let to_dlh = env.verified().await;
    env.agent
        .ok(MUTATE_ASSIGN, input(&to_dlh, json!({"opd": "DLH"})))
        .await;

    let within = |(alert, arrived): &(Value, chrono::DateTime<chrono::Utc>)| {
        let at = timestamp(&alert["at"]);
        let late = *arrived - at;
        assert!(
            late >= chrono::Duration::zero() && late <= chrono::Duration::seconds(2),
            "announced {late} after its instant: {alert}"
        );
        let timer = &alert["timer"];
        let instant = match alert["state"].as_str().unwrap() {
            "AT_RISK" => &timer["atRiskAt"],
            "BREACHED" => &timer["deadline"],
            other => panic!("an alert of state {other}"),
        };
        assert_eq!(timestamp(instant), at, "{alert}");
        assert_eq!(
            timer["state"], alert["state"],
            "the clock as it stands: {alert}"
        );
        assert_eq!(timer["leg"], "RESPOND");
        assert_eq!(timer["complaintId"], alert["complaintId"]);
        (
            alert["complaintId"].as_str().unwrap().to_string(),
            alert["state"].as_str().unwrap().to_string(),
        )
    };
    let turns = |id: &str| {
        vec![
            (id.to_string(), "AT_RISK".to_string()),
            (id.to_string(), "BREACHED".to_string()),
        ]
    };
    let (dpu_got, dlh_got, city_got) = tokio::join!(
        alerts(&mut dpu, &[("own", 2), ("named", 2)]),
        alerts(&mut dlh, &[("own", 2)]),
        alerts(&mut city, &[("all", 4), ("dlh", 2)]),
    );
    let states = |got: &[Arrived]| -> Vec<(String, String)> { got.iter().map(within).collect() };
    // OPD staff: their own case's two turns, in order; another OPD's turn
    // would come between them.
    assert_eq!(states(&dpu_got["own"]), turns(&to_dpu), "{backend:?} DPU");
    assert_eq!(
        states(&dpu_got["named"]),
        turns(&to_dpu),
        "{backend:?} DPU named"
    );
    assert_eq!(states(&dlh_got["own"]), turns(&to_dlh), "{backend:?} DLH");
    // The city: both cases' turns, in the order of their instants.
    assert_eq!(
        states(&city_got["all"]),
        [
            (to_dpu.clone(), "AT_RISK".to_string()),
            (to_dlh.clone(), "AT_RISK".to_string()),
            (to_dpu.clone(), "BREACHED".to_string()),
            (to_dlh.clone(), "BREACHED".to_string()),
        ],
        "{backend:?} city"
    );
    assert_eq!(
        states(&city_got["dlh"]),
        turns(&to_dlh),
        "{backend:?} city, DLH only"
    );
    env.finish().await;
    let _ = std::fs::remove_file(sla);
}
