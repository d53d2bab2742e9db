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
    /// The chain hash of its `version`-th event, which the next one chains to.
    pub hash: String,
}

/// Off (`None`) when its capacity is 0.
pub struct CaseCache {
    cases: Mutex<Option<LruCache<String, CachedCase>>>,
}

impl CaseCache {
    /// Holds up to `capacity` complaints; 0 turns the cache off.
    pub fn new(capacity: usize) -> Self {
        CaseCache {
            cases: Mutex::new(NonZeroUsize::new(capacity).map(LruCache::new)),
        }
    }

    /// Starts over with room for `capacity` complaints (0: off).
    pub fn resize(&self, capacity: usize) {
        *self.lock() = NonZeroUsize::new(capacity).map(LruCache::new);
    }

    pub fn get(&self, id: &str) -> Option<CachedCase> {
        self.lock().as_mut()?.get(id).cloned()
    }

    pub fn put(&self, id: &str, case: CachedCase) {
        if let Some(cases) = self.lock().as_mut() {
            cases.put(id.to_string(), case);
        }
    }

    pub fn forget(&self, id: &str) {
        if let Some(cases) = self.lock().as_mut() {
            cases.pop(id);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<LruCache<String, CachedCase>>> {
        self.cases.lock().unwrap_or_else(|p| p.into_inner())
    }
}
