//! The durable projector: reads the event log from a checkpoint and writes a
//! projection's rows and the new checkpoint in one transaction, so after a crash
//! it resumes with nothing lost and nothing applied twice.
//!
//! What is the same on both databases lives here (reading the next batch and
//! computing its rows); the transaction, the checkpoint and how a projector learns
//! of new events are its backend's (`backend.rs`: `pg.rs` and `sqlite.rs`).

use std::collections::HashMap;
use std::sync::Arc;

use aduan_store::{Checkpoint, Cursor, EventLog, StoreError, StoredEvent};

use crate::backend::{self, Backend};
use crate::rollup::RollupSpec;
use crate::rows::{touched, Cell, TableSpec, Touched};

/// A read model built from events: a table whose rows for a complaint follow from
/// the complaint's history alone. Computing them touches no database, so the same
/// projection runs on PostgreSQL and SQLite.
pub trait Projection: Send + Sync + 'static {
    /// Names the checkpoint and the table the projection owns.
    fn name(&self) -> &str;

    /// The same projection writing to another table (for rebuilds).
    fn renamed(&self, name: &str) -> Self
    where
        Self: Sized;

    fn spec(&self) -> &'static TableSpec;

    /// The rows for the complaints a batch touched, in `spec().columns` order.
    fn rows(&self, touched: Vec<Touched>) -> Vec<Vec<Cell>>;

    /// The roll-up kept in `{name}_rollup` beside the rows, if any.
    fn rollup(&self) -> Option<&'static RollupSpec> {
        None
    }

    /// Whether the leader sweeps the table's `sla_state_swept` (see `sla_sweep`).
    fn sla_swept(&self) -> bool {
        false
    }
}

/// The next batch after a checkpoint, with the rows it produces.
pub(crate) struct Batch {
    pub last: Cursor,
    pub events: i64,
    pub rows: Vec<Vec<Cell>>,
    /// Complaints with events before this batch (only their rows can exist
    /// already; the roll-up reads no old rows for the others).
    pub seen_before: std::collections::HashSet<String>,
}

pub struct Projector {
    log: Arc<dyn EventLog>,
    backend: Arc<dyn Backend>,
    projection: Box<dyn Projection>,
    batch: i64,
    histories: std::sync::Mutex<HistoryCache>,
    /// Roll-up changes collected instead of written (during a rebuild's catch-up).
    deferred: std::sync::Mutex<Option<crate::rollup::Deltas>>,
    /// When the leader last swept (`sla_sweep`).
    swept: std::sync::Mutex<Option<std::time::Instant>>,
    /// The UTC day the leader last folded the all-time counters (`rollup_fold`).
    folded: std::sync::Mutex<Option<chrono::NaiveDate>>,
}

/// The histories of recently touched complaints, so a batch loads from the log
/// only those it has not seen (or not seen whole): during a rebuild, which reads
/// every event in order, almost none; for a hot case with thousands of events, its
/// history is not reloaded on every batch. An entry is used only when it runs
/// without a gap from sequence 1 up to the event before the batch's first for
/// that complaint (events are immutable, so a rolled-back batch leaves it valid).
/// Two generations bound the memory: when the current one is full, the previous
/// one is dropped and the current one takes its place.
struct HistoryCache {
    current: HashMap<String, Vec<StoredEvent>>,
    previous: HashMap<String, Vec<StoredEvent>>,
    current_events: usize,
    limit: usize,
}

/// Events kept per generation (two generations at most).
const CACHED_EVENTS: usize = 150_000;

impl HistoryCache {
    fn new(limit: usize) -> Self {
        HistoryCache {
            current: HashMap::new(),
            previous: HashMap::new(),
            current_events: 0,
            limit,
        }
    }

    fn take(&mut self, id: &str) -> Option<Vec<StoredEvent>> {
        if let Some(h) = self.current.remove(id) {
            self.current_events -= h.len();
            return Some(h);
        }
        self.previous.remove(id)
    }

    fn put(&mut self, id: String, history: Vec<StoredEvent>) {
        if self.limit == 0 {
            return;
        }
        if self.current_events + history.len() > self.limit {
            self.previous = std::mem::take(&mut self.current);
            self.current_events = 0;
        }
        self.current_events += history.len();
        if let Some(old) = self.current.insert(id, history) {
            self.current_events -= old.len();
        }
    }
}

impl Projector {
    pub fn new(log: Arc<dyn EventLog>, projection: impl Projection) -> Self {
        Projector {
            backend: backend::for_log(log.as_ref()),
            log,
            projection: Box::new(projection),
            batch: 500,
            histories: std::sync::Mutex::new(HistoryCache::new(CACHED_EVENTS)),
            deferred: std::sync::Mutex::new(None),
            swept: std::sync::Mutex::new(None),
            folded: std::sync::Mutex::new(None),
        }
    }

    /// Sweeps the SLA standings if the projection keeps them and the last sweep
    /// is `SWEEP_EVERY` old (called by the leader between batches; a failure is
    /// logged and retried at the next interval: unswept rows are only slower).
    pub async fn sweep_if_due(&self) {
        if !self.projection.sla_swept() {
            return;
        }
        {
            let mut last = self.swept.lock().unwrap_or_else(|p| p.into_inner());
            if last.is_some_and(|t| t.elapsed() < crate::sla_sweep::SWEEP_EVERY) {
                return;
            }
            *last = Some(std::time::Instant::now());
        }
        let name = self.projection.name();
        let chunk = crate::sla_sweep::CHUNK;
        match self.backend.sweep(name, chrono::Utc::now(), chunk).await {
            Ok(r) => {
                tracing::debug!(projection = name, rows = r.rows, "SLA standings swept");
                if r.rows >= chunk as u64 {
                    // Unswept rows may be left (after a catch-up): again when idle.
                    *self.swept.lock().unwrap_or_else(|p| p.into_inner()) = None;
                }
            }
            Err(e) => tracing::warn!(projection = name, error = %e, "SLA sweep failed"),
        }
        self.fold_if_due().await;
    }

    /// Folds the all-time counters (`rollup_fold`) once each UTC day, the
    /// first time when the leader is first idle; a failure is retried at the
    /// next sweep (the counters are only slower to read).
    async fn fold_if_due(&self) {
        let now = chrono::Utc::now();
        let today = now.date_naive();
        if *self.folded.lock().unwrap_or_else(|p| p.into_inner()) == Some(today) {
            return;
        }
        let name = self.projection.name();
        match self.backend.fold_counters(name, now).await {
            Ok(gone) => {
                tracing::debug!(projection = name, gone, "all-time counters folded");
                *self.folded.lock().unwrap_or_else(|p| p.into_inner()) = Some(today);
            }
            Err(e) => tracing::warn!(projection = name, error = %e, "counter fold failed"),
        }
    }

    pub fn with_batch(mut self, batch: i64) -> Self {
        self.batch = batch.max(1);
        self
    }

    /// How many events of recently touched complaints to keep in memory per
    /// generation (0: load every history from the log).
    pub fn with_cached_events(self, limit: usize) -> Self {
        *self.histories.lock().unwrap_or_else(|p| p.into_inner()) = HistoryCache::new(limit);
        self
    }

    pub(crate) fn deferred_rollup(&self) -> &std::sync::Mutex<Option<crate::rollup::Deltas>> {
        &self.deferred
    }

    pub fn projection(&self) -> &dyn Projection {
        self.projection.as_ref()
    }

    pub(crate) fn backend(&self) -> &dyn Backend {
        self.backend.as_ref()
    }

    pub async fn checkpoint(&self) -> Result<Checkpoint, StoreError> {
        self.backend.checkpoint(self.projection.name()).await
    }

    /// Applies the next batch; returns how many events it applied.
    pub async fn step(&self) -> Result<usize, StoreError> {
        self.backend.step(self).await
    }

    /// The batch after `cursor` and its rows, or `None` when nothing committed
    /// is left.
    pub(crate) async fn next(&self, cursor: Cursor) -> Result<Option<Batch>, StoreError> {
        let batch = self.log.read_committed_after(cursor, self.batch).await?;
        let Some(&(last, _)) = batch.last() else {
            return Ok(None);
        };
        let events: Vec<StoredEvent> = batch.into_iter().map(|(_, e)| e).collect();
        let n = events.len() as i64;
        let touched = self.touched(events).await?;
        let seen_before = touched
            .iter()
            .filter(|t| t.history.len() as i64 > t.in_batch)
            .filter_map(|t| t.last().map(|e| e.aggregate_id.clone()))
            .collect();
        let rows = self.projection.rows(touched);
        Ok(Some(Batch {
            last,
            events: n,
            rows,
            seen_before,
        }))
    }

    /// The complaints `batch` touches with their histories up to their last
    /// event in it: from the cache where it holds the history up to the batch,
    /// else from the log (one query for all of those).
    async fn touched(&self, batch: Vec<StoredEvent>) -> Result<Vec<Touched>, StoreError> {
        let mut order: Vec<String> = Vec::new();
        let mut fresh: HashMap<String, Vec<StoredEvent>> = HashMap::new();
        for event in batch {
            let entry = fresh.entry(event.aggregate_id.clone()).or_insert_with(|| {
                order.push(event.aggregate_id.clone());
                Vec::new()
            });
            entry.push(event);
        }
        let mut histories: HashMap<String, Vec<StoredEvent>> = HashMap::new();
        let mut missing: Vec<StoredEvent> = Vec::new();
        {
            let mut cache = self.histories.lock().unwrap_or_else(|p| p.into_inner());
            for id in &order {
                let new = &fresh[id];
                let first = new[0].sequence;
                match cache.take(id) {
                    Some(mut h)
                        if h.len() as i64 >= first - 1
                            && h.iter()
                                .enumerate()
                                .all(|(i, e)| e.sequence == i as i64 + 1) =>
                    {
                        h.truncate((first - 1) as usize);
                        histories.insert(id.clone(), h);
                    }
                    _ if first == 1 => {
                        histories.insert(id.clone(), Vec::new());
                    }
                    _ => missing.extend(new.iter().cloned()),
                }
            }
        }
        let loaded = if missing.is_empty() {
            Vec::new()
        } else {
            touched(self.log.as_ref(), &missing).await?
        };
        let mut loaded: HashMap<String, Touched> = loaded
            .into_iter()
            .filter_map(|t| Some((t.last()?.aggregate_id.clone(), t)))
            .collect();
        let mut out = Vec::with_capacity(order.len());
        let mut cache = self.histories.lock().unwrap_or_else(|p| p.into_inner());
        for id in order {
            let new = fresh.remove(&id).unwrap_or_default();
            let in_batch = new.len() as i64;
            let history = match histories.remove(&id) {
                Some(mut h) => {
                    h.extend(new);
                    h
                }
                None => match loaded.remove(&id) {
                    Some(t) => t.history,
                    None => continue,
                },
            };
            cache.put(id, history.clone());
            out.push(Touched { history, in_batch });
        }
        Ok(out)
    }

    /// Like `catch_up`, but reads and computes the next batch while the previous
    /// one is being written (for rebuilds, where the projector alone writes its
    /// shadow table): a batch costs the longer of the two, not their sum. Each
    /// batch is still written with its checkpoint in one transaction.
    /// The roll-up's changes are added up in memory and written once at the end
    /// (the shadow's roll-up rows are written once, not once per batch; a rebuild
    /// that dies halfway starts its shadow afresh anyway).
    pub async fn catch_up_pipelined(&self) -> Result<usize, StoreError> {
        *self.deferred.lock().unwrap_or_else(|p| p.into_inner()) = Some(Default::default());
        let caught_up = self.catch_up_pipelined_inner().await;
        let deferred = self
            .deferred
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .unwrap_or_default();
        let total = caught_up?;
        let mut deltas: Vec<(String, String, String, i64)> = deferred
            .into_iter()
            .filter(|(_, n)| *n != 0)
            .map(|((opd, day, measure), n)| (opd, day, measure, n))
            .collect();
        deltas.sort();
        if self.projection.rollup().is_some() && !deltas.is_empty() {
            self.backend
                .write_rollup_deltas(self.projection.name(), &deltas)
                .await?;
        }
        Ok(total)
    }

    async fn catch_up_pipelined_inner(&self) -> Result<usize, StoreError> {
        let start = self.checkpoint().await?;
        let (send, mut receive) = tokio::sync::mpsc::channel::<Batch>(1);
        let read = async move {
            let mut cursor = start.cursor;
            while let Some(batch) = self.next(cursor).await? {
                cursor = batch.last;
                if send.send(batch).await.is_err() {
                    break; // the writer failed; its error is reported
                }
            }
            Ok::<_, StoreError>(())
        };
        let write = async {
            let mut previous = start;
            let mut total = 0;
            while let Some(batch) = receive.recv().await {
                self.backend.write_batch(self, previous, &batch).await?;
                previous = Checkpoint {
                    cursor: batch.last,
                    events_seen: previous.events_seen + batch.events,
                };
                total += batch.events as usize;
            }
            Ok::<_, StoreError>(total)
        };
        let (read, write) = tokio::join!(read, write);
        let total = write?;
        read?;
        Ok(total)
    }

    /// Applies batches until nothing committed is left; returns the total applied.
    pub async fn catch_up(&self) -> Result<usize, StoreError> {
        let mut total = 0;
        loop {
            match self.step().await? {
                0 => return Ok(total),
                n => total += n,
            }
        }
    }

    /// Runs until `shutdown` turns true, following the log as it grows.
    pub async fn run(&self, shutdown: tokio::sync::watch::Receiver<bool>) {
        aduan_store::Checkpoints::for_log(self.log.as_ref())
            .run(self, shutdown)
            .await
    }
}

#[async_trait::async_trait]
impl aduan_store::Follower for Projector {
    fn name(&self) -> &str {
        self.projection.name()
    }

    async fn catch_up(&self) -> Result<usize, StoreError> {
        Projector::catch_up(self).await
    }

    async fn idle(&self) {
        self.sweep_if_due().await
    }
}
