//! Cases folded alongside a follower's reading of the log: a follower that
//! sends a case as it stood after each event (the live feed, the relay, webhooks,
//! the national bridge) folds each event once onto the case it remembers.

use std::collections::HashMap;
use std::num::NonZeroUsize;

use cqrs_es::Aggregate;

use aduan_domain::{Case, Complaint};

use crate::codec::StoredEvent;
use crate::error::StoreError;
use crate::log::{Cursor, EventLog};

/// One event as subscribers receive it.
#[derive(Debug)]
pub struct LiveEvent {
    pub cursor: Cursor,
    pub event: StoredEvent,
    /// The case after this event (`None` only for a log whose first event of
    /// the case is missing, which a valid log never is).
    pub case: Option<Case>,
}

/// Folds events onto their cases, remembering the latest fold of the cases it
/// saw last (`capacity` of them), so the next event of the same case costs one
/// `apply`; a case it does not hold up to the event before is read from the log.
pub struct Folder {
    folded: lru::LruCache<String, (i64, Complaint)>,
}

impl Folder {
    pub fn new(capacity: usize) -> Folder {
        Folder {
            folded: lru::LruCache::new(NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN)),
        }
    }

    /// Each event of `batch` with its case after it (one log query for all the
    /// cases the folder does not hold up to their event before).
    pub async fn fold(
        &mut self,
        log: &dyn EventLog,
        batch: Vec<(Cursor, StoredEvent)>,
    ) -> Result<Vec<LiveEvent>, StoreError> {
        let mut states: HashMap<String, (i64, Complaint)> = HashMap::new();
        let mut missing: Vec<(String, i64)> = Vec::new();
        for (_, e) in &batch {
            if states.contains_key(&e.aggregate_id)
                || missing.iter().any(|(id, _)| *id == e.aggregate_id)
            {
                continue;
            }
            match self.folded.pop(&e.aggregate_id) {
                Some((seq, c)) if seq == e.sequence - 1 => {
                    states.insert(e.aggregate_id.clone(), (seq, c));
                }
                _ if e.sequence == 1 => {
                    states.insert(e.aggregate_id.clone(), (0, Complaint::default()));
                }
                _ => missing.push((e.aggregate_id.clone(), e.sequence - 1)),
            }
        }
        if !missing.is_empty() {
            for (id, history) in log.load_histories(&missing).await? {
                let seq = history.last().map_or(0, |e| e.sequence);
                states.insert(id, (seq, crate::codec::fold(&history)));
            }
        }
        let mut out = Vec::with_capacity(batch.len());
        for (cursor, event) in batch {
            let case = match states.get_mut(&event.aggregate_id) {
                Some((seq, complaint)) if *seq == event.sequence - 1 => {
                    complaint.apply(event.event.clone());
                    *seq = event.sequence;
                    complaint.0.clone()
                }
                _ => None,
            };
            out.push(LiveEvent {
                cursor,
                event,
                case,
            });
        }
        for (id, folded) in states {
            self.folded.put(id, folded);
        }
        Ok(out)
    }
}
