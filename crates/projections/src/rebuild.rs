//! Rebuilding a projection from zero while the server keeps running.
//!
//! The new rows are built in a shadow table by a second projector reading the
//! whole log; readers keep using the old table meanwhile. Then, in one short
//! transaction holding an exclusive lock on the old table, the shadow catches up
//! with the last events, takes the old table's name and its checkpoint, and the old
//! table is dropped. Readers wait for that lock (milliseconds), never see a half
//! built table, and the live projector resumes from the shadow's checkpoint (its
//! own in-flight batch, if any, fails its checkpoint check and is retried).

use std::sync::Arc;

use aduan_store::{EventLog, StoreError};

use crate::projector::{Projection, Projector};

/// Events per batch of a rebuild at least.
pub const REBUILD_BATCH: i64 = 10_000;

#[derive(Debug, Clone, PartialEq)]
pub struct RebuildReport {
    pub name: String,
    pub events: i64,
    pub seconds: f64,
}

/// Rebuilds `live`'s table from the event log and swaps it in.
pub async fn rebuild<P: Projection>(
    log: &Arc<dyn EventLog>,
    live: &P,
    batch: i64,
) -> Result<RebuildReport, StoreError> {
    let started = std::time::Instant::now();
    let name = live.name().to_string();
    if !name.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
        return Err(StoreError::Other(format!(
            "not a projection name: {name:?}"
        )));
    }
    // Reading from zero, the shadow's history cache holds nearly every
    // complaint's history as it goes (nothing is reloaded), and large batches
    // write each complaint's rows once for many of its events.
    let shadow = Projector::new(log.clone(), live.renamed(&format!("{name}_rebuild")))
        .with_batch(batch.max(REBUILD_BATCH));
    shadow.backend().rebuild(&shadow, &name).await?;
    let events = Projector::new(log.clone(), live.renamed(&name))
        .checkpoint()
        .await?
        .events_seen;
    Ok(RebuildReport {
        name,
        events,
        seconds: started.elapsed().as_secs_f64(),
    })
}
