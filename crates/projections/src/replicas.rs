//! Streaming replicas of the primary (PostgreSQL hot standbys) under the read
//! side. The projectors write on the primary; the replica's copy of the
//! projection tables and of `projection_checkpoints` arrives by replication,
//! so its checkpoints say how far its copy has got. A replica answers what it
//! has; a read that must include a position waits for the replica's
//! checkpoints for a bounded time (`reached`), and the caller reads the
//! primary when it does not get there. A replica that fails a read is set
//! aside for a moment and the primary answers (`Reads::run`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aduan_store::{Db, StoreError};

use crate::backend::{self, Backend};
use crate::Reads;

/// Reads sent to a replica, by outcome (`ANSWERED`, `FELL_BACK`).
pub const READS_METRIC: &str = "aduan_replica_reads_total";
/// Reads with a position to include (`minPosition`) routed to a replica, by
/// outcome (`REACHED`, `BEHIND`).
pub const WAITS_METRIC: &str = "aduan_replica_waits_total";
/// The replica answered the read.
pub const ANSWERED: &str = "replica";
/// The replica failed the read, or is set aside after a failure: the primary
/// answered it.
pub const FELL_BACK: &str = "primary";
/// The replica had applied the position within the wait and answered.
pub const REACHED: &str = "reached";
/// The replica had not applied it within the wait: the primary answered.
pub const BEHIND: &str = "behind";
pub const READ_OUTCOMES: [&str; 2] = [ANSWERED, FELL_BACK];
pub const WAIT_OUTCOMES: [&str; 2] = [REACHED, BEHIND];

/// How long a replica that failed a read is left out before it is tried
/// again: long enough that a dead host costs few requests a connect timeout,
/// short enough that a restarted replica is back within seconds.
const SET_ASIDE: Duration = Duration::from_secs(5);

/// How often a wait for a position reads the replica's checkpoints (a hot
/// standby has no LISTEN to wake it).
const POLL: Duration = Duration::from_millis(50);

pub(crate) fn count_read(outcome: &'static str) {
    metrics::counter!(READS_METRIC, "outcome" => outcome).increment(1);
}

/// A replica's way back to the primary, and whether it is set aside.
#[derive(Debug)]
pub(crate) struct Link {
    /// Where the replica is (host and port, never credentials), for the log.
    name: String,
    pub(crate) primary: Arc<dyn Backend>,
    set_aside_until: Mutex<Option<Instant>>,
}

impl Link {
    /// Whether the replica may be asked (it is not set aside).
    pub(crate) fn available(&self) -> bool {
        let until = *self
            .set_aside_until
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        until.is_none_or(|t| Instant::now() >= t)
    }

    /// Sets the replica aside after it failed a read; logs once per setting aside.
    pub(crate) fn failed(&self, error: &StoreError) {
        let mut until = self
            .set_aside_until
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if until.is_none_or(|t| now >= t) {
            tracing::warn!(
                replica = %self.name,
                %error,
                "a read replica failed a read: the primary answers its reads for the next {} s",
                SET_ASIDE.as_secs()
            );
        }
        *until = Some(now + SET_ASIDE);
    }
}

/// The read replicas of one server process, taken in turn.
#[derive(Debug)]
pub struct ReadReplicas {
    replicas: Vec<Reads>,
    next: AtomicUsize,
}

impl ReadReplicas {
    /// The replicas (each named by host and port, and its database), falling
    /// back to `primary`'s database.
    pub fn new(primary: &Reads, replicas: Vec<(String, Db)>) -> Self {
        let replicas = replicas
            .into_iter()
            .map(|(name, db)| Reads {
                backend: backend::for_db(db),
                replica: Some(Arc::new(Link {
                    name,
                    primary: primary.backend.clone(),
                    set_aside_until: Mutex::new(None),
                })),
            })
            .collect();
        ReadReplicas {
            replicas,
            next: AtomicUsize::new(0),
        }
    }

    /// The next replica in turn that is not set aside (when all are, the next
    /// one: its reads go to the primary until it is tried again).
    pub fn pick(&self) -> Reads {
        let count = self.replicas.len().max(1);
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..count)
            .map(|i| &self.replicas[(start + i) % count])
            .find(|r| r.replica.as_ref().is_none_or(|l| l.available()))
            .unwrap_or(&self.replicas[start % count])
            .clone()
    }

    /// The replicas' names (host and port), for the start-up log.
    pub fn describe(&self) -> String {
        let names: Vec<&str> = self
            .replicas
            .iter()
            .filter_map(|r| r.replica.as_ref().map(|l| l.name.as_str()))
            .collect();
        names.join(", ")
    }

    /// Whether `replica`'s copy of each of `projections` includes the event at
    /// `position` within `wait`, polling the replica's checkpoints: counted in
    /// `WAITS_METRIC`. False also when the replica fails (it is then set
    /// aside) or is set aside, counted as a read the primary answers: the
    /// caller reads the primary either way.
    pub async fn reached(
        &self,
        replica: &Reads,
        projections: &[&str],
        position: i64,
        wait: Duration,
    ) -> bool {
        let link = replica.replica.as_ref();
        if !link.is_none_or(|l| l.available()) {
            count_read(FELL_BACK);
            return false;
        }
        let deadline = tokio::time::Instant::now() + wait;
        let mut pending = projections.to_vec();
        let reached = loop {
            match first_behind(replica, &pending, position).await {
                Ok(None) => break true,
                Ok(Some(behind)) => {
                    pending.drain(..behind);
                }
                Err(error) => {
                    if let Some(link) = link {
                        link.failed(&error);
                    }
                    count_read(FELL_BACK);
                    return false;
                }
            };
            if tokio::time::Instant::now() + POLL > deadline {
                break false;
            }
            tokio::time::sleep(POLL).await;
        };
        let outcome = if reached { REACHED } else { BEHIND };
        metrics::counter!(WAITS_METRIC, "outcome" => outcome).increment(1);
        reached
    }
}

/// The index of the first of `projections` that has not applied `position` on
/// this database (the replica itself: no fall-back to the primary here).
async fn first_behind(
    reads: &Reads,
    projections: &[&str],
    position: i64,
) -> Result<Option<usize>, StoreError> {
    for (i, projection) in projections.iter().enumerate() {
        if !reads.backend.has_applied(projection, position).await? {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

/// A replica URL's host and port, for logs (never its credentials).
pub fn replica_name(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    rest.split(['/', '?']).next().unwrap_or(rest).to_string()
}

#[cfg(test)]
mod tests {
    use super::replica_name;

    #[test]
    fn a_replica_is_named_without_its_credentials() {
        assert_eq!(
            replica_name("postgres://aduan:s3cret@db-2.example:5433/aduan?sslmode=require"),
            "db-2.example:5433"
        );
        assert_eq!(replica_name("postgresql://replica/aduan"), "replica");
    }
}
