//! `nationalSync`: where the city's cases and the national platform disagree
//! (see `aduan_integration::national::sync`).

use async_graphql::{Context, Enum, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};

use aduan_domain::access::Operation;
use aduan_integration::national::{self, sync};

use super::access::guard;
use super::context::bus;
use super::error::{invalid_input, store_error};

const MAX_FIRST: i32 = 1000;

/// SP4N-LAPOR!'s stages, as the bridge reports them.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "national::Stage")]
pub enum NationalStage {
    /// Disposisi: an OPD has the case.
    Disposed,
    /// Tindak lanjut: a response to the citizen.
    InFollowUp,
    /// Selesai.
    Completed,
    /// Bukan wewenang.
    Rejected,
}

/// Why a case's local and national states disagree.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "national::Reason")]
pub enum NationalSyncReason {
    /// The platform did not take a milestone (5xx, timeout, unreachable); the
    /// bridge keeps retrying it, backing off.
    Waiting,
    /// Milestones the bridge has not reached yet (it is behind, or off).
    NotSentYet,
    /// The platform refused a milestone (unknown report, stage out of order).
    Refused,
    /// A report from the platform could not become a case.
    NotImportable,
}

/// One case (or report) on which the city and the platform disagree.
#[derive(SimpleObject)]
pub struct NationalSyncIssue {
    /// The city's case; null for a report that could not be imported.
    pub complaint_id: Option<ID>,
    /// The platform's tracking id of the report.
    pub tracking_id: String,
    /// The milestone the city is at that the platform has not taken.
    pub local_stage: Option<NationalStage>,
    /// The last stage the platform acknowledged.
    pub national_stage: Option<NationalStage>,
    pub reason: NationalSyncReason,
    /// The platform's answer, or what is pending.
    pub detail: String,
    pub since: DateTime<Utc>,
    /// Attempts so far (WAITING), milestones not sent yet (NOT_SENT_YET), or
    /// deliveries of the report (NOT_IMPORTABLE).
    pub attempts: i32,
}

impl From<national::Issue> for NationalSyncIssue {
    fn from(i: national::Issue) -> Self {
        NationalSyncIssue {
            complaint_id: i.complaint_id.map(ID),
            tracking_id: i.tracking_id,
            local_stage: i.local_stage.map(Into::into),
            national_stage: i.national_stage.map(Into::into),
            reason: i.reason.into(),
            detail: i.detail,
            since: i.since,
            attempts: i32::try_from(i.attempts).unwrap_or(i32::MAX),
        }
    }
}

#[derive(Default)]
pub struct NationalQuery;

#[Object]
impl NationalQuery {
    /// Cases whose state here and on the national platform disagree, and why,
    /// oldest first (empty when the bridge is in step, or was never used).
    async fn national_sync(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 100)] first: i32,
    ) -> Result<Vec<NationalSyncIssue>> {
        guard(ctx, Operation::NationalSync)?;
        if !(1..=MAX_FIRST).contains(&first) {
            return Err(invalid_input("first", "must be between 1 and 1000"));
        }
        let issues = sync::issues(bus(ctx)?.log().as_ref(), first as usize)
            .await
            .map_err(store_error)?;
        Ok(issues.into_iter().map(Into::into).collect())
    }
}
