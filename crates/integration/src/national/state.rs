//! What the bridge remembers between runs, as `IntegrationState` documents:
//! the inbound cursor, each case's last acknowledged stage, and the open
//! sync issues (what `nationalSync` lists).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::contract::Stage;

/// The inbound position: key `CURSOR_KEY`, value a `feed::FeedPosition` (a
/// bare cursor, the platform's last `next`, from bridges before it).
pub const CURSOR_KIND: &str = "national_inbound";
pub const CURSOR_KEY: &str = "cursor";
/// Per complaint id: `CaseSync`.
pub const CASE_KIND: &str = "national_case";
/// Per complaint id (outbound) or `import:<trackingId>` (inbound): `Issue`.
pub const ISSUE_KIND: &str = "national_issue";

pub fn import_key(tracking_id: &str) -> String {
    format!("import:{tracking_id}")
}

/// The last follow-up the platform acknowledged for a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseSync {
    pub tracking_id: String,
    pub stage: Stage,
    /// Its idempotency key (the event's envelope id).
    pub key: String,
    pub at: DateTime<Utc>,
}

/// Why a case's local and national states disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Reason {
    /// The platform did not take a milestone yet (5xx, timeout, unreachable);
    /// the bridge keeps retrying it, backing off.
    Waiting,
    /// Milestones the bridge has not reached yet (it is behind the log, or off).
    NotSentYet,
    /// The platform refused a milestone (unknown report, stage out of order).
    Refused,
    /// A report from the platform could not become a case.
    NotImportable,
}

/// One disagreement, as `nationalSync` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Issue {
    pub complaint_id: Option<String>,
    pub tracking_id: String,
    /// The stage the city's case is at (the one that did not get through).
    pub local_stage: Option<Stage>,
    /// The last stage the platform acknowledged.
    pub national_stage: Option<Stage>,
    pub reason: Reason,
    pub detail: String,
    pub since: DateTime<Utc>,
    /// Attempts so far (WAITING), milestones behind (NOT_SENT_YET), or
    /// deliveries of the report (NOT_IMPORTABLE).
    pub attempts: u32,
}
