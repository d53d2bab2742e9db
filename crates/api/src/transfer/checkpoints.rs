//! The signed audit checkpoints in an export (docs/operations.md, "Moving a
//! city between databases"): one `{"audit_checkpoint": ...}` line each, after
//! the keys and before the events, so the importer knows their sizes while
//! the events stream by and refuses, before anything commits, an export whose
//! events do not add up to its checkpoints' roots. On the other side they
//! verify, with consistency proofs, against the moved log.

use anyhow::Context as _;
use chrono::{DateTime, Utc};

use aduan_audit::chain;
use aduan_audit::merkle::{Frontier, Hash};
use aduan_store::audit::Checkpoint;
use aduan_store::ExportedEvent;

/// A checkpoint line of an export.
#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct CheckpointLine {
    pub audit_checkpoint: CheckpointRecord,
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CheckpointRecord {
    pub tree_size: i64,
    pub last_position: i64,
    /// Hex SHA-256 root, as the note carries it in base64.
    pub root: String,
    pub signed_at: DateTime<Utc>,
    /// The signed note, verbatim.
    pub note: String,
}

impl From<Checkpoint> for CheckpointRecord {
    fn from(c: Checkpoint) -> Self {
        CheckpointRecord {
            tree_size: c.tree_size,
            last_position: c.last_position,
            root: hex::encode(c.root),
            signed_at: c.signed_at,
            note: c.note,
        }
    }
}

impl CheckpointRecord {
    pub fn into_checkpoint(self) -> anyhow::Result<Checkpoint> {
        let root: Hash = hex::decode(&self.root)
            .ok()
            .and_then(|r| r.try_into().ok())
            .context("a checkpoint's root is not hex SHA-256")?;
        Ok(Checkpoint {
            tree_size: self.tree_size,
            last_position: self.last_position,
            root,
            signed_at: self.signed_at,
            note: self.note,
        })
    }
}

/// The imported log's tree as its events stream by, checked at each carried
/// checkpoint's size.
#[derive(Default)]
pub(super) struct TreeCheck {
    pub carried: Vec<Checkpoint>,
    frontier: Frontier,
    next: usize,
}

impl TreeCheck {
    pub fn carry(&mut self, record: CheckpointRecord) -> anyhow::Result<()> {
        let c = record.into_checkpoint()?;
        if self
            .carried
            .last()
            .is_some_and(|l| l.tree_size >= c.tree_size)
        {
            anyhow::bail!("the checkpoints are not in increasing tree size");
        }
        self.carried.push(c);
        Ok(())
    }

    /// Adds the event's leaf; an error when a checkpoint's root or last
    /// position disagrees with the events so far.
    pub fn event(&mut self, e: &ExportedEvent) -> anyhow::Result<()> {
        if self.carried.is_empty() {
            return Ok(());
        }
        let hash = e.hash.as_deref().with_context(|| {
            format!(
                "position {}: an export with checkpoints must carry every event's hash",
                e.position
            )
        })?;
        self.frontier
            .push(chain::leaf(e.position, e.recorded_at, hash));
        let Some(c) = self.carried.get(self.next) else {
            return Ok(());
        };
        if c.tree_size as u64 == self.frontier.size() {
            if c.root != self.frontier.root() || c.last_position != e.position {
                anyhow::bail!(
                    "the checkpoint of size {} does not match the exported events",
                    c.tree_size
                );
            }
            self.next += 1;
        }
        Ok(())
    }

    pub fn finish(&self) -> anyhow::Result<()> {
        match self.carried.get(self.next) {
            Some(c) => anyhow::bail!(
                "the checkpoint of size {} covers more events than the export holds",
                c.tree_size
            ),
            None => Ok(()),
        }
    }
}
