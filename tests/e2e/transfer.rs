//! Moving a city from SQLite to PostgreSQL with `aduan export` / `aduan import`:
//! every history, complaint and dashboard reads the same on the other side.

use serde_json::{json, Value};

use aduan_testkit::{TestServer, TestStore};

use crate::support::*;

/// A test-only Ed25519 key (seed 00 01 .. 1f) both databases sign with, as a
/// city keeps its ADUAN_AUDIT_KEY when it moves.
const AUDIT_KEY_PEM: &str = "-----BEGIN PRIVATE KEY-----\n\
    MC4CAQAwBQYDK2VwBCIEIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f\n\
    -----END PRIVATE KEY-----\n";

fn audit_key_file() -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!(
        "aduan-audit-key-{}.pem",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&path, AUDIT_KEY_PEM).unwrap();
    path
}

/// Runs the CLI with the test audit key; returns (success, stdout + stderr).
async fn cli(args: &[&str], database_url: &str) -> (bool, String) {
    let out = tokio::process::Command::new(BIN)
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("ADUAN_AUDIT_KEY", key_path())
        .output()
        .await
        .expect("run aduan");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

fn key_path() -> &'static str {
    static KEY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    KEY.get_or_init(|| audit_key_file().to_str().unwrap().to_string())
}

/// JSON equality, with floats equal to 9 significant digits (PostgreSQL's
/// `percentile_cont` and the SQLite side's own interpolation may round apart).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
            _ => x == y,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

const DASHBOARD: &str = "query($opd: String, $from: DateTime!, $to: DateTime!) { \
    dashboard(opd: $opd, from: $from, to: $to) { opd open overdue responseCompliancePct \
      resolutionCompliancePct respondP50Seconds respondP90Seconds resolveP50Seconds \
      resolveP90Seconds backlogByAge { age open } satisfactionIndex ratings } }";

const STATS: &str = "query($from: DateTime!, $to: DateTime!, $by: StatsGroupBy!) { \
    cityStats(from: $from, to: $to, groupBy: $by) { key submitted open closed rejected } }";

/// Everything a city reads, from one server.
async fn readings(server: &TestServer, ids: &[String]) -> Vec<Value> {
    let auditor = server.client(&server.token("AUDITOR", None, "auditor-1").await);
    let supervisor = server.client(&server.token("SUPERVISOR", None, "spv-1").await);
    let mut out = Vec::new();
    for id in ids {
        out.push(auditor.ok(HISTORY, json!({"id": id})).await);
        out.push(auditor.ok(COMPLAINT, json!({"id": id})).await);
    }
    let now = chrono::Utc::now();
    let window =
        json!({"from": now - chrono::Duration::days(60), "to": now + chrono::Duration::days(1)});
    for opd in std::iter::once(Value::Null).chain(OPDS.iter().map(|o| json!(o))) {
        let mut variables = window.clone();
        variables["opd"] = opd;
        out.push(supervisor.ok(DASHBOARD, variables).await);
    }
    for by in ["DAY", "CATEGORY", "KECAMATAN", "CHANNEL"] {
        let mut variables = window.clone();
        variables["by"] = json!(by);
        out.push(supervisor.ok(STATS, variables).await);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_seeded_city_moves_from_sqlite_to_postgresql_unchanged() {
    let sqlite = TestStore::create(Backend::Sqlite).await;
    let (ok, said) = cli(&["seed", "--cases", "80", "--days", "40"], &sqlite.url).await;
    assert!(ok, "{said}");
    // The old database's signed checkpoint, as the city published it.
    let (ok, old_note) = cli(&["audit", "checkpoint"], &sqlite.url).await;
    assert!(ok, "{old_note}");
    let file = std::env::temp_dir().join(format!(
        "aduan-export-{}.jsonl",
        uuid::Uuid::new_v4().simple()
    ));
    let path = file.to_str().unwrap();
    let (ok, said) = cli(&["export", "--output", path], &sqlite.url).await;
    assert!(ok, "{said}");
    let exported = sqlite.scalar("SELECT count(*) FROM events").await;
    assert!(
        said.contains(&format!("exported {exported} events")),
        "{said}"
    );

    let postgres = TestStore::create(Backend::Postgres).await;
    // A broken line near the end: the import is refused and writes nothing.
    let text = std::fs::read_to_string(&file).unwrap();
    let broken = file.with_extension("broken.jsonl");
    let mut lines: Vec<&str> = text.lines().collect();
    let near_end = lines.len() - 2;
    lines[near_end] = "{\"position\": \"not a number\"}";
    std::fs::write(&broken, lines.join("\n")).unwrap();
    let (ok, said) = cli(
        &["import", "--input", broken.to_str().unwrap()],
        &postgres.url,
    )
    .await;
    assert!(!ok, "a broken export must be refused: {said}");
    assert_eq!(
        postgres.scalar("SELECT count(*) FROM events").await,
        0,
        "{said}"
    );

    // A carried checkpoint whose root the events do not add up to: refused
    // before anything commits.
    let checkpoint_line = text
        .lines()
        .position(|l| l.starts_with("{\"audit_checkpoint\""))
        .expect("the export carries the signed checkpoint");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut carried: Value = serde_json::from_str(&lines[checkpoint_line]).unwrap();
    carried["audit_checkpoint"]["root"] = json!("00".repeat(32));
    lines[checkpoint_line] = carried.to_string();
    std::fs::write(&broken, lines.join("\n")).unwrap();
    let (ok, said) = cli(
        &["import", "--input", broken.to_str().unwrap()],
        &postgres.url,
    )
    .await;
    assert!(!ok && said.contains("does not match"), "{said}");
    assert_eq!(postgres.scalar("SELECT count(*) FROM events").await, 0);

    let (ok, said) = cli(&["import", "--input", path], &postgres.url).await;
    assert!(ok, "{said}");
    assert_eq!(
        postgres.scalar("SELECT count(*) FROM events").await,
        exported
    );
    // An export from before checkpoints moved (no checkpoint lines) still imports.
    let older = file.with_extension("older.jsonl");
    let without: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with("{\"audit_checkpoint\""))
        .collect();
    std::fs::write(&older, without.join("\n")).unwrap();
    let elsewhere = TestStore::create(Backend::Sqlite).await;
    let (ok, said) = cli(
        &["import", "--input", older.to_str().unwrap()],
        &elsewhere.url,
    )
    .await;
    assert!(ok, "{said}");
    assert_eq!(
        elsewhere.scalar("SELECT count(*) FROM events").await,
        exported
    );
    assert_eq!(
        elsewhere
            .scalar("SELECT count(*) FROM audit_checkpoints")
            .await,
        0
    );
    elsewhere.drop_store().await;
    let _ = std::fs::remove_file(&older);
    // Importing twice would duplicate the city: refused, nothing written.
    let (ok, said) = cli(&["import", "--input", path], &postgres.url).await;
    assert!(!ok && said.contains("already holds"), "{said}");
    assert_eq!(
        postgres.scalar("SELECT count(*) FROM events").await,
        exported
    );

    let ids = sqlite
        .texts("SELECT DISTINCT aggregate_id FROM events ORDER BY aggregate_id")
        .await;
    // Without the deadline watcher, which would record fresh breaches on each side
    // at its own moment.
    let quiet = [("ADUAN_WATCH", "false"), ("ADUAN_AUDIT_KEY", key_path())];
    let from = TestServer::start(BIN, &sqlite.url, &quiet).await;
    let to = TestServer::start(BIN, &postgres.url, &quiet).await;
    for (server, store) in [(&from, &sqlite), (&to, &postgres)] {
        let supervisor = server.client(&server.token("SUPERVISOR", None, "spv-1").await);
        caught_up(store, &supervisor).await;
    }
    let (before, after) = (readings(&from, &ids).await, readings(&to, &ids).await);
    assert_eq!(before.len(), after.len());
    for (a, b) in before.iter().zip(&after) {
        assert!(same(a, b), "differs after the move:\n{a}\n{b}");
    }
    // The moved city goes on: new positions follow the imported ones.
    let agent = to.client(&to.token("AGENT", None, "agent-1").await);
    let mut report = report();
    report["commandId"] = json!("after-the-move");
    let data = agent
        .ok(
            "mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) { position } }",
            json!({"input": report}),
        )
        .await;
    let max: i64 = sqlite.scalar("SELECT max(position) FROM events").await;
    assert!(data["submitComplaint"]["position"].as_i64().unwrap() > max);
    old_checkpoints_verify_on_the_moved_log(&to, &postgres, &old_note).await;

    for server in [from, to] {
        assert!(server.stop().await.success());
    }
    let _ = std::fs::remove_file(&file);
    let _ = std::fs::remove_file(&broken);
    let _ = std::fs::remove_file(key_path());
    sqlite.drop_store().await;
    postgres.drop_store().await;
}

/// The checkpoint signed on the old database moved with the log: it is listed
/// on the new one, a consistency proof leads from it to a checkpoint signed
/// after the move, and `aduan audit verify --published` holds it to the moved log.
async fn old_checkpoints_verify_on_the_moved_log(
    server: &TestServer,
    store: &TestStore,
    old: &str,
) {
    use aduan_audit::checkpoint::{NoteVerifier, TreeHead};
    use aduan_audit::consistency::verify_consistency;
    let auditor = server.client(&server.token("AUDITOR", None, "auditor-1").await);
    let listed = auditor
        .ok(
            "{ auditCheckpoints(first: 100) { treeSize note } }",
            json!({}),
        )
        .await;
    let notes: Vec<&str> = listed["auditCheckpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["note"].as_str().unwrap())
        .collect();
    assert!(notes.contains(&old), "the old checkpoint moved: {listed}");
    let signed = auditor
        .ok(
            "mutation { signAuditCheckpoint { treeSize note } }",
            json!({}),
        )
        .await;
    let new = signed["signAuditCheckpoint"]["note"].as_str().unwrap();
    let key: Value = reqwest::get(format!("{}/.well-known/aduan-audit-key", server.base_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let verifier = NoteVerifier::parse(key["verifierKey"].as_str().unwrap()).unwrap();
    let (old_head, new_head) = (
        TreeHead::open(old, &verifier).unwrap(),
        TreeHead::open(new, &verifier).unwrap(),
    );
    assert!(new_head.size > old_head.size);
    let proof = auditor
        .ok(
            "query($from: Int!) { auditConsistency(from: $from) { fromSize toSize proof \
             toCheckpoint { note } } }",
            json!({"from": old_head.size}),
        )
        .await["auditConsistency"]
        .clone();
    assert_eq!(proof["toCheckpoint"]["note"], new);
    let nodes: Vec<[u8; 32]> = proof["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            hex::decode(h.as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap()
        })
        .collect();
    assert!(verify_consistency(
        old_head.size,
        new_head.size,
        &old_head.root,
        &new_head.root,
        &nodes
    ));
    let kept =
        std::env::temp_dir().join(format!("aduan-old-{}.txt", uuid::Uuid::new_v4().simple()));
    std::fs::write(&kept, old).unwrap();
    let (ok, said) = cli(
        &["audit", "verify", "--published", kept.to_str().unwrap()],
        &store.url,
    )
    .await;
    assert!(ok, "{said}");
    assert!(
        said.contains(&format!(
            "published checkpoint of {} events: consistent with the signed checkpoint of {} events",
            old_head.size, new_head.size
        )),
        "{said}"
    );
    let _ = std::fs::remove_file(&kept);
}
