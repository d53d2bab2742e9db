//! `aduan audit verify`: recomputes every event's hash and every complaint's
//! chain, matches the log against the sealed tree leaf by leaf, recomputes the
//! tree's root at every signed checkpoint (and at any published elsewhere),
//! and names each place where the log is not what was sealed and signed.

use std::collections::{BTreeMap, HashMap, VecDeque};

use serde::Serialize;

use aduan_audit::chain::{self, GENESIS};
use aduan_audit::keyring::TrustedKeys;
use aduan_audit::merkle::{Frontier, Hash};

use crate::codec::{row_content, Row};
use crate::error::StoreError;
use crate::log::{Db, EventLog};

use super::tree::{checkpoints, raw_rows, to_hash, Checkpoint};

/// What was found wrong at one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FindingKind {
    /// An event's stored content is not what was hashed, or what was sealed.
    Edited,
    /// A sealed event, or a step of a complaint's chain, is gone.
    Deleted,
    /// An event sits inside the sealed range but was never sealed.
    Inserted,
    /// An event is not where it was sealed, or comes after a later one.
    Reordered,
    /// Events a checkpoint signed are gone from the end of the log.
    Truncated,
    /// A checkpoint's signature does not verify, or the sealed tree does not
    /// add up to a signed root (the audit tables were rewritten).
    Checkpoint,
    /// An event without a chain hash (written before the chain; the server
    /// seals such events at start).
    Unsealed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub kind: FindingKind,
    /// The log position it concerns, where there is one.
    pub position: Option<i64>,
    pub detail: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub events: u64,
    pub sealed: u64,
    pub checkpoints: u64,
    /// The largest tree size a signed checkpoint vouches for.
    pub signed_size: u64,
    pub findings: Vec<Finding>,
    /// Each published checkpoint's consistency proof to the latest signed one.
    pub consistency: Vec<super::ConsistencyCheck>,
}

impl Report {
    pub fn intact(&self) -> bool {
        self.findings.is_empty()
    }

    /// Whether the only thing wrong is that the log ends before a checkpoint
    /// signed earlier: what it holds is intact, but shorter than was signed
    /// (as after a restore to a point before that checkpoint).
    pub fn only_truncated(&self) -> bool {
        !self.findings.is_empty()
            && self
                .findings
                .iter()
                .all(|f| f.kind == FindingKind::Truncated)
    }
}

const CHUNK: i64 = 5000;

const EVENTS_AFTER: &str = "SELECT aggregate_id, sequence, position, event_type, event_version, \
     payload, metadata, recorded_at, hash, prev_hash FROM events \
     WHERE position > $1 ORDER BY position LIMIT $2";

const LEAVES_FROM: &str = "SELECT leaf, position, hash, leaf_hash FROM audit_leaves \
     WHERE leaf >= $1 ORDER BY leaf LIMIT $2";

struct Leaf {
    position: i64,
    hash: String,
    leaf_hash: Hash,
}

/// Verifies the whole log with `keys` (the log's public keys); `published`
/// are checkpoint notes kept outside the database (the city's published
/// ones), checked like the stored ones.
pub async fn verify(
    log: &dyn EventLog,
    keys: &TrustedKeys,
    published: &[String],
) -> Result<Report, StoreError> {
    let db = log.db();
    let mut check = Checker::default();
    let signed = check.signed_roots(&checkpoints(log).await?, published, keys);
    check.report.signed_size = signed.keys().next_back().copied().unwrap_or(0);
    check.signed = signed;
    let mut events = Source::default();
    let mut leaves = LeafSource::default();
    loop {
        events.fill(&db).await?;
        leaves.fill(&db).await?;
        match (events.buf.front(), leaves.buf.front()) {
            (None, None) => break,
            (Some(e), Some(l)) if l.position == e.position => {
                let (e, l) = (events.pop(), leaves.pop());
                check.event(&e);
                check.against_leaf(&e, &l);
                check.leaf(l);
            }
            (Some(e), Some(l)) if l.position < e.position => {
                let l = leaves.pop();
                check.missing(l);
            }
            (None, Some(_)) => {
                let l = leaves.pop();
                check.missing(l);
            }
            (Some(_), _) => {
                let e = events.pop();
                check.event(&e);
                if e.position <= check.last_sealed_position || leaves.buf.front().is_some() {
                    check.found(
                        FindingKind::Inserted,
                        Some(e.position),
                        format!(
                            "complaint {} #{} is inside the sealed range but was never sealed",
                            e.aggregate_id, e.sequence
                        ),
                    );
                }
            }
        }
    }
    let (consistency, findings) =
        super::monitor::published_consistency(log, keys, published).await?;
    check.report.findings.extend(findings);
    check.report.consistency = consistency;
    Ok(check.finish())
}

#[derive(Default)]
struct Checker {
    report: Report,
    signed: BTreeMap<u64, Hash>,
    frontier: Frontier,
    chains: HashMap<String, (i64, String)>,
    /// (position, the event's hash there, the hash sealed there).
    mismatched: Vec<(i64, String, String)>,
    /// Sealed leaves with no event at their position.
    gone: Vec<Leaf>,
    last_sealed_position: i64,
    last_event_position: i64,
    /// Each published note's size and signing time, by its number (from 1).
    published: Vec<(usize, u64, chrono::DateTime<chrono::Utc>)>,
}

impl Checker {
    fn found(&mut self, kind: FindingKind, position: Option<i64>, detail: String) {
        self.report.findings.push(Finding {
            kind,
            position,
            detail,
        });
    }

    /// The roots that signed checkpoints vouch for, by tree size; a note that
    /// does not verify, or disagrees with its stored row, is a finding.
    fn signed_roots(
        &mut self,
        stored: &[Checkpoint],
        published: &[String],
        keys: &TrustedKeys,
    ) -> BTreeMap<u64, Hash> {
        let mut roots = BTreeMap::new();
        let notes = stored
            .iter()
            .map(|c| {
                (
                    format!("stored checkpoint of size {}", c.tree_size),
                    &c.note,
                    Some(c),
                )
            })
            .chain(
                published
                    .iter()
                    .enumerate()
                    .map(|(i, n)| (format!("published checkpoint {}", i + 1), n, None)),
            );
        for (name, note, row) in notes {
            self.report.checkpoints += 1;
            match keys.open(note) {
                Err(e) => self.found(FindingKind::Checkpoint, None, format!("{name}: {e}")),
                Ok(head) => {
                    if let Some(n) = name.strip_prefix("published checkpoint ") {
                        let n = n.parse().unwrap_or_default();
                        self.published.push((n, head.size, head.time));
                    }
                    if row.is_some_and(|c| c.tree_size as u64 != head.size || c.root != head.root) {
                        self.found(
                            FindingKind::Checkpoint,
                            None,
                            format!("{name}: its stored size or root differs from its signed note"),
                        );
                    }
                    if roots
                        .insert(head.size, head.root)
                        .is_some_and(|r| r != head.root)
                    {
                        self.found(
                            FindingKind::Checkpoint,
                            None,
                            format!("two signed checkpoints of size {} disagree", head.size),
                        );
                    }
                }
            }
        }
        roots
    }

    /// The event's own hash and its place in its complaint's chain.
    fn event(&mut self, e: &Row) {
        self.report.events += 1;
        self.last_event_position = e.position;
        let at = Some(e.position);
        let who = format!("complaint {} #{}", e.aggregate_id, e.sequence);
        let Some(hash) = &e.hash else {
            self.found(
                FindingKind::Unsealed,
                at,
                format!("{who} has no chain hash"),
            );
            return;
        };
        let prev = e.prev_hash.as_deref().unwrap_or(GENESIS);
        if &chain::event_hash(&row_content(e), prev) != hash {
            self.found(
                FindingKind::Edited,
                at,
                format!("{who}: its stored content no longer matches its hash"),
            );
        }
        let (last_seq, last_hash) = self
            .chains
            .get(&e.aggregate_id)
            .cloned()
            .unwrap_or((0, GENESIS.to_string()));
        if e.sequence > last_seq + 1 {
            self.found(
                FindingKind::Deleted,
                at,
                format!(
                    "complaint {}: events #{}..#{} are missing before #{}",
                    e.aggregate_id,
                    last_seq + 1,
                    e.sequence - 1,
                    e.sequence
                ),
            );
        } else if e.sequence <= last_seq {
            self.found(
                FindingKind::Reordered,
                at,
                format!("{who} comes after #{last_seq} of its complaint in log order"),
            );
        } else if prev != last_hash {
            self.found(
                FindingKind::Edited,
                at,
                format!(
                    "{who} is chained to a predecessor other than the stored #{last_seq} \
                     (that event was replaced, or this one was)"
                ),
            );
        }
        if e.sequence > last_seq {
            self.chains
                .insert(e.aggregate_id.clone(), (e.sequence, hash.clone()));
        }
    }

    /// The event found where a leaf was sealed.
    fn against_leaf(&mut self, e: &Row, l: &Leaf) {
        let hash = e.hash.clone().unwrap_or_default();
        if hash != l.hash {
            self.mismatched.push((e.position, hash, l.hash.clone()));
        } else if chain::leaf(e.position, e.recorded_at, &hash) != l.leaf_hash {
            self.found(
                FindingKind::Edited,
                Some(e.position),
                format!(
                    "complaint {} #{}: its recording time changed since it was sealed",
                    e.aggregate_id, e.sequence
                ),
            );
        }
    }

    /// A sealed leaf, in tree order: grows the tree and checks signed roots.
    fn leaf(&mut self, l: Leaf) {
        self.report.sealed += 1;
        self.last_sealed_position = l.position;
        self.frontier.push(l.leaf_hash);
        let size = self.frontier.size();
        if let Some(root) = self.signed.get(&size) {
            if *root != self.frontier.root() {
                self.found(
                    FindingKind::Checkpoint,
                    Some(l.position),
                    format!(
                        "the sealed tree of {size} events does not add up to the root its \
                         checkpoint signed (the audit tables were rewritten)"
                    ),
                );
            }
        }
    }

    fn missing(&mut self, l: Leaf) {
        let copy = Leaf {
            position: l.position,
            hash: l.hash.clone(),
            leaf_hash: l.leaf_hash,
        };
        self.leaf(l);
        self.gone.push(copy);
    }

    fn finish(mut self) -> Report {
        // A sealed hash found at another position means the event moved.
        let sealed_at: HashMap<&str, i64> = self
            .mismatched
            .iter()
            .map(|(p, _, sealed)| (sealed.as_str(), *p))
            .chain(self.gone.iter().map(|l| (l.hash.as_str(), l.position)))
            .collect();
        let mut found = Vec::new();
        for (position, hash, _) in &self.mismatched {
            found.push(match sealed_at.get(hash.as_str()) {
                Some(from) => (
                    FindingKind::Reordered,
                    *position,
                    format!("the event sealed at position {from} is now at position {position}"),
                ),
                None => (
                    FindingKind::Edited,
                    *position,
                    format!("the event at position {position} is not the one sealed there"),
                ),
            });
        }
        let moved: std::collections::HashSet<&str> =
            self.mismatched.iter().map(|(_, h, _)| h.as_str()).collect();
        let tail: Vec<&Leaf> = self
            .gone
            .iter()
            .filter(|l| l.position > self.last_event_position)
            .collect();
        for l in self
            .gone
            .iter()
            .filter(|l| l.position <= self.last_event_position)
        {
            if !moved.contains(l.hash.as_str()) {
                found.push((
                    FindingKind::Deleted,
                    l.position,
                    format!("the event sealed at position {} is gone", l.position),
                ));
            }
        }
        if let (Some(first), Some(last)) = (tail.first(), tail.last()) {
            found.push((
                FindingKind::Truncated,
                first.position,
                format!(
                    "history truncated: the {} sealed events at positions {}..={} are gone",
                    tail.len(),
                    first.position,
                    last.position
                ),
            ));
        }
        for (kind, position, detail) in found {
            self.found(kind, Some(position), detail);
        }
        let sealed = self.report.sealed;
        let beyond: Vec<u64> = self
            .signed
            .keys()
            .copied()
            .filter(|&s| s > sealed)
            .collect();
        for size in beyond {
            let detail = self.beyond_detail(size, sealed);
            self.found(FindingKind::Truncated, None, detail);
        }
        self.report
            .findings
            .sort_by_key(|f| (f.position.unwrap_or(i64::MAX), f.kind));
        self.report
    }
}

impl Checker {
    /// Why a checkpoint of `size` events is more than the log holds; a
    /// published one (an auditor's) is named, with when it was signed.
    fn beyond_detail(&self, size: u64, sealed: u64) -> String {
        let published = self.published.iter().find(|(_, s, _)| *s == size);
        match published {
            Some((n, _, time)) => format!(
                "published checkpoint {n} (signed {}) covers {size} events, but this log \
                 holds only {sealed} sealed events: it ends before that checkpoint, and the {} events \
                 after the first {sealed} are not here (expected after a restore to a \
                 point before {}; otherwise history was cut)",
                time.to_rfc3339(),
                size - sealed,
                time.to_rfc3339()
            ),
            None => format!(
                "a signed checkpoint covers {size} events, but only {sealed} sealed \
                 events remain"
            ),
        }
    }
}

/// Events in position order, a chunk at a time.
#[derive(Default)]
struct Source {
    buf: VecDeque<Row>,
    after: i64,
    done: bool,
}

impl Source {
    async fn fill(&mut self, db: &Db) -> Result<(), StoreError> {
        if self.buf.is_empty() && !self.done {
            let rows = raw_rows(db, EVENTS_AFTER, &[self.after, CHUNK]).await?;
            self.done = (rows.len() as i64) < CHUNK;
            if let Some(last) = rows.last() {
                self.after = last.position;
            }
            self.buf.extend(rows);
        }
        Ok(())
    }

    #[allow(clippy::expect_used, reason = "every caller fills the buffer first")]
    fn pop(&mut self) -> Row {
        self.buf.pop_front().expect("filled before popping")
    }
}

/// Sealed leaves in tree order, a chunk at a time.
#[derive(Default)]
struct LeafSource {
    buf: VecDeque<Leaf>,
    next: i64,
    done: bool,
}

impl LeafSource {
    async fn fill(&mut self, db: &Db) -> Result<(), StoreError> {
        if !self.buf.is_empty() || self.done {
            return Ok(());
        }
        let rows: Vec<(i64, i64, String, Vec<u8>)> = on_db!(db, pool => sqlx::query_as(LEAVES_FROM)
            .bind(self.next)
            .bind(CHUNK)
            .fetch_all(pool)
            .await)
        .map_err(StoreError::from_sqlx)?;
        self.done = (rows.len() as i64) < CHUNK;
        for (leaf, position, hash, leaf_hash) in rows {
            self.next = leaf + 1;
            self.buf.push_back(Leaf {
                position,
                hash,
                leaf_hash: to_hash(leaf_hash)?,
            });
        }
        Ok(())
    }

    #[allow(clippy::expect_used, reason = "every caller fills the buffer first")]
    fn pop(&mut self) -> Leaf {
        self.buf.pop_front().expect("filled before popping")
    }
}
