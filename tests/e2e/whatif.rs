//! SLA what-if end to end: a log whose cases lived in March 2026 (made through
//! the API, then moved back in time by an export and an import), replayed by
//! `aduan sla what-if` and by `slaWhatIf` under a stricter follow-up target.

use std::path::PathBuf;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Value};

use crate::support::*;

on_both_stores!(
    a_stricter_response_target_names_the_cases_it_would_breach,
    a_calendar_correction_moves_only_the_cases_it_is_applied_to,
);

/// Every follow-up within 4 working hours (the shipped target: 5 working days).
pub const STRICTER: &str = r#"
[[policies]]
version = 1
effective_from = "2026-01-01T00:00:00+08:00"
at_risk_percent = 80
auto_close_after = { amount = 10, unit = "working_days" }

  [[policies.rules]]
  dispatch = { amount = 3, unit = "working_days" }
  respond = { amount = 4, unit = "working_hours" }
  resolve = { amount = 60, unit = "calendar_days" }
"#;

const WHAT_IF: &str = "query($input: SlaWhatIfInput!) { slaWhatIf(input: $input) { \
    from to changedCount changed { complaintId opd category actual proposed } \
    total { actual { cases met breached atRisk onTrack medianFirstResponseSeconds } \
    proposed { cases met breached atRisk onTrack medianFirstResponseSeconds } } \
    groups { opd category actual { cases breached } proposed { cases breached } } } }";

/// WITA wall-clock time in 2026.
fn wita(month: u32, day: u32, hour: u32) -> DateTime<Utc> {
    chrono::FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .with_ymd_and_hms(2026, month, day, hour, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn temp_file(what: &str, text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("aduan-{what}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, text).unwrap();
    path
}

/// Three DPU cases through the API: replied after 7 working hours, replied
/// after 1, never replied. Returns their ids.
async fn three_cases(env: &Env) -> [String; 3] {
    let mut ids = Vec::new();
    for (respond, close) in [(true, true), (true, true), (false, false)] {
        let id = env.assigned().await;
        if respond {
            let reply = json!({"message": "Tim kami menuju lokasi."});
            env.dpu_officer.ok(MUTATE_RESPOND, input(&id, reply)).await;
        }
        if close {
            let done = json!({"resolution": "RESOLVED", "summary": "Sudah diperbaiki"});
            env.dpu_officer.ok(MUTATE_CLOSE, input(&id, done)).await;
        }
        ids.push(id);
    }
    ids.try_into().unwrap()
}

/// When each case's events happened in March 2026 (submitted, verified,
/// assigned, responded, closed), by case.
fn schedule(case: usize) -> Vec<DateTime<Utc>> {
    match case {
        0 => vec![
            wita(3, 2, 9),
            wita(3, 2, 9),
            wita(3, 2, 10),
            wita(3, 3, 10), // 7 working hours after the dispatch
            wita(3, 4, 10),
        ],
        1 => vec![
            wita(3, 2, 9),
            wita(3, 2, 9),
            wita(3, 2, 10),
            wita(3, 2, 11), // 1 working hour
            wita(3, 3, 10),
        ],
        // Dispatched Monday 9 March 09:00, no reply: 34 of 35 working hours
        // used by the period's end (at risk), 4 h long gone.
        _ => vec![wita(3, 9, 8), wita(3, 9, 8), wita(3, 9, 9)],
    }
}

/// The export with every event of `ids[k]` moved to `schedule(k)`; the audit
/// chain and checkpoints left out, for the import to seal anew.
fn moved_back(export: &str, ids: &[String; 3]) -> String {
    let mut seen = [0usize; 3];
    let mut out = String::new();
    for line in export.lines() {
        let mut value: Value = serde_json::from_str(line).unwrap();
        if value.get("audit_checkpoint").is_some() {
            continue;
        }
        if let Some(case) = ids.iter().position(|id| value["aggregate_id"] == *id) {
            let times = schedule(case);
            let at = times[seen[case]];
            seen[case] += 1;
            let body = value["payload"].as_object_mut().unwrap();
            let event = body.values_mut().next().unwrap();
            event["occurred_at"] = json!(at.to_rfc3339());
            let object = value.as_object_mut().unwrap();
            object.remove("hash");
            object.remove("prev_hash");
        }
        out.push_str(&serde_json::to_string(&value).unwrap());
        out.push('\n');
    }
    for (case, n) in seen.iter().enumerate() {
        assert_eq!(*n, schedule(case).len(), "case {case}'s events: {export}");
    }
    out
}

/// A store whose log holds the three cases, moved back to March 2026.
async fn march(backend: Backend) -> (aduan_testkit::TestStore, [String; 3]) {
    let env = Env::start(backend).await;
    let ids = three_cases(&env).await;
    let export = temp_file("export", "");
    run_cli(
        &["export", "--output", export.to_str().unwrap()],
        &env.store.url,
    )
    .await;
    env.finish().await;
    let text = std::fs::read_to_string(&export).unwrap();
    let march = temp_file("march", &moved_back(&text, &ids));
    let store = aduan_testkit::TestStore::create(backend).await;
    run_cli(&["import", "--input", march.to_str().unwrap()], &store.url).await;
    (store, ids)
}

async fn a_stricter_response_target_names_the_cases_it_would_breach(backend: Backend) {
    let (store, ids) = march(backend).await;

    // The command line: the same figures as JSON, naming exactly the slow cases.
    let policy = temp_file("policy", STRICTER);
    let period = ["--from", "2026-03-01", "--to", "2026-03-13"];
    let mut args = vec!["sla", "what-if", "--policy", policy.to_str().unwrap()];
    args.extend(period);
    args.push("--json");
    let out: Value = serde_json::from_str(&run_cli(&args, &store.url).await).unwrap();
    let total = &out["total"];
    assert_eq!(total["actual"]["cases"], 3);
    assert_eq!(total["actual"]["breached"], 0);
    assert_eq!(total["actual"]["met"], 2);
    assert_eq!(total["actual"]["at_risk"], 1);
    assert_eq!(total["proposed"]["breached"], 2);
    let changed: Vec<(String, String, String)> = out["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["complaint_id"].as_str().unwrap().to_string(),
                c["actual"]["state"].as_str().unwrap().to_string(),
                c["proposed"]["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut expected = vec![
        (ids[0].clone(), "MET".to_string(), "BREACHED".to_string()),
        (
            ids[2].clone(),
            "AT_RISK".to_string(),
            "BREACHED".to_string(),
        ),
    ];
    expected.sort();
    assert_eq!(changed, expected);
    // The table names them too.
    args.pop();
    let table = run_cli(&args, &store.url).await;
    assert!(table.contains("2 cases change:"), "{table}");
    assert!(table.contains(&format!("{}  DPU ROAD_DAMAGE  MET -> BREACHED", ids[0])));

    // GraphQL: analysts and supervisors, the same answer; others refused.
    let env = Env::start_on(store, &[]).await;
    let variables = json!({"input": {
        "policy": STRICTER, "from": "2026-03-01", "to": "2026-03-13"
    }});
    let data = env.analyst().await.ok(WHAT_IF, variables.clone()).await;
    let answer = &data["slaWhatIf"];
    assert_eq!(answer["changedCount"], 2);
    let named: Vec<(String, String, String)> = answer["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["complaintId"].as_str().unwrap().to_string(),
                c["actual"].as_str().unwrap().to_string(),
                c["proposed"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(named, expected);
    assert_eq!(answer["total"]["proposed"]["breached"], 2);
    assert_eq!(
        answer["total"]["actual"]["medianFirstResponseSeconds"],
        3600
    );
    assert_eq!(timestamp(&answer["from"]), wita(3, 1, 0));
    assert_eq!(timestamp(&answer["to"]), wita(3, 14, 0));
    assert_eq!(env.supervisor.ok(WHAT_IF, variables.clone()).await, data);
    let refused = env.dpu_admin.query(WHAT_IF, variables).await;
    assert_eq!(error_code(&refused), Some("FORBIDDEN"), "{refused}");
    let bad =
        json!({"input": {"policy": "[[policies]]", "from": "2026-03-01", "to": "2026-03-13"}});
    let invalid = env.analyst().await.query(WHAT_IF, bad).await;
    assert_eq!(error_code(&invalid), Some("INVALID_INPUT"), "{invalid}");
    let backwards =
        json!({"input": {"policy": STRICTER, "from": "2026-03-13", "to": "2026-03-01"}});
    let invalid = env.analyst().await.query(WHAT_IF, backwards).await;
    assert_eq!(error_code(&invalid), Some("INVALID_INPUT"), "{invalid}");
    env.finish().await;
}

/// The shipped settings with Tuesday 3 March 2026 made a day off by a
/// correction decided on 30 March.
fn corrected_settings() -> PathBuf {
    let change = "\n[[calendar_changes]]\nversion = 2\n\
         effective_from = \"2026-03-01T00:00:00+08:00\"\n\
         decided_at = \"2026-03-30T09:00:00+08:00\"\n\
         reason = \"cuti bersama missing\"\n\
         add_local_holidays = [\"2026-03-03\"]\n";
    let shipped = include_str!("../../config/sla.toml");
    temp_file("sla", &format!("{shipped}{change}"))
}

/// The deadlines of a case's clocks in `sla_timers`, by leg.
async fn deadlines(env: &Env, id: &str) -> Vec<(String, String)> {
    let q = "query($id: ID!) { slaTimers(filter: {complaintId: $id}) { leg deadline } }";
    let data = env.supervisor.ok(q, json!({"id": id})).await;
    let mut legs: Vec<(String, String)> = data["slaTimers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["leg"].as_str().unwrap().into(),
                t["deadline"].as_str().unwrap().into(),
            )
        })
        .collect();
    legs.sort();
    legs
}

async fn a_calendar_correction_moves_only_the_cases_it_is_applied_to(backend: Backend) {
    let (store, ids) = march(backend).await;
    // The server knows the change; decided after the cases were dispatched,
    // it moves none of them by itself.
    let settings = corrected_settings();
    let path = settings.to_str().unwrap();
    let env = Env::start_on(store, &[("ADUAN_SLA_CONFIG", path)]).await;
    caught_up(&env.store, &env.supervisor).await;
    let mut before = Vec::new();
    for id in &ids {
        before.push(deadlines(&env, id).await);
    }
    let period = ["--from", "2026-03-01", "--to", "2026-03-13"];
    let cli = |command: &[&str]| {
        let mut args = vec!["--sla-config", path, "sla"];
        args.extend_from_slice(command);
        args.extend_from_slice(&period);
        args.into_iter().map(str::to_string).collect::<Vec<_>>()
    };
    let url = env.store.url.clone();
    let run = |args: Vec<String>| {
        let url = url.clone();
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run_cli(&args, &url).await
        }
    };

    // The what-if names what the correction would move: the two cases whose
    // clocks ran over the 3rd, not the one dispatched on the 9th.
    let out = run(cli(&["what-if", "--calendar-correction", "2", "--json"])).await;
    let out: Value = serde_json::from_str(&out).unwrap();
    let mut both = vec![ids[0].clone(), ids[1].clone()];
    both.sort();
    assert_eq!(out["moved"], json!(both));
    assert_eq!(out["changed"], json!([]), "no state changes, deadlines do");

    // Applied, the decision is in each moved case's own log, once.
    let said = run(cli(&["correct-calendar", "--version", "2"])).await;
    assert!(
        said.contains("applied to 2 cases (0 already, 0 refused) of the 2 it moves"),
        "{said}"
    );
    for id in &both {
        let history = env.history(id).await;
        let last = history.last().unwrap();
        assert_eq!(last["type"], "CalendarCorrected", "{history:?}");
        assert_eq!(last["payload"]["version"], 2);
        assert_eq!(last["role"], "SYSTEM");
    }
    assert!(env
        .history(&ids[2])
        .await
        .iter()
        .all(|e| e["type"] != "CalendarCorrected"));
    caught_up(&env.store, &env.supervisor).await;
    let mut after = Vec::new();
    for id in &ids {
        after.push(deadlines(&env, id).await);
    }
    assert_ne!(after[0], before[0], "a corrected case moves");
    assert_ne!(after[1], before[1], "a corrected case moves");
    assert_eq!(
        after[2], before[2],
        "the case the correction does not reach stays"
    );

    // Nothing is left to move, and a rebuild computes what the live
    // projector did: the decision is in the log, not in the settings.
    let again = run(cli(&["correct-calendar", "--version", "2"])).await;
    assert!(
        again.contains("applied to 0 cases (0 already, 0 refused) of the 0 it moves"),
        "{again}"
    );
    run_cli(
        &["--sla-config", path, "projections", "rebuild", "sla_timers"],
        &env.store.url,
    )
    .await;
    caught_up(&env.store, &env.supervisor).await;
    for (id, moved) in ids.iter().zip(&after) {
        assert_eq!(&deadlines(&env, id).await, moved, "rebuilt as it was");
    }
    env.finish().await;
}
