//! Group commit: the commands queued on one complaint decided one after
//! another and appended in one statement.

use aduan_domain::Action;

use super::{Answer, CommandOutcome, CommandRequest, Inner};
use crate::cache::CachedCase;
use crate::log::CommandRecord;

impl Inner {
    /// Answers a group of commands on one complaint, in arrival order.
    pub(super) async fn run_group(&self, requests: &[CommandRequest]) -> Vec<Answer> {
        let mut answers: Vec<Option<Answer>> = requests.iter().map(|_| None).collect();
        if requests.len() > 1 {
            self.together(requests, &mut answers).await;
        }
        let mut out = Vec::with_capacity(requests.len());
        for (request, answer) in requests.iter().zip(answers) {
            out.push(match answer {
                Some(answer) => answer,
                None => self.execute_one(request).await,
            });
        }
        out
    }

    /// Decides a group's plain commands (no `expectedVersion`, no submission) one
    /// after another on the case's state and appends all their events in one
    /// statement. What that cannot settle (a refusal, to be confirmed against the
    /// log; a lost race; a command id used before, in the log or earlier in the
    /// group) is left unanswered, for `execute_one` to take one by one.
    async fn together(&self, requests: &[CommandRequest], answers: &mut [Option<Answer>]) {
        let plain: Vec<usize> = (0..requests.len())
            .filter(|&i| {
                requests[i].expected_version.is_none()
                    && !matches!(requests[i].command.action, Action::Submit(_))
            })
            .collect();
        if plain.len() < 2 {
            return;
        }
        let first = &requests[plain[0]];
        let id = first.complaint_id.as_str();
        let mut trips = 0;
        let Ok(state) = self.state(first, false, &mut trips).await else {
            return;
        };
        let (mut complaint, mut version, mut hash) = (state.complaint, state.version, state.hash);
        let (mut events, mut keys, mut accepted) = (Vec::new(), Vec::new(), Vec::new());
        for &i in &plain {
            let request = &requests[i];
            let key = request.command_id.as_deref();
            if key.is_some_and(|k| keys.iter().any(|r: &CommandRecord| r.command_id == k)) {
                // The same command twice in one group: the second is a retry.
                continue;
            }
            let Ok(decision) = self
                .decide(request, None, &mut complaint, version, &hash)
                .await
            else {
                continue;
            };
            version = decision.version;
            hash = decision.hash;
            events.extend(decision.events);
            keys.extend(decision.key);
            let Some(case) = complaint.0.clone() else {
                return;
            };
            accepted.push((i, case, version, events.len() - 1));
        }
        if events.is_empty() {
            return;
        }
        trips += 1;
        let positions = match self.log.append(&events, &keys).await {
            Ok(positions) => positions,
            Err(e) => {
                tracing::debug!(complaint = %id, error = %e, "a group's append failed; taking its commands one by one");
                self.cache.forget(id);
                return;
            }
        };
        self.cache.put(
            id,
            CachedCase {
                complaint,
                version,
                hash,
            },
        );
        for (i, case, version, last) in accepted {
            answers[i] = Some(Ok(CommandOutcome {
                case,
                version,
                position: positions.get(last).copied().unwrap_or_default(),
                replayed: false,
                round_trips: trips,
            }));
        }
    }
}
