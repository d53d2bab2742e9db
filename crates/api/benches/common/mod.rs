//! What both benches need: sizes from the environment and demo data seeded
//! through the real command path.

use aduan_testkit::{Backend, TestStore};

pub const BIN: &str = env!("CARGO_BIN_EXE_aduan");

pub fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
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
