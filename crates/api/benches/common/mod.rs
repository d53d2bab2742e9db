//! What the benches share: sizes and stores from the environment, a fresh
//! store with the server's tables, demo data seeded through the real command
//! path or synthetic summary rows, the commands they send and the baseline
//! read they measure against.

use serde_json::{json, Value};

use aduan_testkit::{Backend, TestServer, TestStore};

// Timed load and the raw transaction baseline (the command benches').
#[allow(dead_code)]
pub mod load;

pub const BIN: &str = env!("CARGO_BIN_EXE_aduan");

pub fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Sequential requests per measured read: ADUAN_BENCH_REQUESTS (default 200).
#[allow(dead_code)]
pub fn requests() -> usize {
    env_number("ADUAN_BENCH_REQUESTS", 200) as usize
}

/// The stores ADUAN_BENCH_STORES names (comma-separated `postgres`,
/// `sqlite`), else those `default` names, PostgreSQL first.
#[allow(dead_code)]
pub fn stores(default: &str) -> Vec<Backend> {
    let names = std::env::var("ADUAN_BENCH_STORES").unwrap_or_else(|_| default.into());
    let named = |name: &str| names.split(',').any(|s| s.trim() == name);
    [(Backend::Postgres, "postgres"), (Backend::Sqlite, "sqlite")]
        .into_iter()
        .filter(|(_, name)| named(name))
        .map(|(backend, _)| backend)
        .collect()
}

/// A fresh store with the server's tables: the server's migrations make them
/// and the server is stopped again.
#[allow(dead_code)]
pub async fn migrated(backend: Backend) -> TestStore {
    let store = TestStore::create(backend).await;
    TestServer::start(BIN, &store.url, &[("ADUAN_WATCH", "false")])
        .await
        .stop()
        .await;
    store
}

/// Adds the rows `row(k)` for k in `from..to` to `complaint_summary`
/// (`columns` names what each row gives), in statements of 5,000 rows.
#[allow(dead_code)]
pub async fn insert_summary(
    store: &TestStore,
    columns: &str,
    range: std::ops::Range<i64>,
    mut row: impl FnMut(i64) -> String,
) {
    let mut i = range.start;
    while i < range.end {
        let end = (i + 5_000).min(range.end);
        let values: Vec<String> = (i..end).map(&mut row).collect();
        let sql = format!(
            "INSERT INTO complaint_summary ({columns}) VALUES {}",
            values.join(", ")
        );
        store.exec(&sql).await.unwrap();
        i = end;
    }
}

/// A deterministic stream of numbers in [0, 1).
#[allow(dead_code)]
pub struct Noise(pub u64);

#[allow(dead_code)]
impl Noise {
    pub fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    fn word(&mut self) -> String {
        format!("kata{}", (self.next() * 500.0) as u32)
    }

    /// The stems of a case's title and description, and of what was written
    /// back: 8 of a vocabulary of 500 words (each in about 1.6% of cases),
    /// plus `jalan` (10%), `lampu` and `padam` (5% each) and `drainase`
    /// (0.5%); a third of cases have had 6 more words written back.
    pub fn texts(&mut self) -> (String, String) {
        let mut main: Vec<String> = (0..8).map(|_| self.word()).collect();
        for (word, p) in [
            ("jalan", 0.10),
            ("lampu", 0.05),
            ("padam", 0.05),
            ("drainase", 0.005),
        ] {
            if self.next() < p {
                main.push(word.into());
            }
        }
        let more: Vec<String> = if self.next() < 0.3 {
            (0..6).map(|_| self.word()).collect()
        } else {
            Vec::new()
        };
        (main.join(" "), more.join(" "))
    }
}

/// The baseline the read benches measure against in the same run: one
/// indexed row through the same path (`complaints` by `externalRef`).
#[allow(dead_code)]
pub const BASELINE: &str = "query($ref: String!) { complaints(first: 1, \
    filter: {externalRef: [$ref]}) { edges { node { id } } } }";

#[allow(dead_code)]
pub const SUBMIT: &str =
    "mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) { id } }";
#[allow(dead_code)]
pub const VERIFY: &str =
    "mutation($input: VerifyComplaintInput!) { verifyComplaint(input: $input) { version } }";
#[allow(dead_code)]
pub const ASSIGN: &str =
    "mutation($input: AssignComplaintInput!) { assignComplaint(input: $input) { version } }";

/// A road report by phone, as a call-center agent submits it.
#[allow(dead_code)]
pub fn report(command_id: Option<String>) -> Value {
    let mut input = json!({
        "channel": "CALL_CENTER", "category": "ROAD_DAMAGE", "title": "Jalan berlubang",
        "description": "Lubang besar di depan SD Inpres, Jl. Veteran Selatan",
        "location": {"latitude": -5.1551, "longitude": 119.4239, "kecamatan": "MAMAJANG"}
    });
    if let Some(id) = command_id {
        input["commandId"] = json!(id);
    }
    json!({"input": input})
}

/// A command's input on one complaint.
#[allow(dead_code)]
pub fn on(id: &str, mut fields: Value) -> Value {
    fields["complaintId"] = json!(id);
    json!({"input": fields})
}

/// `aduan seed --cases N` (two months of Makassar traffic) on the store.
#[allow(dead_code)]
pub fn seed(store: &TestStore, cases: i64) {
    let seeded = std::process::Command::new(BIN)
        .args(["seed", "--cases", &cases.to_string(), "--days", "60"])
        .env("DATABASE_URL", &store.url)
        .output()
        .unwrap();
    assert!(
        seeded.status.success(),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
}

// Each bench uses some of these helpers; the others are not dead code.
#[allow(dead_code)]
pub fn seeded_condition(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => "metadata ->> 'channel' = 'seed'",
        Backend::Sqlite => "json_extract(metadata, '$.channel') = 'seed'",
    }
}

/// Copies the seeded complaints under new ids (`<id>~c<g>` for g in `copies`):
/// same shapes, same sequences and times, in one statement.
#[allow(dead_code)]
pub async fn copy_seeded(store: &TestStore, copies: std::ops::RangeInclusive<i64>) {
    if copies.is_empty() {
        return;
    }
    let (from, to) = (copies.start(), copies.end());
    // Only the complaints seeded through commands, not earlier copies (which
    // carry the same metadata).
    let seeded = format!(
        "{} AND aggregate_id NOT LIKE '%~c%'",
        seeded_condition(store.backend)
    );
    let sql = match store.backend {
        Backend::Postgres => format!(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
             SELECT aggregate_type, aggregate_id || '~c' || g, sequence, event_type, event_version, \
               CASE WHEN event_type = 'Submitted' \
                 THEN jsonb_set(payload::jsonb, '{{Submitted,complaint_id}}', to_jsonb(aggregate_id || '~c' || g))::json \
                 ELSE payload END, metadata \
             FROM events, generate_series({from}, {to}) g WHERE {seeded} ORDER BY g, position"
        ),
        Backend::Sqlite => format!(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
             WITH RECURSIVE g(n) AS (SELECT {from} UNION ALL SELECT n + 1 FROM g WHERE n < {to}) \
             SELECT aggregate_type, aggregate_id || '~c' || n, sequence, event_type, event_version, \
               CASE WHEN event_type = 'Submitted' \
                 THEN json_set(payload, '$.Submitted.complaint_id', aggregate_id || '~c' || n) \
                 ELSE payload END, metadata \
             FROM g, events WHERE {seeded} ORDER BY n, position"
        ),
    };
    store.exec(&sql).await.unwrap();
}

/// Seals copied rows into their complaints' chains, as the server would at
/// start (copies are written without hashes).
#[allow(dead_code)]
pub async fn seal(store: &TestStore) -> u64 {
    aduan_store::audit::seal_unsealed(store.log().await.as_ref())
        .await
        .expect("seal the copied events")
}

#[allow(dead_code)]
pub async fn analyze(store: &TestStore) {
    // As autovacuum (ANALYZE) would have by now on a live system.
    let analyze = match store.backend {
        Backend::Postgres => "VACUUM ANALYZE",
        Backend::Sqlite => "ANALYZE",
    };
    store.exec(analyze).await.unwrap();
}

/// Grows the log of `store` (seeded by `seed`) to at least `min_events` with
/// copies of the seeded complaints, as a city's year; returns its size.
#[allow(dead_code)]
pub async fn grow_to(store: &TestStore, min_events: i64) -> i64 {
    let seeded = store
        .scalar(&format!(
            "SELECT count(*) FROM events WHERE {}",
            seeded_condition(store.backend)
        ))
        .await;
    let copies = (min_events + seeded - 1) / seeded.max(1) - 1;
    copy_seeded(store, 1..=copies).await;
    seal(store).await;
    store.settle().await;
    analyze(store).await;
    store.scalar("SELECT count(*) FROM events").await
}

/// p50 and p99 in milliseconds of `n` sequential requests, after a warm-up
/// (connection, plan caches).
#[allow(dead_code)]
pub async fn latency(
    client: &aduan_testkit::GraphqlClient,
    query: &str,
    variables: serde_json::Value,
    n: usize,
) -> (f64, f64) {
    for _ in 0..3 {
        client.ok(query, variables.clone()).await;
    }
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = std::time::Instant::now();
        client.ok(query, variables.clone()).await;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    (times[n / 2], times[((n * 99) / 100).min(n - 1)])
}

/// A read the benches time, by its name in docs/performance.md.
#[allow(dead_code)]
pub struct Read {
    pub name: &'static str,
    pub query: &'static str,
}

#[allow(dead_code)]
pub const READS: &[Read] = &[
    Read {
        name: "`me` (no database: the HTTP + JWT + GraphQL floor)",
        query: "{ me { id } }",
    },
    Read {
        name: "`complaint(id)`",
        query: "query($id: ID!) { complaint(id: $id) { id status opd title createdAt version } }",
    },
    Read {
        name: "`complaints` first 20, status ASSIGNED/IN_PROGRESS, totalCount",
        query: "query { complaints(first: 20, filter: {status: [ASSIGNED, IN_PROGRESS]}) { totalCount edges { node { id } } } }",
    },
    Read {
        name: "`complaints` first 20, OPD DPU, totalCount",
        query: "query { complaints(first: 20, filter: {opd: [\"DPU\"]}) { totalCount edges { node { id } } } }",
    },
    Read {
        name: "`complaints` first 20, SLA BREACHED, totalCount",
        query: "query { complaints(first: 20, filter: {slaState: [BREACHED]}) { totalCount edges { node { id slaState } } } }",
    },
    Read {
        name: "`complaints` first 20, SLA AT_RISK, totalCount",
        query: "query { complaints(first: 20, filter: {slaState: [AT_RISK]}) { totalCount edges { node { id slaState } } } }",
    },
    Read {
        name: "`complaints` first 20, SLA ON_TRACK, totalCount",
        query: "query { complaints(first: 20, filter: {slaState: [ON_TRACK]}) { totalCount edges { node { id slaState } } } }",
    },
    Read {
        name: "`dashboard` DPU, last 365 days",
        query: "query($from: DateTime!, $to: DateTime!) { dashboard(opd: \"DPU\", from: $from, to: $to) { open overdue responseCompliancePct resolutionCompliancePct respondP50Seconds respondP90Seconds resolveP50Seconds resolveP90Seconds backlogByAge { age open } satisfactionIndex ratings } }",
    },
];

/// p50/p99 ms of each of `READS`, `requests` times one after another, as a
/// supervisor; `some_case` is the id `complaint(id)` reads.
#[allow(dead_code)]
pub async fn read_latencies(
    supervisor: &aduan_testkit::GraphqlClient,
    some_case: &str,
    requests: usize,
) -> Vec<(f64, f64)> {
    let now = chrono::Utc::now();
    let window =
        json!({"from": now - chrono::Duration::days(365), "to": now + chrono::Duration::days(1)});
    let mut out = Vec::new();
    for read in READS {
        let variables = if read.query.contains("$id") {
            json!({"id": some_case})
        } else if read.query.contains("$from") {
            window.clone()
        } else {
            json!({})
        };
        out.push(latency(supervisor, read.query, variables, requests).await);
    }
    out
}

/// Waits until the server's projector has swept every row's SLA standing (a
/// copied log's rows all start unswept; a running city's were swept long ago).
#[allow(dead_code)]
pub async fn swept(store: &TestStore) -> std::time::Duration {
    let t = std::time::Instant::now();
    while store
        .scalar("SELECT count(*) FROM complaint_summary WHERE sla_state_swept IS NULL")
        .await
        > 0
    {
        assert!(t.elapsed().as_secs() < 900, "the server never swept");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    t.elapsed()
}
