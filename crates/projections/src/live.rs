//! The live feed behind GraphQL subscriptions: one follower of the event log per
//! server process, shared by every subscriber.
//!
//! - The follower reads the log by cursor with the projector's gap-safe rule
//!   (`EventLog::read_committed_after`), so an event whose transaction commits
//!   late is delivered late, never skipped. A wake-up (`EventLog::wake_ups`:
//!   LISTEN/NOTIFY on PostgreSQL, this process's commits on both) only says the
//!   log may have moved; a one-second poll covers a lost listener and events held
//!   back behind a long transaction.
//! - Each event goes out once, with the case as it stood after it, folded here
//!   once for all subscribers, on a bounded broadcast channel.
//! - A subscriber that falls behind the channel, or that asks to resume after a
//!   position, reads the missing events from the log by cursor, then goes live
//!   again, skipping what it has already had: no gap, no duplicate, and a slow
//!   subscriber costs only itself.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, watch};

use aduan_store::{Cursor, EventLog, Folder, LiveEvent, StoreError, StoredEvent};

/// Events held for subscribers that are a little behind; one further behind
/// re-reads the log.
const CHANNEL_EVENTS: usize = 2048;
/// Events read from the log per query.
const PAGE: i64 = 500;
/// Folded cases the follower keeps to fold the next event of the same case.
const FOLDED_CASES: usize = 5000;
/// Folded cases a subscriber's catch-up from the log keeps.
const CATCH_UP_FOLDED_CASES: usize = 1000;
/// The follower reads the log at least this often, woken or not.
const POLL: Duration = Duration::from_secs(1);

pub struct LiveFeed {
    log: Arc<dyn EventLog>,
    sender: broadcast::Sender<Arc<LiveEvent>>,
    /// The cursor of the last event sent; `None` until the follower has started.
    head: watch::Sender<Option<Cursor>>,
    /// Only the follower folds; an async lock, as it is held across the log read.
    folder: tokio::sync::Mutex<Folder>,
}

impl LiveFeed {
    pub fn new(log: Arc<dyn EventLog>) -> Arc<Self> {
        Arc::new(LiveFeed {
            log,
            sender: broadcast::channel(CHANNEL_EVENTS).0,
            head: watch::channel(None).0,
            folder: tokio::sync::Mutex::new(Folder::new(FOLDED_CASES)),
        })
    }

    /// Follows the log until `shutdown`, sending every committed event once.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut cursor = loop {
            match self.log.head().await {
                Ok(head) => break head,
                Err(e) => {
                    tracing::warn!(error = %e, "live feed: cannot read the log's head; retrying");
                    if pause(&mut shutdown, POLL).await {
                        return;
                    }
                }
            }
        };
        self.head.send_replace(Some(cursor));
        tracing::info!(position = cursor.position, "live feed following the log");
        loop {
            let mut wake = match self.log.wake_ups().await {
                Ok(w) => Some(w),
                Err(e) => {
                    tracing::warn!(error = %e, "live feed: no wake-ups; polling until they are back");
                    None
                }
            };
            loop {
                if let Err(e) = self.send_after(&mut cursor).await {
                    tracing::warn!(error = %e, "live feed: cannot read the log; retrying");
                }
                let connected = wake.is_some();
                let woken = async {
                    match wake.as_mut() {
                        Some(w) => w.next().await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    woken = woken => if woken.is_err() { break; },
                    _ = tokio::time::sleep(if connected { POLL } else { POLL / 4 }) => {
                        if !connected { break; }
                    }
                    _ = shutdown.changed() => return,
                }
                if *shutdown.borrow() {
                    return;
                }
            }
            // The loop broke because the wake-ups were lost: reconnect; the next
            // read starts from `cursor`, so what committed meanwhile is sent too.
            if pause(&mut shutdown, Duration::from_millis(100)).await {
                return;
            }
        }
    }

    /// Sends every committed event after `cursor`, moving it along.
    async fn send_after(&self, cursor: &mut Cursor) -> Result<(), StoreError> {
        loop {
            let batch = self.log.read_committed_after(*cursor, PAGE).await?;
            let Some(&(last, _)) = batch.last() else {
                return Ok(());
            };
            let events = self.fold(batch).await?;
            for event in events {
                // No receiver is not an error: nobody is subscribed right now.
                let _ = self.sender.send(Arc::new(event));
            }
            *cursor = last;
            self.head.send_replace(Some(last));
        }
    }

    /// The batch's events with the case after each, folded from the follower's
    /// cache where it holds the case up to the event before, else from the log.
    async fn fold(&self, batch: Vec<(Cursor, StoredEvent)>) -> Result<Vec<LiveEvent>, StoreError> {
        self.folder
            .lock()
            .await
            .fold(self.log.as_ref(), batch)
            .await
    }

    /// Every event after `after` (from the log, then live), or from now on when
    /// `after` is `None`. Ends with an error only when the log cannot be read.
    pub fn events(
        self: &Arc<Self>,
        after: Option<Cursor>,
    ) -> impl futures_core::Stream<Item = Result<Arc<LiveEvent>, StoreError>> + Send + 'static {
        let feed = self.clone();
        async_stream::try_stream! {
            let mut head = feed.head.subscribe();
            // A subscriber may only join once the follower knows where it stands:
            // it sends nothing from before its start, so an earlier join could
            // fall between the two.
            let started = head.wait_for(Option::is_some).await.map(|h| *h);
            let Ok(Some(now)) = started else { return };
            let mut live = feed.sender.subscribe();
            let mut last = after.unwrap_or(now);
            let mut behind = after.is_some();
            loop {
                if behind {
                    // From the log up to where the channel takes over: the
                    // channel holds everything the follower sends from now on,
                    // which starts at or before what the log shows now.
                    let mut folder = Folder::new(CATCH_UP_FOLDED_CASES);
                    loop {
                        let batch = feed.log.read_committed_after(last, PAGE).await?;
                        if batch.is_empty() {
                            break;
                        }
                        let events = folder.fold(feed.log.as_ref(), batch).await?;
                        for event in events {
                            last = event.cursor;
                            yield Arc::new(event);
                        }
                    }
                    behind = false;
                }
                match live.recv().await {
                    Ok(event) if event.cursor <= last => {}
                    Ok(event) => {
                        last = event.cursor;
                        yield event;
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        live = feed.sender.subscribe();
                        behind = true;
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        }
    }

    /// Where a subscriber resumes after the event at `position` (0: the start).
    pub async fn cursor_after(&self, position: i64) -> Result<Option<Cursor>, StoreError> {
        if position == 0 {
            return Ok(Some(Cursor::default()));
        }
        self.log.cursor_of(position).await
    }
}

/// Waits `d` unless shutdown comes first (then `true`).
async fn pause(shutdown: &mut watch::Receiver<bool>, d: Duration) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(d) => *shutdown.borrow(),
        _ = shutdown.changed() => true,
    }
}
