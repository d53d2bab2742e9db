//! Read replicas (docs/operations.md, "Read replicas"): a private primary and a
//! hot standby made from it with `pg_basebackup -R` that applies the
//! primary's commits 10 s late (`recovery_min_apply_delay`), both started by
//! `scripts/replica-cluster`, and the real server with DATABASE_URL at the
//! primary and ADUAN_READ_DATABASE_URL at the standby. A list read without
//! `minPosition` right after a submission is stale (the standby has not
//! applied it); with the submission's position it shows the case, answered by
//! the primary after the bounded wait; once the standby has caught up it
//! answers itself; and with the standby down, reads go on from the primary.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;
use sqlx::{Connection, PgConnection};

use aduan_testkit::{GraphqlClient, TestServer};

use crate::support::*;

/// This module's ports (the helpers' range 26000-26099; the script's own
/// defaults are 26001 and 26002, for operators trying it by hand).
const PRIMARY_PORT: &str = "26040";
const STANDBY_PORT: &str = "26041";
const APPLY_DELAY: &str = "10s";
/// The server's wait for the standby to reach a `minPosition`: shorter than
/// the delay, so such a read is answered by the primary.
const WAIT_MS: &str = "1000";

const LIST: &str = "query($min: Int) { complaints(first: 100, minPosition: $min) { position edges { node { id } } } }";

/// The primary and standby `scripts/replica-cluster` started; stopped and
/// removed when dropped.
struct ReplicaCluster {
    dir: PathBuf,
    primary: String,
    standby: String,
}

impl ReplicaCluster {
    async fn start() -> ReplicaCluster {
        let dir = std::env::temp_dir().join(format!(
            "aduan-replica-test-{}",
            uuid::Uuid::new_v4().simple()
        ));
        let cluster = ReplicaCluster {
            dir,
            primary: format!("postgres://postgres@127.0.0.1:{PRIMARY_PORT}/aduan"),
            standby: format!("postgres://postgres@127.0.0.1:{STANDBY_PORT}/aduan"),
        };
        cluster.script("start").await;
        cluster
    }

    fn command(&self, action: &str) -> Command {
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/replica-cluster");
        let mut command = Command::new(script);
        command
            .arg(action)
            .env("ADUAN_REPLICA_DIR", &self.dir)
            .env("ADUAN_REPLICA_PRIMARY_PORT", PRIMARY_PORT)
            .env("ADUAN_REPLICA_STANDBY_PORT", STANDBY_PORT)
            .env("ADUAN_REPLICA_APPLY_DELAY", APPLY_DELAY);
        command
    }

    /// Runs `scripts/replica-cluster ACTION`, bounded in time.
    async fn script(&self, action: &str) {
        let mut command = tokio::process::Command::from(self.command(action));
        command.kill_on_drop(true);
        let out = tokio::time::timeout(Duration::from_secs(120), command.output())
            .await
            .unwrap_or_else(|_| panic!("scripts/replica-cluster {action} took over 120 s"))
            .expect("run scripts/replica-cluster");
        assert!(
            out.status.success(),
            "scripts/replica-cluster {action} failed (PostgreSQL's server binaries under \
             /usr/lib/postgresql: scripts/ensure-postgres installs them):\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Waits until the standby has replayed everything the primary has
    /// written so far (the server's migrations, before its first read).
    async fn standby_replayed(&self) {
        let mut primary = PgConnection::connect(&self.primary).await.unwrap();
        let written: String = sqlx::query_scalar("SELECT pg_current_wal_lsn()::text")
            .fetch_one(&mut primary)
            .await
            .unwrap();
        let mut standby = PgConnection::connect(&self.standby).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let replayed: Option<bool> =
                sqlx::query_scalar("SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn")
                    .bind(&written)
                    .fetch_one(&mut standby)
                    .await
                    .unwrap();
            if replayed == Some(true) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the standby never replayed {written}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for ReplicaCluster {
    fn drop(&mut self) {
        let _ = self.command("stop").output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn list(client: &GraphqlClient, min: Option<i64>) -> (Vec<String>, i64) {
    let page = client.ok(LIST, json!({ "min": min })).await;
    let page = &page["complaints"];
    let ids = page["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_string())
        .collect();
    (ids, page["position"].as_i64().unwrap())
}

/// A series of `/metrics`, by its full name with labels.
async fn metric(server: &TestServer, series: &str) -> f64 {
    let text = server.get("/metrics").await.text().await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{series} ")))
        .unwrap_or_else(|| panic!("no {series} in:\n{text}"))
        .trim()
        .parse()
        .unwrap()
}

const BEHIND: &str = "aduan_replica_waits_total{outcome=\"behind\"}";
const REACHED: &str = "aduan_replica_waits_total{outcome=\"reached\"}";
const BY_REPLICA: &str = "aduan_replica_reads_total{outcome=\"replica\"}";
const BY_PRIMARY: &str = "aduan_replica_reads_total{outcome=\"primary\"}";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delayed_replica_reads_stale_without_min_position_and_fresh_with_it() {
    let cluster = ReplicaCluster::start().await;
    let server = TestServer::start(
        BIN,
        &cluster.primary,
        &[
            ("ADUAN_READ_DATABASE_URL", cluster.standby.as_str()),
            ("ADUAN_READ_REPLICA_WAIT_MS", WAIT_MS),
        ],
    )
    .await;
    cluster.standby_replayed().await;
    let citizen = server.client(&server.token("CITIZEN", None, "warga-1").await);
    let supervisor = server.client(&server.token("SUPERVISOR", None, "spv-1").await);

    let submitted = citizen.ok(SUBMIT, json!({"input": report()})).await;
    let (id, position) = (
        id_of(&submitted),
        returned(&submitted)["position"].as_i64().unwrap(),
    );
    let (ids, seen) = list(&supervisor, None).await;
    assert!(
        !ids.contains(&id) && seen < position,
        "the standby applies commits 10 s late: a list right after the submission must \
         not show it, yet it did (list at position {seen}, the case at {position}); \
         the server's log:\n{}",
        server.log()
    );
    assert!(metric(&server, BY_REPLICA).await >= 1.0);

    let behind = metric(&server, BEHIND).await;
    let asked = Instant::now();
    let (ids, seen) = list(&supervisor, Some(position)).await;
    let took = asked.elapsed();
    assert!(
        ids.contains(&id) && seen >= position,
        "minPosition must show the case"
    );
    assert_eq!(
        metric(&server, BEHIND).await,
        behind + 1.0,
        "answered by the primary"
    );
    assert!(
        took >= Duration::from_millis(900),
        "the replica was waited for first ({took:?})"
    );
    println!("minPosition on a 10 s delayed standby: answered by the primary after {took:?}");

    caught_up_on_the_replica(&server, &supervisor, &id, position).await;
    reads_go_on_with_the_replica_down(&cluster, &server, &supervisor, &citizen, &id).await;
    stop_cleanly(server).await;
}

/// The standby catches up within the delay and then answers, `minPosition`
/// included, by itself.
async fn caught_up_on_the_replica(
    server: &TestServer,
    supervisor: &GraphqlClient,
    id: &String,
    position: i64,
) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !list(supervisor, None).await.0.contains(id) {
        assert!(Instant::now() < deadline, "the standby never caught up");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (reached, by_replica) = (
        metric(server, REACHED).await,
        metric(server, BY_REPLICA).await,
    );
    let (ids, _) = list(supervisor, Some(position)).await;
    assert!(ids.contains(id));
    assert_eq!(metric(server, REACHED).await, reached + 1.0);
    assert!(metric(server, BY_REPLICA).await > by_replica);
}

/// With the standby stopped, lists (with and without `minPosition`) are
/// answered by the primary, commands go on, and the process stays ready.
async fn reads_go_on_with_the_replica_down(
    cluster: &ReplicaCluster,
    server: &TestServer,
    supervisor: &GraphqlClient,
    citizen: &GraphqlClient,
    id: &String,
) {
    cluster.script("stop-standby").await;
    let by_primary = metric(server, BY_PRIMARY).await;
    let (ids, _) = list(supervisor, None).await;
    assert!(
        ids.contains(id),
        "the primary answers for the replica that is down"
    );
    assert!(metric(server, BY_PRIMARY).await > by_primary);
    let submitted = citizen.ok(SUBMIT, json!({"input": report()})).await;
    let position = returned(&submitted)["position"].as_i64().unwrap();
    let (ids, _) = list(supervisor, Some(position)).await;
    assert!(ids.contains(&id_of(&submitted)));
    let ready = server.get("/readyz").await;
    assert_eq!(
        ready.status(),
        200,
        "a replica that is down leaves the process ready"
    );
    assert!(
        server.log().contains("a read replica failed a read"),
        "the log says which replica failed:\n{}",
        server.log()
    );
}

/// SQLite has no replicas: the server refuses to start with one.
#[tokio::test]
async fn a_replica_beside_sqlite_is_refused_at_start() {
    let dir = std::env::temp_dir().join(format!("aduan-replica-{}", uuid::Uuid::new_v4().simple()));
    let mut command = tokio::process::Command::new(BIN);
    command
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/aduan.db", dir.display()),
        )
        .env("ADUAN_DATA_DIR", &dir)
        .env(
            "ADUAN_READ_DATABASE_URL",
            "postgres://postgres@127.0.0.1:26099/aduan",
        )
        .kill_on_drop(true);
    std::fs::create_dir_all(&dir).unwrap();
    let out = tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("the server must exit, not serve")
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("SQLite has no replicas"), "{stderr}");
}
