//! `aduan export` and `aduan import`: the event log as JSON lines. The keys
//! that seal reporters' personal data come first, one `{"personal_key": ...}`
//! line each (erased ones without their secret, with when and why), then the
//! audit key ring (one `{"audit_keys": ...}` line), then the signed audit
//! checkpoints (`checkpoints`), then the events; an export made
//! before keys existed has only events (its personal data in plain text,
//! sealed by `import` afterwards), one made before checkpoints moved has none.

mod checkpoints;

use std::io::{BufRead, Write};

use anyhow::Context;

use aduan_store::audit::Checkpoint;
use aduan_store::export::CHUNK;
use aduan_store::{EventLog, ExportedEvent, ImportChunk, KeyRecord};

use checkpoints::{CheckpointLine, TreeCheck};

/// The audit key ring's line of an export.
const AUDIT_KEYS: &str = "audit_keys";

/// A key line of an export.
#[derive(serde::Serialize, serde::Deserialize)]
struct KeyLine {
    personal_key: KeyRecord,
}

/// Writes every key, then every event in position order; returns how many events.
pub async fn export(log: &dyn EventLog, mut out: impl Write) -> anyhow::Result<u64> {
    let mut after_key = String::new();
    loop {
        let keys = log.personal().export_after(&after_key, CHUNK).await?;
        let Some(last) = keys.last() else { break };
        after_key = last.key_id.clone();
        for personal_key in keys {
            serde_json::to_writer(&mut out, &KeyLine { personal_key })?;
            out.write_all(b"\n")?;
        }
    }
    // The audit keys (with the development key's seed, as the personal keys
    // above carry theirs): the checkpoints verify with them on the other side.
    if let Some(ring) = log.setting(crate::keys::AUDIT_RING).await? {
        let ring: serde_json::Value = serde_json::from_str(&ring)?;
        serde_json::to_writer(&mut out, &serde_json::json!({ "audit_keys": ring }))?;
        out.write_all(b"\n")?;
    }
    for c in aduan_store::audit::checkpoints(log).await? {
        serde_json::to_writer(
            &mut out,
            &CheckpointLine {
                audit_checkpoint: c.into(),
            },
        )?;
        out.write_all(b"\n")?;
    }
    let mut after = 0;
    let mut written = 0;
    loop {
        let events = log.export_after(after, CHUNK).await?;
        let Some(last) = events.last() else { break };
        after = last.position;
        for event in &events {
            serde_json::to_writer(&mut out, event)?;
            out.write_all(b"\n")?;
        }
        written += events.len() as u64;
    }
    out.flush()?;
    Ok(written)
}

/// Reads an export into an empty log, all in one transaction: a malformed line,
/// a position out of order or a refused insert leaves the database as it was.
/// Returns how many events it wrote.
pub async fn import(
    log: &dyn EventLog,
    input: impl BufRead + Send + 'static,
) -> anyhow::Result<u64> {
    let existing = log.count().await?;
    anyhow::ensure!(
        existing == 0,
        "{} already holds {existing} events; import only into an empty database",
        log.describe()
    );
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let reader = tokio::task::spawn_blocking(move || read_chunks(input, &tx));
    let imported = log.import(rx).await;
    let (carried, ring) = reader.await??;
    let imported = imported?;
    if let Some(ring) = ring {
        crate::keys::import_audit_ring(log, &ring).await?;
    }
    // An export from before sealing holds personal data in plain text: seal it
    // now, before anything (the audit chain) seals the imported rows as they are.
    aduan_store::erasure::seal_legacy_personal_data(log).await?;
    // The old database has told these reporters already: the notifier starts
    // after the imported events.
    let checkpoints = aduan_store::Checkpoints::for_log(log);
    let name = aduan_integration::notify::NAME;
    let from = checkpoints.get(name).await?;
    checkpoints
        .advance(name, from, head_past_import(log).await?, 0)
        .await?;
    // The old database's signed checkpoints, against the tree rebuilt here
    // (their roots were checked against the events before the import committed).
    aduan_store::audit::import_checkpoints(log, &carried).await?;
    Ok(imported)
}

/// The log's head once it covers every imported event. On PostgreSQL the head
/// stops before any transaction still open on the cluster (any database's)
/// that began before the import committed; a checkpoint set short of the
/// import would have the notifier tell its reporters again.
async fn head_past_import(log: &dyn EventLog) -> anyhow::Result<aduan_store::Cursor> {
    // Every append in flight ends first; then the newest case event is where
    // the head must reach (template events after it are no follower's).
    log.settled_position().await?;
    let last = log.last_case_position().await?;
    let started = std::time::Instant::now();
    let mut said = std::time::Duration::ZERO;
    loop {
        let head = log.head().await?;
        if head.position >= last {
            return Ok(head);
        }
        if started.elapsed() >= said + std::time::Duration::from_secs(10) {
            said = started.elapsed();
            tracing::warn!(
                waited_seconds = said.as_secs(),
                "waiting for transactions begun before the import, elsewhere on the \
                 database server, to end"
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Parses and checks lines, sending chunks of `CHUNK` events; a bad line, or
/// events that disagree with a carried checkpoint, is sent as an error (which
/// aborts the import) and returned. Returns the carried checkpoints and audit
/// key ring.
fn read_chunks(
    input: impl BufRead,
    out: &tokio::sync::mpsc::Sender<Result<ImportChunk, String>>,
) -> anyhow::Result<(Vec<Checkpoint>, Option<String>)> {
    let mut ring = None;
    let mut chunk = ImportChunk::default();
    let mut tree = TreeCheck::default();
    let mut last = 0;
    let fail = |e: anyhow::Error| {
        let _ = out.blocking_send(Err(format!("{e:#}")));
        e
    };
    for (n, line) in input.lines().enumerate() {
        let line = line.map_err(|e| fail(e.into()))?;
        if line.trim().is_empty() {
            continue;
        }
        if line.starts_with("{\"personal_key\"") {
            let key: KeyLine = serde_json::from_str(&line)
                .with_context(|| format!("line {}", n + 1))
                .map_err(fail)?;
            chunk.keys.push(key.personal_key);
            continue;
        }
        if line.starts_with("{\"audit_keys\"") {
            let mut value: serde_json::Value = serde_json::from_str(&line)
                .with_context(|| format!("line {}", n + 1))
                .map_err(fail)?;
            ring = Some(value[AUDIT_KEYS].take().to_string());
            continue;
        }
        if line.starts_with("{\"audit_checkpoint\"") {
            let c: CheckpointLine = serde_json::from_str(&line)
                .with_context(|| format!("line {}", n + 1))
                .map_err(fail)?;
            tree.carry(c.audit_checkpoint)
                .with_context(|| format!("line {}", n + 1))
                .map_err(fail)?;
            continue;
        }
        let event: ExportedEvent = serde_json::from_str(&line)
            .with_context(|| format!("line {}", n + 1))
            .map_err(fail)?;
        if event.position <= last {
            return Err(fail(anyhow::anyhow!(
                "line {}: position {} does not follow {last}",
                n + 1,
                event.position
            )));
        }
        last = event.position;
        tree.event(&event)
            .with_context(|| format!("line {}", n + 1))
            .map_err(fail)?;
        chunk.events.push(event);
        if (chunk.events.len() + chunk.keys.len()) as i64 >= CHUNK
            && out.blocking_send(Ok(std::mem::take(&mut chunk))).is_err()
        {
            return Ok((Vec::new(), None)); // the importer stopped; it reports why
        }
    }
    tree.finish().map_err(fail)?;
    let _ = out.blocking_send(Ok(chunk));
    Ok((tree.carried, ring))
}
