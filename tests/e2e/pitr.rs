//! Point-in-time recovery of PostgreSQL, driven through `scripts/pitr` on a
//! private cluster with WAL archiving: a base backup taken while a client
//! submits (each command with its `commandId`), an attachment uploaded, then
//! a recovery target (a time, and a named restore point), more commands and a
//! file after it, and an auditor's checkpoint signed after that. Each restore
//! holds every command acknowledged before its target and none sent after it;
//! the one to the restore point also starts as a server, serves the file
//! uploaded before the target from the objects copied back, verifies
//! (`aduan audit verify`; against the auditor's later checkpoint it says the
//! log is truncated, exit status 3), and rebuilds its projections to the rows
//! it came with.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use sqlx::{Connection, PgConnection};

use aduan_testkit::{TestDatabase, TestServer, TestStore};

use crate::attachments::{pdf, upload};
use crate::support::*;

/// The private clusters' ports (this test's own range): the archived source,
/// the restore to a time, the restore to a restore point.
const SOURCE: u16 = 26101;
const BY_TIME: u16 = 26102;
const BY_NAME: u16 = 26103;
/// How long one `scripts/pitr` step may take before the test fails.
const STEP: Duration = Duration::from_secs(300);
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/pitr");
/// The state directories this test makes, with its process id inside.
const PREFIX: &str = "aduan-pitr-test-";
const TEST_PID: &str = "test.pid";

const SUMMARY: &str = "SELECT complaint_id::text || '|' || status || '|' || version::text \
     || '|' || coalesce(opd, '') FROM complaint_summary ORDER BY complaint_id";
const ATTACHMENTS: &str = "query($id: ID!) { complaint(id: $id) { attachments { id size url } } }";

/// `scripts/pitr`'s state directory; `scripts/pitr down` stops its clusters
/// and removes it when dropped, even when the test panics.
struct Drill {
    dir: PathBuf,
    /// The lines starting `pitr:` the steps printed (their figures).
    said: Mutex<Vec<String>>,
}

impl Drill {
    async fn up() -> Drill {
        sweep_orphans();
        let dir = std::env::temp_dir().join(format!("{PREFIX}{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(TEST_PID), std::process::id().to_string()).unwrap();
        let drill = Drill {
            dir,
            said: Mutex::new(Vec::new()),
        };
        drill.run(&["up", "--port", &SOURCE.to_string()]).await;
        drill
    }

    /// Runs `scripts/pitr ARGS` (bounded by `STEP`); its standard output.
    async fn run(&self, args: &[&str]) -> String {
        let out = tokio::time::timeout(
            STEP,
            tokio::process::Command::new(SCRIPT)
                .args(args)
                .env("ADUAN_PITR_DIR", &self.dir)
                .kill_on_drop(true)
                .output(),
        )
        .await
        .unwrap_or_else(|_| panic!("scripts/pitr {args:?} took over {STEP:?}"))
        .expect("run scripts/pitr");
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(
            out.status.success(),
            "scripts/pitr {args:?} failed: {stdout}{stderr}"
        );
        let mut said = self.said.lock().unwrap();
        said.extend(
            stdout
                .lines()
                .filter(|l| l.starts_with("pitr:"))
                .map(str::to_string),
        );
        stdout
    }

    fn admin(&self, port: u16) -> String {
        format!("postgres://postgres@127.0.0.1:{port}/postgres")
    }
}

impl Drop for Drill {
    fn drop(&mut self) {
        down(&self.dir);
    }
}

fn down(dir: &Path) {
    let _ = std::process::Command::new("timeout")
        .args(["120", SCRIPT, "down"])
        .env("ADUAN_PITR_DIR", dir)
        .output();
    let _ = std::fs::remove_dir_all(dir);
}

/// Takes down drills left behind by test processes that died without
/// dropping theirs (they hold this test's ports).
fn sweep_orphans() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with(PREFIX) {
            continue;
        }
        let dir = entry.path();
        let pid = std::fs::read_to_string(dir.join(TEST_PID)).unwrap_or_default();
        if pid.trim().is_empty() || !Path::new("/proc").join(pid.trim()).exists() {
            down(&dir);
        }
    }
}

/// One acknowledged submission: its `commandId`, the complaint, when its
/// request was sent and when it was answered.
#[derive(Clone)]
struct Acked {
    key: String,
    id: String,
    sent: Instant,
    answered: Instant,
}

/// A client submitting until `writing` turns false.
fn writer(
    citizen: aduan_testkit::GraphqlClient,
    writing: Arc<AtomicBool>,
    acked: Arc<Mutex<Vec<Acked>>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        for i in 0.. {
            if !writing.load(Ordering::Relaxed) {
                return;
            }
            let key = format!("pitr-{i}");
            let mut input = report();
            input["commandId"] = json!(key);
            let sent = Instant::now();
            let data = citizen.ok(SUBMIT, json!({"input": input})).await;
            let answered = Instant::now();
            acked.lock().unwrap().push(Acked {
                key,
                id: id_of(&data),
                sent,
                answered,
            });
        }
    })
}

/// The `commandId` and complaint of each submission stored in `url`'s log.
async fn stored_submissions(url: &str) -> HashSet<(String, String)> {
    let mut db = PgConnection::connect(url)
        .await
        .expect("connect to the restored copy");
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT metadata ->> 'command_id', aggregate_id::text FROM events \
         WHERE aggregate_type = 'Complaint' AND metadata ->> 'command_id' LIKE 'pitr-%'",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    rows.into_iter().collect()
}

/// Every command answered before `before` is in the copy at `url`, on its
/// complaint; none sent after `after` is. Returns how many were kept.
async fn holds(url: &str, acked: &[Acked], before: Instant, after: Instant, what: &str) -> usize {
    let stored = stored_submissions(url).await;
    let kept: Vec<&Acked> = acked.iter().filter(|a| a.answered < before).collect();
    assert!(kept.len() > 3, "too little was acknowledged before {what}");
    for a in &kept {
        assert!(
            stored.contains(&(a.key.clone(), a.id.clone())),
            "{} (complaint {}) was acknowledged before {what} and is missing",
            a.key,
            a.id
        );
    }
    let later: Vec<&str> = acked
        .iter()
        .filter(|a| a.sent > after)
        .filter(|a| stored.iter().any(|(k, _)| *k == a.key))
        .map(|a| a.key.as_str())
        .collect();
    assert!(
        later.is_empty(),
        "sent after {what}, yet restored: {later:?}"
    );
    assert!(
        acked.iter().any(|a| a.sent > after),
        "nothing was sent after {what}"
    );
    kept.len()
}

/// The URL of the test's database on the cluster at `port`.
fn on_port(url: &str, port: u16) -> String {
    url.replace(&format!(":{SOURCE}/"), &format!(":{port}/"))
}

/// What the drill kept to check the restores against.
struct Before {
    acked: Vec<Acked>,
    /// The recovery target time (as given to `scripts/pitr restore`), and the
    /// instant it was taken.
    time: (String, Instant),
    /// When `scripts/pitr mark` was called and when it returned.
    mark: (Instant, Instant),
    /// The complaint holding the attachment uploaded before the target.
    complaint: String,
    file: Vec<u8>,
    /// The auditor's checkpoint, signed after the target.
    kept: PathBuf,
}

/// The source's life: a base backup under load, a file, the targets, more
/// commands and a file after them, the objects copied, an auditor's checkpoint.
async fn live(drill: &Drill, env: &Env) -> Before {
    for _ in 0..5 {
        env.verified().await;
    }
    let acked = Arc::new(Mutex::new(Vec::new()));
    let writing = Arc::new(AtomicBool::new(true));
    let stream = writer(env.citizen.clone(), writing.clone(), acked.clone());
    tokio::time::sleep(Duration::from_millis(300)).await;
    drill.run(&["base-backup", "nightly"]).await;
    let complaint = env.submit().await;
    let file = pdf(20_000);
    let added = upload(
        &env.citizen,
        json!({"complaintId": complaint}),
        file.clone(),
        "before.pdf",
    )
    .await;
    assert!(added.get("errors").is_none(), "{added}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let time = (
        chrono::Utc::now()
            .format("%Y-%m-%d %H:%M:%S%.6f+00")
            .to_string(),
        Instant::now(),
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mark_called = Instant::now();
    drill.run(&["mark", "before-the-drill-ends"]).await;
    let mark = (mark_called, Instant::now());
    tokio::time::sleep(Duration::from_millis(300)).await;
    // After the targets: a file no restored event names (an orphan there).
    let late = upload(
        &env.citizen,
        json!({"complaintId": complaint}),
        pdf(30_000),
        "after.pdf",
    )
    .await;
    assert!(late.get("errors").is_none(), "{late}");
    writing.store(false, Ordering::Relaxed);
    tokio::time::timeout(Duration::from_secs(30), stream)
        .await
        .expect("the writer stops")
        .unwrap();
    let objects = env.server.data_dir.join("attachments");
    drill.run(&["objects", objects.to_str().unwrap()]).await;
    let signed = env
        .supervisor
        .ok("mutation { signAuditCheckpoint { note } }", json!({}))
        .await;
    let kept = drill.dir.join("auditor.note");
    std::fs::write(
        &kept,
        signed["signAuditCheckpoint"]["note"].as_str().unwrap(),
    )
    .unwrap();
    let acked = acked.lock().unwrap().clone();
    Before {
        acked,
        time,
        mark,
        complaint,
        file,
        kept,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn point_in_time_recovery_keeps_every_acknowledged_command_and_file() {
    let drill = Drill::up().await;
    let store = TestStore::postgres(TestDatabase::create_on(&drill.admin(SOURCE)).await);
    let env = Env::start_on(store, &[("ADUAN_WATCH", "false")]).await;
    let before = live(&drill, &env).await;

    drill
        .run(&[
            "restore",
            "--target-time",
            &before.time.0,
            "--port",
            &BY_TIME.to_string(),
        ])
        .await;
    let by_time = on_port(&env.store.url, BY_TIME);
    let t = before.time.1;
    let kept_by_time = holds(&by_time, &before.acked, t, t, "the target time").await;

    let data = drill.dir.join("restored-aduan");
    let objects = data.join("attachments");
    drill
        .run(&[
            "restore",
            "--target-name",
            "before-the-drill-ends",
            "--port",
            &BY_NAME.to_string(),
            "--objects-to",
            objects.to_str().unwrap(),
        ])
        .await;
    let url = on_port(&env.store.url, BY_NAME);
    let (called, returned) = before.mark;
    let kept = holds(&url, &before.acked, called, returned, "the restore point").await;
    serves_the_restored_city(&url, &data, &env, &before).await;
    verifies_and_rebuilds(&url, &objects, &before.kept).await;
    println!(
        "pitr: {} of {} acknowledged commands restored to the time, {kept} to the restore \
         point\n{}",
        kept_by_time,
        before.acked.len(),
        drill.said.lock().unwrap().join("\n")
    );
    env.finish().await;
}

/// aduan starts on the restored database: every acknowledged complaint reads
/// back, and the file uploaded before the target downloads, byte for byte,
/// from the objects copied back; the one uploaded after it is not listed.
async fn serves_the_restored_city(url: &str, data: &Path, env: &Env, before: &Before) {
    let data = data.to_str().unwrap();
    let restored = TestServer::start(
        BIN,
        url,
        &[("ADUAN_WATCH", "false"), ("ADUAN_DATA_DIR", data)],
    )
    .await;
    let auditor = restored.client(&env.auditor.token);
    let (called, _) = before.mark;
    for a in before.acked.iter().filter(|a| a.answered < called) {
        let read = auditor
            .ok(
                "query($id: ID!) { complaint(id: $id) { id } }",
                json!({"id": a.id}),
            )
            .await;
        assert_eq!(
            read["complaint"]["id"],
            json!(a.id),
            "{} is not served",
            a.key
        );
    }
    let citizen = restored.client(&env.citizen.token);
    let listed = citizen
        .ok(ATTACHMENTS, json!({"id": before.complaint}))
        .await;
    let files = listed["complaint"]["attachments"].as_array().unwrap();
    assert_eq!(
        files.len(),
        1,
        "only the file sent before the target: {listed}"
    );
    let link = files[0]["url"].as_str().unwrap();
    let got = crate::attachments::fetch(&restored, link).await;
    assert_eq!(got.status(), 200, "the restored file downloads");
    assert_eq!(
        got.bytes().await.unwrap().to_vec(),
        before.file,
        "the restored file is the one uploaded"
    );
    stop_cleanly(restored).await;
}

/// `aduan audit verify` passes; against the auditor's later checkpoint it
/// reports truncation with exit status 3; `aduan attachments check` finds
/// nothing missing (the later file is an orphan); the summary rebuilds equal.
async fn verifies_and_rebuilds(url: &str, objects: &Path, kept: &Path) {
    let (ok, said, err) = try_cli(&["audit", "verify"], url).await;
    assert!(ok && said.contains("intact"), "{said}{err}");
    let (code, said, err) = cli_status(
        &["audit", "verify", "--published", kept.to_str().unwrap()],
        url,
    )
    .await;
    assert_eq!(code, Some(3), "{said}{err}");
    assert!(
        said.contains("TRUNCATED") && said.contains("published checkpoint 1 (signed"),
        "{said}"
    );
    assert!(err.contains("After a restore this is expected"), "{err}");
    let dir = objects.to_str().unwrap();
    let (ok, said, err) = try_cli(&["attachments", "check", "--attachments-dir", dir], url).await;
    assert!(ok && said.contains(" 0 missing, 1 orphaned"), "{said}{err}");

    let summary = || async {
        let mut db = PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar::<_, String>(SUMMARY)
            .fetch_all(&mut db)
            .await
            .unwrap()
    };
    let rows = summary().await;
    assert!(!rows.is_empty());
    let (ok, said, err) = try_cli(&["projections", "rebuild", "complaint_summary"], url).await;
    assert!(ok, "{said}{err}");
    assert_eq!(
        summary().await,
        rows,
        "the projection rebuilt from the restored log differs"
    );
}
