//! Read replicas in-process (`--read-database-url`): which reads go to a
//! replica and what a replica that is down costs. The "replicas" are the
//! primary's own database (always caught up) and a port nothing listens on
//! (down); tests/e2e/replicas.rs runs a real, delayed, streaming standby.

use serde_json::{json, Value};

use aduan_domain::Role;
use aduan_testkit::pg::TestDatabase;

use crate::support::*;

/// Nothing listens here (a port of this module's range, never bound).
const DOWN: &str = "postgres://postgres@127.0.0.1:26098/aduan";

const LIST: &str =
    "query($min: Int) { complaints(first: 100, minPosition: $min) { edges { node { id } } } }";
const ONE: &str = "query($id: ID!) { complaint(id: $id) { id } }";

/// Every replica series of `/metrics`, by name with labels.
async fn replica_series(app: &App) -> std::collections::BTreeMap<String, f64> {
    let answer = app.get("/metrics").await;
    let text = answer.body.as_str().unwrap().to_string();
    text.lines()
        .filter(|l| l.starts_with("aduan_replica_"))
        .filter_map(|l| l.rsplit_once(' '))
        .map(|(name, value)| (name.to_string(), value.parse().unwrap()))
        .collect()
}

async fn series(app: &App, name: &str) -> f64 {
    replica_series(app)
        .await
        .get(name)
        .copied()
        .unwrap_or_else(|| panic!("no {name}"))
}

fn listed(data: &Value) -> Vec<String> {
    data["complaints"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn lists_go_to_the_replicas_and_a_replica_that_is_down_fails_no_read() {
    let db = TestDatabase::create().await;
    let replicas = format!("{},{DOWN}", db.url);
    let app = App::start_on(Some(&db.url), &["--read-database-url", &replicas]).await;
    let cast = Cast::of(&app);
    let supervisor = Client::new(&app, Role::Supervisor, None, "spv-1");

    // Commands and single-case reads never ask a replica.
    let before = replica_series(&app).await;
    let id = cast.submitted().await;
    supervisor.ok(ONE, json!({"id": id})).await;
    assert_eq!(replica_series(&app).await, before);

    // Lists do, in turn: the live one answers, the one that is down falls
    // back to the primary and is set aside; none fails.
    let data = cast.citizen.ok(SUBMIT, json!({"input": report()})).await;
    let position = returned(&data)["position"].as_i64().unwrap();
    let answered = series(&app, r#"aduan_replica_reads_total{outcome="replica"}"#).await;
    let fell_back = series(&app, r#"aduan_replica_reads_total{outcome="primary"}"#).await;
    let reached = series(&app, r#"aduan_replica_waits_total{outcome="reached"}"#).await;
    for min in [None, None, None, Some(position), Some(position)] {
        let data = supervisor.ok(LIST, json!({ "min": min })).await;
        assert!(listed(&data).contains(&id), "{data}");
    }
    assert!(series(&app, r#"aduan_replica_reads_total{outcome="replica"}"#).await > answered);
    assert!(series(&app, r#"aduan_replica_reads_total{outcome="primary"}"#).await > fell_back);
    assert!(series(&app, r#"aduan_replica_waits_total{outcome="reached"}"#).await > reached);
    app.finish().await;
    db.drop_db().await;
}

#[tokio::test]
async fn a_replica_beside_sqlite_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("aduan.db").display());
    let cli = <aduan_api::cli::Cli as clap::Parser>::try_parse_from([
        "aduan",
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--database-url",
        &database,
        "serve",
        "--read-database-url",
        DOWN,
    ])
    .unwrap();
    let aduan_api::cli::Commands::Serve(args) = &cli.command else {
        unreachable!("parsed `serve`")
    };
    let refused = aduan_api::state::AppState::build(&cli, args)
        .await
        .err()
        .unwrap();
    assert!(
        refused.to_string().contains("SQLite has no replicas"),
        "{refused}"
    );
}
