//! Recent complaint states kept in memory, so a command on a case the process has
//! seen lately decides without reading the case's events first.
//!
//! A cached state is never trusted blindly: the append names the sequence it
//! expects to take, and a state that fell behind (another process appended) hits
//! the unique key and is dropped and reloaded. A refusal decided on a cached state
//! is confirmed against the log before it reaches the client.

use std::num::NonZeroUsize;
use std::sync::Mutex;

use lru::LruCache;

use aduan_domain::Complaint;

/// A complaint as of its `version`-th event.
#[derive(Debug, Clone)]
pub struct CachedCase {
    pub complaint: Complaint,
    pub version: i64,
}

pub struct CaseCache {
    cases: Option<Mutex<LruCache<String, CachedCase>>>,
}

impl CaseCache {
    /// Holds up to `capacity` complaints; 0 turns the cache off.
    pub fn new(capacity: usize) -> Self {
        CaseCache {
            cases: NonZeroUsize::new(capacity).map(|c| Mutex::new(LruCache::new(c))),
        }
    }

    pub fn get(&self, id: &str) -> Option<CachedCase> {
        self.cases.as_ref()?.lock().ok()?.get(id).cloned()
    }

    pub fn put(&self, id: &str, case: CachedCase) {
        if let Some(Ok(mut cases)) = self.cases.as_ref().map(Mutex::lock) {
            cases.put(id.to_string(), case);
        }
    }

    pub fn forget(&self, id: &str) {
        if let Some(Ok(mut cases)) = self.cases.as_ref().map(Mutex::lock) {
            cases.pop(id);
        }
    }
}
