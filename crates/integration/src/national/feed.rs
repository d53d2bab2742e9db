//! Reading the platform's report feed (docs/integration.md, "The report
//! feed"). The first call sends no `after`; each later call sends the last
//! `next` the platform gave, unchanged. The feed has reached its end, for now,
//! when a page answers `next: null`, an empty page, or the `after` it was sent:
//! the bridge then waits a poll interval and asks again from the same cursor,
//! the only place where new reports can appear. What that cursor gave before
//! is remembered (`seen`), so a platform that serves its last page again on
//! every poll costs one request and no re-import.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::contract::{Page, Report};

/// Most tracking ids remembered at one cursor; a platform re-delivering more
/// than that at its end costs a re-import (a no-op) of the oldest.
const MAX_SEEN: usize = 1000;

/// Where the next poll starts: the cursor to send, and the reports already
/// read from it (tracking ids, in the order they came).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FeedPosition {
    pub after: Option<String>,
    pub seen: Vec<String>,
}

/// A position as stored: a bridge before this one kept the bare cursor.
#[derive(Deserialize)]
#[serde(untagged)]
enum Stored {
    Cursor(Option<String>),
    Position {
        after: Option<String>,
        #[serde(default)]
        seen: Vec<String>,
    },
}

impl<'de> Deserialize<'de> for FeedPosition {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Stored::deserialize(d)? {
            Stored::Cursor(after) => FeedPosition {
                after,
                seen: Vec::new(),
            },
            Stored::Position { after, seen } => FeedPosition { after, seen },
        })
    }
}

/// What one page means for the bridge.
#[derive(Debug, PartialEq)]
pub struct Step<'a> {
    /// The page's reports not read from this cursor before (each once).
    pub fresh: Vec<&'a Report>,
    /// Where the next poll starts.
    pub position: FeedPosition,
    /// Whether the next page may be asked for at once (the cursor moved past
    /// a page with reports), rather than after a poll interval.
    pub more: bool,
}

impl FeedPosition {
    /// The step `page`, answered to `self.after`, makes.
    pub fn step<'a>(&self, page: &'a Page) -> Step<'a> {
        let mut known: HashSet<&str> = self.seen.iter().map(String::as_str).collect();
        let fresh: Vec<&Report> = page
            .items
            .iter()
            .filter(|r| known.insert(r.tracking_id.as_str()))
            .collect();
        let moved = page.next.is_some() && page.next != self.after;
        if moved {
            return Step {
                fresh,
                position: FeedPosition {
                    after: page.next.clone(),
                    seen: Vec::new(),
                },
                more: !page.items.is_empty(),
            };
        }
        // The end of the feed: stay at this cursor, remembering what it gave.
        let mut seen = self.seen.clone();
        seen.extend(fresh.iter().map(|r| r.tracking_id.clone()));
        let over = seen.len().saturating_sub(MAX_SEEN);
        seen.drain(..over);
        Step {
            fresh,
            position: FeedPosition {
                after: self.after.clone(),
                seen,
            },
            more: false,
        }
    }
}

#[cfg(test)]
#[path = "feed_tests.rs"]
mod tests;
