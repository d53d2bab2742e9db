//! `nationalSync`: the cases whose local and national states disagree, and
//! why. Two sources: the issues the bridge recorded (a milestone waiting for
//! an unavailable platform, a refusal, a report that could not be imported),
//! and the milestones the outbound follower has not reached yet, read from the
//! log after its checkpoint.

use std::collections::HashMap;

use aduan_domain::{Channel, ComplaintEvent};
use aduan_store::{Checkpoints, IntegrationState};
use aduan_store::{EventLog, StoreError};

use super::contract::Stage;
use super::outbound::NAME;
use super::state::{CaseSync, Issue, Reason, CASE_KIND, ISSUE_KIND};

/// How far past the outbound checkpoint the log is read for milestones not
/// sent yet; a bridge further behind shows that much (and its lag shows the rest).
pub const LAG_SCAN: i64 = 5000;

/// Every disagreement, oldest first, at most `limit`.
pub async fn issues(log: &dyn EventLog, limit: usize) -> Result<Vec<Issue>, StoreError> {
    let state = IntegrationState::for_log(log);
    let mut out: Vec<Issue> = state
        .list::<Issue>(ISSUE_KIND)
        .await?
        .into_iter()
        .map(|(_, issue)| issue)
        .collect();
    let known: Vec<String> = out.iter().filter_map(|i| i.complaint_id.clone()).collect();
    for issue in not_sent_yet(log, &state).await? {
        if !known.iter().any(|k| Some(k) == issue.complaint_id.as_ref()) {
            out.push(issue);
        }
    }
    out.sort_by(|a, b| {
        a.since
            .cmp(&b.since)
            .then(a.tracking_id.cmp(&b.tracking_id))
    });
    out.truncate(limit);
    Ok(out)
}

/// Milestones after the outbound checkpoint, per national case.
#[allow(
    clippy::expect_used,
    reason = "order and pending are filled together, one entry per id"
)]
async fn not_sent_yet(
    log: &dyn EventLog,
    state: &IntegrationState,
) -> Result<Vec<Issue>, StoreError> {
    let from = Checkpoints::for_log(log).get(NAME).await?;
    let mut pending: HashMap<String, Issue> = HashMap::new();
    let mut order = Vec::new();
    for (_, e) in log.read_committed_after(from.cursor, LAG_SCAN).await? {
        let Some(stage) = Stage::of_event(&e.event) else {
            continue;
        };
        if let Some(issue) = pending.get_mut(&e.aggregate_id) {
            issue.local_stage = Some(stage);
            issue.attempts += 1;
            continue;
        }
        let Some(tracking_id) = national_ref(log, &e.aggregate_id).await? else {
            continue;
        };
        order.push(e.aggregate_id.clone());
        pending.insert(
            e.aggregate_id.clone(),
            Issue {
                complaint_id: Some(e.aggregate_id.clone()),
                tracking_id,
                local_stage: Some(stage),
                national_stage: None,
                reason: Reason::NotSentYet,
                detail: String::new(),
                since: e.event.occurred_at(),
                attempts: 1,
            },
        );
    }
    let mut out = Vec::with_capacity(order.len());
    for id in order {
        let mut issue = pending.remove(&id).expect("pending holds every ordered id");
        issue.national_stage = state
            .get::<CaseSync>(CASE_KIND, &id)
            .await?
            .map(|s| s.stage);
        issue.detail = format!(
            "{} milestone(s) not sent to the platform yet",
            issue.attempts
        );
        out.push(issue);
    }
    Ok(out)
}

/// The tracking id of complaint `id` if it is a case from the national platform.
async fn national_ref(log: &dyn EventLog, id: &str) -> Result<Option<String>, StoreError> {
    Ok(match log.load_one(id, 1).await? {
        Some(first) => match first.event {
            ComplaintEvent::Submitted {
                channel: Channel::NationalPlatform,
                external_ref,
                ..
            } => external_ref,
            _ => None,
        },
        None => None,
    })
}
