//! The NATS JetStream relay's throughput, on each store, against baselines
//! measured in the same run (the machine is shared and noisy: compare ratios):
//!
//! - `read`: the plain ordered read of the same events from the log;
//! - `publish`: the same envelopes published straight to JetStream in the
//!   relay's batches (pipelined, every acknowledgement awaited), built in advance;
//! - `relay`: the relay catching up on the whole log (read, fold, envelope,
//!   publish, acknowledge, checkpoint).
//!
//! `cargo bench -p aduan-api --bench relay` (ADUAN_BENCH_CASES, default 5,000
//! cases from `aduan seed`, about 8 events each). Needs PostgreSQL and NATS with
//! JetStream (scripts/ensure-postgres, scripts/ensure-nats).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

mod common;

use std::sync::Arc;
use std::time::Instant;

use aduan_integration::nats::Publisher;
use aduan_integration::{Envelope, EnvelopeOptions, NatsRelay};
use aduan_store::Follower;
use aduan_store::{Cursor, EventLog};
use aduan_testkit::{Backend, TestStore};

use common::{env_number, seed};

const NATS_URL: &str = "127.0.0.1:4222";

async fn fresh_stream(tag: &str) -> (Publisher, String, String) {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let stream = format!("ADUAN_BENCH_{tag}_{id}");
    let prefix = format!("aduanbench.{id}");
    let publisher = Publisher::connect(NATS_URL, &stream, &prefix)
        .await
        .unwrap_or_else(|e| panic!("{e}; start NATS with scripts/ensure-nats"));
    (publisher, stream, prefix)
}

async fn drop_stream(stream: &str) {
    let client = async_nats::connect(NATS_URL).await.expect("NATS");
    let _ = async_nats::jetstream::new(client)
        .delete_stream(stream)
        .await;
}

async fn run(backend: Backend, cases: i64) {
    let store = TestStore::create(backend).await;
    seed(&store, cases);
    let log: Arc<dyn EventLog> = store.log().await;
    let total = log.count().await.expect("count") as usize;

    let started = Instant::now();
    let mut events = Vec::with_capacity(total);
    let mut cursor = Cursor::default();
    loop {
        let batch = log.read_committed_after(cursor, 1000).await.expect("read");
        let Some(&(last, _)) = batch.last() else {
            break;
        };
        cursor = last;
        events.extend(batch.into_iter().map(|(_, e)| e));
    }
    let read = total as f64 / started.elapsed().as_secs_f64();

    let (publisher, stream, prefix) = fresh_stream("RAW").await;
    let options = EnvelopeOptions::default();
    let messages: Vec<(String, Envelope)> = events
        .iter()
        .map(|e| {
            let envelope = Envelope::new(e, None, &options);
            let subject = aduan_integration::nats::subject(&prefix, &envelope, &e.event_type);
            (subject, envelope)
        })
        .collect();
    let started = Instant::now();
    for batch in messages.chunks(256) {
        publisher.publish(batch).await.expect("publish");
    }
    let publish = total as f64 / started.elapsed().as_secs_f64();
    drop_stream(&stream).await;

    let (publisher, stream, prefix) = fresh_stream("RELAY").await;
    let relay = NatsRelay::new(log.clone(), publisher, options, &prefix);
    let started = Instant::now();
    let relayed = relay.catch_up().await.expect("relay");
    let rate = relayed as f64 / started.elapsed().as_secs_f64();
    drop_stream(&stream).await;
    assert_eq!(relayed, total, "the relay published every event");

    println!(
        "{backend:?}: {total} events | read {read:.0}/s | publish {publish:.0}/s | \
         relay {rate:.0}/s = {:.2} of publish, {:.2} of read",
        rate / publish,
        rate / read
    );
    store.drop_store().await;
}

#[tokio::main]
async fn main() {
    let cases = env_number("ADUAN_BENCH_CASES", 5000) as i64;
    for backend in [Backend::Postgres, Backend::Sqlite] {
        run(backend, cases).await;
    }
}
