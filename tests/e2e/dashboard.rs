//! `dashboard` and `cityStats` from the projections, through the real server.

use serde_json::{json, Value};

use crate::support::*;

const DASHBOARD: &str = "query($opd: String, $from: DateTime!, $to: DateTime!) { \
    dashboard(opd: $opd, from: $from, to: $to) { opd open overdue responseCompliancePct \
      resolutionCompliancePct respondP50Seconds respondP90Seconds resolveP50Seconds \
      backlogByAge { age open } satisfactionIndex ratings } }";

const STATS: &str = "query($from: DateTime!, $to: DateTime!, $by: StatsGroupBy!) { \
    cityStats(from: $from, to: $to, groupBy: $by) { key submitted open closed rejected } }";

fn window() -> Value {
    let now = chrono::Utc::now();
    json!({"from": now - chrono::Duration::days(1), "to": now + chrono::Duration::days(1)})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_opds_dashboard_and_the_city_statistics_add_up() {
    let env = Env::start().await;
    let answered = env.assigned().await;
    let _waiting = env.assigned().await;
    let spam = env.submit().await;
    env.dpu_officer
        .ok(
            MUTATE_RESPOND,
            json!({"input": {"complaintId": answered, "message": "Segera"}}),
        )
        .await;
    env.dpu_officer
        .ok(MUTATE_CLOSE, json!({"input": {"complaintId": answered, "resolution": "RESOLVED", "summary": "Selesai"}}))
        .await;
    env.citizen
        .ok(
            MUTATE_RATE,
            json!({"input": {"complaintId": answered, "score": 5}}),
        )
        .await;
    env.agent
        .ok(
            MUTATE_REJECT,
            json!({"input": {"complaintId": spam, "reason": "SPAM"}}),
        )
        .await;

    let mut variables = window();
    variables["opd"] = json!("DPU");
    let mut dashboard = Value::Null;
    for _ in 0..100 {
        dashboard = env.supervisor.ok(DASHBOARD, variables.clone()).await["dashboard"].clone();
        if dashboard["ratings"] == 1 && dashboard["resolutionCompliancePct"].is_number() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(dashboard["opd"], "DPU");
    assert_eq!(dashboard["open"], 1);
    assert_eq!(dashboard["overdue"], 0);
    assert_eq!(dashboard["responseCompliancePct"], 100.0);
    assert_eq!(dashboard["resolutionCompliancePct"], 100.0);
    assert!(dashboard["respondP50Seconds"].as_f64().unwrap() >= 0.0);
    assert_eq!(
        dashboard["backlogByAge"][0],
        json!({"age": "<1d", "open": 1})
    );
    assert_eq!(dashboard["satisfactionIndex"], 100.0);

    // An OPD reads its own dashboard only; citizens none.
    assert_eq!(
        env.dlh_officer
            .error_code(DASHBOARD, variables.clone())
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        env.dpu_officer.ok(DASHBOARD, variables.clone()).await["dashboard"]["open"],
        1
    );
    assert_eq!(
        env.citizen.error_code(DASHBOARD, variables).await,
        "FORBIDDEN"
    );

    let mut by = window();
    by["by"] = json!("CATEGORY");
    let stats = env.analyst().await.ok(STATS, by.clone()).await["cityStats"].clone();
    assert_eq!(
        stats,
        json!([{"key": "ROAD_DAMAGE", "submitted": 3, "open": 1, "closed": 1, "rejected": 1}])
    );
    by["by"] = json!("DAY");
    let days = env.agent.ok(STATS, by.clone()).await["cityStats"].clone();
    let today_wita = (chrono::Utc::now() + chrono::Duration::hours(8))
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(days[0]["key"], today_wita);
    assert_eq!(days[0]["submitted"], 3);
    by["to"] = by["from"].clone();
    assert_eq!(env.agent.error_code(STATS, by).await, "INVALID_INPUT");
    env.finish().await;
}
