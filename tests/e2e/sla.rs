//! SLA timers end to end: the projector keeps them, reads take the state now.

use serde_json::{json, Value};

use crate::support::*;

on_both_stores!(
    each_leg_has_its_own_clock_with_the_national_targets,
    an_emergency_runs_on_calendar_minutes,
    the_running_server_records_a_missed_deadline_in_the_history,
);

const TIMERS: &str = "query($filter: SlaTimerFilter) { slaTimers(filter: $filter) { \
    complaintId leg opd policyVersion target { amount unit } startedAt deadline stoppedAt paused \
    usedSeconds targetSeconds state stateChangedAt position explanation } }";

const BY_SLA: &str = "query($states: [SlaState!]) { \
    complaints(filter: {slaState: $states}, first: 100) { edges { node { id slaState } } } }";

/// The complaints listed in one of `states` now.
async fn listed_in(env: &Env, states: &[&str]) -> Vec<Value> {
    let data = env.agent.ok(BY_SLA, json!({"states": states})).await;
    data["complaints"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

/// Waits until the projector has timers for the complaint (it follows within a second).
async fn timers_of(env: &Env, id: &str, legs: usize) -> Vec<Value> {
    for _ in 0..100 {
        let data = env
            .agent
            .ok(TIMERS, json!({"filter": {"complaintId": id}}))
            .await;
        let timers = data["slaTimers"].as_array().unwrap().clone();
        if timers.len() == legs && timers.iter().all(|t| t["opd"].is_string() || legs < 3) {
            return timers;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no {legs} SLA timers for {id}");
}

fn leg<'a>(timers: &'a [Value], name: &str) -> &'a Value {
    timers.iter().find(|t| t["leg"] == name).unwrap()
}

async fn each_leg_has_its_own_clock_with_the_national_targets(backend: Backend) {
    let env = Env::start(backend).await;
    let id = env.assigned().await;
    let timers = timers_of(&env, &id, 3).await;
    let dispatch = leg(&timers, "DISPATCH");
    assert_eq!(dispatch["state"], "MET", "dispatched within 3 working days");
    assert!(dispatch["stoppedAt"].is_string());
    assert_eq!(dispatch["stateChangedAt"], dispatch["stoppedAt"]);
    assert!(dispatch["position"].as_i64().unwrap() > 0);
    assert_eq!(
        dispatch["target"],
        json!({"amount": 3, "unit": "WORKING_DAYS"})
    );
    let respond = leg(&timers, "RESPOND");
    assert_eq!(
        respond["target"],
        json!({"amount": 5, "unit": "WORKING_DAYS"})
    );
    assert_eq!(respond["state"], "ON_TRACK");
    assert_eq!(respond["stateChangedAt"], respond["startedAt"]);
    assert!(respond["stoppedAt"].is_null());
    assert_eq!(respond["opd"], "DPU");
    assert!(respond["explanation"]["counted"].is_array());
    let resolve = leg(&timers, "RESOLVE");
    assert_eq!(
        resolve["target"],
        json!({"amount": 60, "unit": "CALENDAR_DAYS"})
    );
    assert_eq!(resolve["targetSeconds"], 60 * 24 * 3600);

    // Waiting for the citizen pauses the clocks.
    env.dpu_officer
        .ok(
            MUTATE_REQUEST_INFO,
            json!({"input": {"complaintId": id, "question": "Di mana?"}}),
        )
        .await;
    let mut paused = false;
    for _ in 0..100 {
        let timers = timers_of(&env, &id, 3).await;
        if leg(&timers, "RESPOND")["paused"] == true {
            paused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        paused,
        "the follow-up clock pauses while waiting for the citizen"
    );

    // An OPD sees only its own clocks; citizens see none.
    let dlh = env
        .dlh_officer
        .ok(TIMERS, json!({"filter": {"complaintId": id}}))
        .await;
    assert_eq!(dlh["slaTimers"], json!([]));
    assert_eq!(env.citizen.error_code(TIMERS, json!({})).await, "FORBIDDEN");
    env.finish().await;
}

async fn an_emergency_runs_on_calendar_minutes(backend: Backend) {
    let env = Env::start(backend).await;
    let mut input = report();
    input["priority"] = json!("EMERGENCY");
    let id = env.citizen.ok(SUBMIT, json!({"input": input})).await["submitComplaint"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let timers = timers_of(&env, &id, 2).await;
    let dispatch = leg(&timers, "DISPATCH");
    assert_eq!(
        dispatch["target"],
        json!({"amount": 15, "unit": "CALENDAR_MINUTES"})
    );
    let started =
        chrono::DateTime::parse_from_rfc3339(dispatch["startedAt"].as_str().unwrap()).unwrap();
    let deadline =
        chrono::DateTime::parse_from_rfc3339(dispatch["deadline"].as_str().unwrap()).unwrap();
    assert_eq!(deadline - started, chrono::Duration::minutes(15));
    let on_track = env
        .agent
        .ok(
            TIMERS,
            json!({"filter": {"complaintId": id, "state": ["ON_TRACK"], "leg": ["DISPATCH"]}}),
        )
        .await;
    assert_eq!(on_track["slaTimers"].as_array().unwrap().len(), 1);
    let breached = env
        .agent
        .ok(
            TIMERS,
            json!({"filter": {"complaintId": id, "state": ["BREACHED"]}}),
        )
        .await;
    assert_eq!(breached["slaTimers"], json!([]));
    env.finish().await;
}

/// The server's own watcher records a breach as an event within seconds of the
/// deadline. Real time: the tightest target a policy can state is one minute.
async fn the_running_server_records_a_missed_deadline_in_the_history(backend: Backend) {
    let shipped = include_str!("../../config/sla.toml");
    let mut minute = shipped.to_string();
    for target in [
        "dispatch = { amount = 3, unit = \"working_days\" }",
        "respond = { amount = 5, unit = \"working_days\" }",
        "reroute = { amount = 1, unit = \"working_days\" }",
    ] {
        let (leg, _) = target.split_once(" = ").unwrap();
        let one = format!("{leg} = {{ amount = 1, unit = \"calendar_minutes\" }}");
        assert!(
            minute.contains(target),
            "the default {leg} target moved in config/sla.toml"
        );
        minute = minute.replacen(target, &one, 1);
    }
    let path =
        std::env::temp_dir().join(format!("aduan-sla-{}.toml", uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, minute).unwrap();
    let env = Env::start_with(
        backend,
        &[
            ("ADUAN_SLA_CONFIG", path.to_str().unwrap()),
            ("ADUAN_WATCH_INTERVAL_MS", "500"),
        ],
    )
    .await;
    let id = env.submit().await;
    let submitted_at = std::time::Instant::now();
    let (returned, sat_on) = bounced_cases(&env).await;
    let node = |nodes: Vec<Value>| nodes.into_iter().find(|n| n["id"] == id.as_str());
    // The list's SLA filter follows the clock with no event: ON_TRACK, then AT_RISK
    // at 80 % of the minute, then BREACHED.
    let mut history = Vec::new();
    let mut seen = Vec::new();
    while submitted_at.elapsed() < std::time::Duration::from_secs(90) {
        if let Some(n) = node(listed_in(&env, &["ON_TRACK", "AT_RISK", "BREACHED"]).await) {
            let state = n["slaState"].as_str().unwrap().to_string();
            if seen.last() != Some(&state) {
                seen.push(state);
            }
        }
        history = env.history(&id).await;
        if history.iter().any(|e| e["type"] == "SlaBreached") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    assert_eq!(
        seen.first().map(String::as_str),
        Some("ON_TRACK"),
        "{seen:?}"
    );
    assert!(seen.iter().any(|s| s == "AT_RISK"), "{seen:?}");
    assert!(
        node(listed_in(&env, &["BREACHED"]).await).is_some(),
        "a breached case is listed as BREACHED"
    );
    assert!(node(listed_in(&env, &["ON_TRACK", "AT_RISK", "MET"]).await).is_none());
    let dispatch = timers_of(&env, &id, 2)
        .await
        .into_iter()
        .find(|t| t["leg"] == "DISPATCH")
        .unwrap();
    assert_eq!(dispatch["state"], "BREACHED");
    assert_eq!(
        dispatch["stateChangedAt"], dispatch["deadline"],
        "breached the moment the deadline passed"
    );
    let breach = history
        .iter()
        .find(|e| e["type"] == "SlaBreached")
        .unwrap_or_else(|| panic!("no breach recorded: {history:?}"));
    assert!(
        submitted_at.elapsed() >= std::time::Duration::from_secs(55),
        "not before the deadline"
    );
    assert_eq!(breach["payload"]["leg"], "DISPATCH");
    assert_eq!(breach["payload"]["level"], 1);
    assert_eq!(breach["role"], "SYSTEM");
    assert_eq!(breach["channel"], "watcher");
    // Exactly once: a few more ticks add nothing.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let breaches = env
        .history(&id)
        .await
        .iter()
        .filter(|e| e["type"] == "SlaBreached")
        .count();
    assert_eq!(breaches, 1);
    charged_to_their_holders(&env, &returned, &sat_on).await;
    // And /metrics counted every one.
    let metrics = env.server.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l == "aduan_watcher_breaches_recorded_total 4"),
        "{metrics}"
    );
    std::fs::remove_file(path).unwrap();
    env.finish().await;
}

/// Two more cases on the same one-minute clocks, both dispatched to DPU: one
/// DPU returns to the Command Center at once (its follow-up and the desk's
/// own REROUTE clock then run out while the desk holds it), one DPU leaves
/// unanswered.
async fn bounced_cases(env: &Env) -> (String, String) {
    let returned = env.assigned().await;
    let back = input(&returned, json!({"reasonCode": "LOKASI_DI_LUAR_WILAYAH"}));
    env.dpu_admin.ok(MUTATE_RETURN, back).await;
    (returned, env.assigned().await)
}

/// Waits for the breaches of the bounced cases, moves the unanswered one on to
/// DLH (which answers at once), and checks the dashboard charges each breach
/// to whoever held the case when its deadline passed: the desk three (a
/// dispatch, a follow-up and a routing), DPU the one it sat on, though DLH
/// holds that case now.
async fn charged_to_their_holders(env: &Env, returned: &str, sat_on: &str) {
    let legs_breached = |history: Vec<Value>| -> Vec<String> {
        let mut legs: Vec<String> = history
            .iter()
            .filter(|e| e["type"] == "SlaBreached")
            .map(|e| e["payload"]["leg"].as_str().unwrap().to_string())
            .collect();
        legs.sort();
        legs
    };
    for _ in 0..60 {
        let (a, b) = (env.history(returned).await, env.history(sat_on).await);
        if legs_breached(a) == ["REROUTE", "RESPOND"] && legs_breached(b) == ["RESPOND"] {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    assert_eq!(
        legs_breached(env.history(returned).await),
        ["REROUTE", "RESPOND"]
    );
    assert_eq!(legs_breached(env.history(sat_on).await), ["RESPOND"]);
    let transfer = json!({"toOpd": "DLH", "reasonCode": "BUKAN_WEWENANG"});
    env.dpu_admin
        .ok(MUTATE_TRANSFER, input(sat_on, transfer))
        .await;
    let answer = json!({"message": "Kami tangani."});
    env.dlh_officer
        .ok(MUTATE_RESPOND, input(sat_on, answer))
        .await;
    caught_up(&env.store, &env.supervisor).await;
    let data = env
        .supervisor
        .ok(
            "{ dashboard { breachesByHolder { holder breaches } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data["dashboard"]["breachesByHolder"],
        json!([{"holder": "COMMAND_CENTER", "breaches": 3}, {"holder": "DPU", "breaches": 1}])
    );
}
