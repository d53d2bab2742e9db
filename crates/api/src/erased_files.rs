//! The files a reporter sent go with their personal data (docs/erasure.md):
//! on a case whose reporter was erased, the attachments the reporter added
//! (role CITIZEN or PUBLIC, at submission, with an answer or on their own:
//! `erasure::written_by_reporter`, the rule their captions are sealed by) are
//! no longer listed, their links refuse, and their objects (original and
//! thumbnail) are deleted from storage. Staff's files stay.
//!
//! Objects are content-addressed, so the same bytes may be named by another
//! case's file: an object is deleted only when every file naming it is an
//! erased reporter's. The events are not touched, so the log's hashes and
//! proofs verify as before.

use std::collections::{HashMap, HashSet};

use aduan_attachments::Objects;
use aduan_domain::erasure::written_by_reporter;
use aduan_domain::ComplaintEvent;
use aduan_store::{Cursor, EventLog, StoreError, StoredEvent};

/// Whether `event` (an `AttachmentAdded` in `history`, its case's events)
/// recorded a file that was erased with the reporter's data.
pub fn is_erased(history: &[StoredEvent], event: &StoredEvent) -> bool {
    written_by_reporter(&event.metadata.actor_role) && case_erased(history)
}

fn case_erased(history: &[StoredEvent]) -> bool {
    history
        .iter()
        .any(|e| matches!(e.event, ComplaintEvent::ReporterDataErased { .. }))
}

/// The objects (originals and thumbnails) of the reporter's files in `history`.
fn reporter_objects(history: &[StoredEvent]) -> Vec<String> {
    history
        .iter()
        .filter(|e| written_by_reporter(&e.metadata.actor_role))
        .filter_map(|e| match &e.event {
            ComplaintEvent::AttachmentAdded { file, .. } => Some(file),
            _ => None,
        })
        .flat_map(|file| std::iter::once(file.sha256.clone()).chain(file.thumbnail_sha256.clone()))
        .collect()
}

/// Every object the log names, by whether it is erased: read once through the
/// whole log.
#[derive(Debug, Default)]
pub struct Names {
    /// Object -> the first event naming it ("complaint #sequence").
    pub named: HashMap<String, String>,
    /// Objects named by erased reporters' files.
    erased_uses: HashSet<String>,
    /// Objects named by any other file (staff's, or a reporter's not erased).
    kept_uses: HashSet<String>,
}

impl Names {
    /// Objects every naming file of which was erased: gone from storage.
    pub fn erased(&self) -> HashSet<String> {
        self.erased_uses
            .difference(&self.kept_uses)
            .cloned()
            .collect()
    }
}

pub async fn names(log: &dyn EventLog) -> Result<Names, StoreError> {
    // (complaint, by the reporter, object) of every file; which cases are erased.
    let mut uses: Vec<(String, bool, String)> = Vec::new();
    let mut erased_cases: HashSet<String> = HashSet::new();
    let mut names = Names::default();
    let mut cursor = Cursor::default();
    loop {
        let batch = log.read_committed_after(cursor, 5000).await?;
        let Some(&(last, _)) = batch.last() else {
            break;
        };
        cursor = last;
        for (_, e) in batch {
            match &e.event {
                ComplaintEvent::AttachmentAdded { file, .. } => {
                    let at = format!("{} #{}", e.aggregate_id, e.sequence);
                    let by_reporter = written_by_reporter(&e.metadata.actor_role);
                    for hash in std::iter::once(&file.sha256).chain(&file.thumbnail_sha256) {
                        names
                            .named
                            .entry(hash.clone())
                            .or_insert_with(|| at.clone());
                        uses.push((e.aggregate_id.clone(), by_reporter, hash.clone()));
                    }
                }
                ComplaintEvent::ReporterDataErased { .. } => {
                    erased_cases.insert(e.aggregate_id.clone());
                }
                _ => {}
            }
        }
    }
    for (complaint, by_reporter, hash) in uses {
        if by_reporter && erased_cases.contains(&complaint) {
            names.erased_uses.insert(hash);
        } else {
            names.kept_uses.insert(hash);
        }
    }
    Ok(names)
}

/// Deletes the objects of the reporter's files on `complaints` (erased
/// cases) that no other file names; returns how many were there to delete. Reads the
/// whole log only when the reporter sent files.
pub async fn erase(
    log: &dyn EventLog,
    objects: &Objects,
    complaints: &[String],
) -> Result<usize, EraseError> {
    let mut candidates = HashSet::new();
    let mut last = 0;
    for id in complaints {
        let history = log.load(id).await?;
        if case_erased(&history) {
            candidates.extend(reporter_objects(&history));
            last = last.max(history.last().map_or(0, |e| e.position));
        }
    }
    if candidates.is_empty() {
        return Ok(0);
    }
    readable_past(log, last).await?;
    let erased = names(log).await?.erased();
    let storage = |e: aduan_attachments::ObjectsError| EraseError::Storage(e.to_string());
    let mut deleted = 0;
    for hash in candidates.intersection(&erased) {
        // Counted only when there: a repeat finds nothing left to delete.
        if objects.exists(hash).await.map_err(storage)? {
            objects.delete(hash).await.map_err(storage)?;
            deleted += 1;
        }
    }
    Ok(deleted)
}

/// Waits (10 s at most) until a reader following the log (`names`) sees the
/// event at `position`: on PostgreSQL, an erasure just committed stays out of
/// its reach while any older transaction in the cluster is still open, and
/// the files it frees would be taken for kept.
async fn readable_past(log: &dyn EventLog, position: i64) -> Result<(), EraseError> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while log.head().await?.position < position {
        if std::time::Instant::now() > deadline {
            return Err(
                StoreError::Other("the log's readers lag behind the erasure".into()).into(),
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum EraseError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("object storage: {0}")]
    Storage(String),
}
