//! Many complaints at once (a desk's bulk action): each command decided on
//! its own complaint's state, exactly as alone, and the accepted ones appended
//! in one statement, so a batch costs one commit instead of one per complaint.
//! Whatever that cannot settle goes through `execute`, one by one: a refusal
//! (confirmed against the log, a retry replayed), and every command of a batch
//! whose append failed (a command id used before, a case another writer moved
//! on). The append's keys, as for one command, keep a case from moving twice
//! from one version, so the batch needs no place in the cases' queues.

use futures::StreamExt;

use aduan_domain::Action;

use super::state::State;
use super::{Answer, CommandBus, CommandOutcome, CommandRequest, Inner};
use crate::cache::CachedCase;
use crate::error::CommandError;

/// The most commands appended in one statement.
pub const MAX_BATCH: usize = 100;

/// A command decided in a batch, waiting for the append.
struct Accepted {
    index: usize,
    complaint: aduan_domain::Complaint,
    version: i64,
    hash: String,
    /// Its last event's index among the batch's events.
    last: usize,
    /// Statements it took to read its case (0 when cached).
    read: u32,
}

impl CommandBus {
    /// Carries out commands on distinct complaints, answering each as
    /// `execute` would; `parallel` bounds the one-by-one commands under way.
    /// Two commands on one complaint are taken one by one.
    pub async fn execute_batch(
        &self,
        requests: Vec<CommandRequest>,
        parallel: usize,
    ) -> Vec<Answer> {
        let mut answers: Vec<Option<Answer>> = requests.iter().map(|_| None).collect();
        for start in (0..requests.len()).step_by(MAX_BATCH) {
            let end = (start + MAX_BATCH).min(requests.len());
            self.inner
                .append_batch(&requests[start..end], &mut answers[start..end], parallel)
                .await;
        }
        let mut left = Vec::new();
        let mut done = Vec::with_capacity(requests.len());
        for (i, (request, answer)) in requests.into_iter().zip(answers).enumerate() {
            match answer {
                Some(answer) => done.push((i, answer)),
                None => left.push((i, request)),
            }
        }
        let one_by_one: Vec<(usize, Answer)> = futures::stream::iter(left)
            .map(|(i, request)| async move { (i, self.execute(request).await) })
            .buffer_unordered(parallel.max(1))
            .collect()
            .await;
        done.extend(one_by_one);
        done.sort_by_key(|(i, _)| *i);
        done.into_iter().map(|(_, answer)| answer).collect()
    }
}

impl Inner {
    /// Decides the plain commands (no `expectedVersion`, no submission, one per
    /// complaint) and appends what they accept in one statement; answers
    /// those, leaving the rest unanswered.
    async fn append_batch(
        &self,
        requests: &[CommandRequest],
        answers: &mut [Option<Answer>],
        parallel: usize,
    ) {
        let states = self.states(requests, parallel).await;
        let (mut events, mut keys, mut accepted) = (Vec::new(), Vec::new(), Vec::new());
        for (index, state, read) in states {
            let Ok(state) = state else {
                continue;
            };
            let request = &requests[index];
            let mut complaint = state.complaint;
            let Ok(decision) = self
                .decide(request, None, &mut complaint, state.version, &state.hash)
                .await
            else {
                continue;
            };
            events.extend(decision.events);
            keys.extend(decision.key);
            accepted.push(Accepted {
                index,
                complaint,
                version: decision.version,
                hash: decision.hash,
                last: events.len() - 1,
                read,
            });
        }
        if events.is_empty() {
            return;
        }
        let positions = match self.log.append(&events, &keys).await {
            Ok(positions) => positions,
            Err(e) => {
                tracing::debug!(error = %e, "a batch's append failed; taking its commands one by one");
                for a in &accepted {
                    self.cache.forget(&requests[a.index].complaint_id);
                }
                return;
            }
        };
        for a in accepted {
            let Some(case) = a.complaint.0.clone() else {
                continue;
            };
            let id = requests[a.index].complaint_id.as_str();
            self.cache.put(
                id,
                CachedCase {
                    complaint: a.complaint,
                    version: a.version,
                    hash: a.hash,
                },
            );
            answers[a.index] = Some(Ok(CommandOutcome {
                case,
                version: a.version,
                position: positions.get(a.last).copied().unwrap_or_default(),
                replayed: false,
                round_trips: a.read + 1,
            }));
        }
    }

    /// The states of the plain commands (no `expectedVersion`, no submission,
    /// the first on each complaint): the cache's, or read from the log,
    /// several at once.
    async fn states(
        &self,
        requests: &[CommandRequest],
        parallel: usize,
    ) -> Vec<(usize, Result<State, CommandError>, u32)> {
        let mut seen = std::collections::HashSet::new();
        let plain: Vec<usize> = (0..requests.len())
            .filter(|&i| {
                let r = &requests[i];
                r.expected_version.is_none()
                    && !matches!(r.command.action, Action::Submit(_))
                    && seen.insert(r.complaint_id.as_str())
            })
            .collect();
        futures::stream::iter(plain)
            .map(|index| async move {
                let mut trips = 0;
                let state = self.state(&requests[index], false, &mut trips).await;
                (index, state, trips)
            })
            .buffered(parallel.max(1))
            .collect()
            .await
    }
}
