//! `aduan backup` on SQLite, online: taken while a client keeps submitting,
//! the copy holds every command acknowledged before it began, starts as a
//! server, verifies (`aduan audit verify`), finds by text (its search index
//! rebuilt), and its projections rebuild to the rows it came with.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::json;

use aduan_testkit::TestServer;

use crate::support::*;

const FIND: &str =
    "query($text: String) { complaints(filter: {text: $text}, first: 1) { totalCount } }";

/// The summary's rows as text, for comparing before and after a rebuild.
const SUMMARY: &str =
    "SELECT complaint_id || '|' || status || '|' || version || '|' || coalesce(opd, '') \
     FROM complaint_summary ORDER BY complaint_id";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_online_backup_holds_every_acknowledged_command_and_restores_whole() {
    let env = Env::start(Backend::Sqlite).await;
    for _ in 0..10 {
        env.verified().await;
    }
    // A client submitting throughout; each acknowledged id with when it was.
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let writing = Arc::new(AtomicBool::new(true));
    let writer = tokio::spawn({
        let (citizen, acknowledged, writing) =
            (env.citizen.clone(), acknowledged.clone(), writing.clone());
        async move {
            while writing.load(Ordering::Relaxed) {
                let data = citizen.ok(SUBMIT, json!({"input": report()})).await;
                acknowledged
                    .lock()
                    .unwrap()
                    .push((id_of(&data), std::time::Instant::now()));
            }
        }
    });
    // The backup begins once the writer is well under way (a fixed pause was
    // too short on a loaded machine).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while acknowledged.lock().unwrap().len() < 5 {
        assert!(
            std::time::Instant::now() < deadline,
            "the writer never got going"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let dir = std::env::temp_dir().join(format!("aduan-backup-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let copy = dir.join("copy.db");
    let began = std::time::Instant::now();
    let (ok, said, err) = try_cli(
        &["backup", "--output", copy.to_str().unwrap()],
        &env.store.url,
    )
    .await;
    assert!(ok, "{said}{err}");
    writing.store(false, Ordering::Relaxed);
    writer.await.unwrap();
    // An auditor keeps a checkpoint signed after the backup.
    let signed = env
        .supervisor
        .ok("mutation { signAuditCheckpoint { note } }", json!({}))
        .await;
    let kept = dir.join("kept.note");
    std::fs::write(
        &kept,
        signed["signAuditCheckpoint"]["note"].as_str().unwrap(),
    )
    .unwrap();
    let before: Vec<String> = acknowledged
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, at)| *at < began)
        .map(|(id, _)| id.clone())
        .collect();
    assert!(
        before.len() > 3,
        "the writer acknowledged too little before the backup"
    );

    let url = format!("sqlite://{}", copy.display());
    let restored = TestServer::start(BIN, &url, &[("ADUAN_WATCH", "false")]).await;
    let auditor = restored.client(&env.auditor.token);
    for id in &before {
        let read = auditor
            .ok(
                "query($id: ID!) { complaint(id: $id) { id } }",
                json!({"id": id}),
            )
            .await;
        assert_eq!(
            read["complaint"]["id"],
            json!(id),
            "{id} acknowledged before the backup is missing"
        );
    }
    let found = auditor.ok(FIND, json!({"text": "berlubang"})).await;
    assert!(
        found["complaints"]["totalCount"].as_i64().unwrap() >= 10,
        "{found}"
    );
    stop_cleanly(restored).await;

    let (ok, said, err) = try_cli(&["audit", "verify"], &url).await;
    assert!(ok && said.contains("intact"), "{said}{err}");
    // Against the auditor's later checkpoint, the restored log is short:
    // truncation and nothing else (exit status 3).
    let (code, said, err) = cli_status(
        &["audit", "verify", "--published", kept.to_str().unwrap()],
        &url,
    )
    .await;
    assert!(
        code == Some(3) && said.contains("TRUNCATED  position -: published checkpoint 1"),
        "{code:?} {said}{err}"
    );
    let sql = |q: &str| {
        let copy = copy.clone();
        let q = q.to_string();
        async move {
            let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&format!(
                "sqlite://{}",
                copy.display()
            ))
            .await
            .unwrap();
            sqlx::query_scalar::<_, String>(&q)
                .fetch_all(&mut conn)
                .await
                .unwrap()
        }
    };
    let rows = sql(SUMMARY).await;
    let (ok, said, err) = try_cli(&["projections", "rebuild", "complaint_summary"], &url).await;
    assert!(ok, "{said}{err}");
    assert_eq!(
        sql(SUMMARY).await,
        rows,
        "the projection rebuilt from the copy's log differs"
    );
    env.finish().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn on_postgresql_the_backup_points_to_its_own_engines() {
    let store = aduan_testkit::TestStore::create(Backend::Postgres).await;
    let out = std::env::temp_dir().join(format!("aduan-pg-{}.db", uuid::Uuid::new_v4().simple()));
    let (ok, _, err) = try_cli(&["backup", "--output", out.to_str().unwrap()], &store.url).await;
    assert!(!ok && err.contains("pg_basebackup"), "{err}");
    assert!(!out.exists());
    store.drop_store().await;
}
