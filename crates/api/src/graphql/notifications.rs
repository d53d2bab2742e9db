//! The notification outbox as supervisors and auditors read it: what was sent
//! to reporters, what waits and what failed, without addresses or texts
//! (docs/notifications.md).

use async_graphql::{Context, Enum, Object, Result, SimpleObject, ID};
use chrono::{DateTime, TimeZone, Utc};

use aduan_domain::access::Operation;
use aduan_store::outbox::{self, Outbox};

use super::access::guard;
use super::context::bus;
use super::error::{invalid_input, store_error};

/// The most rows one query lists.
const MAX_ROWS: i32 = 500;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum NotificationStatus {
    /// Waiting to be sent, or to be tried again.
    Pending,
    Sent,
    /// Nobody to tell: anonymous, no address on the channel, opted out, erased.
    Skipped,
    /// Given up after the last attempt, or refused for good.
    Failed,
}

impl NotificationStatus {
    fn as_str(self) -> &'static str {
        match self {
            NotificationStatus::Pending => "pending",
            NotificationStatus::Sent => "sent",
            NotificationStatus::Skipped => "skipped",
            NotificationStatus::Failed => "failed",
        }
    }

    fn parse(s: &str) -> NotificationStatus {
        match s {
            "sent" => NotificationStatus::Sent,
            "skipped" => NotificationStatus::Skipped,
            "failed" => NotificationStatus::Failed,
            _ => NotificationStatus::Pending,
        }
    }
}

/// One message to a reporter (one event, kind and channel).
#[derive(SimpleObject)]
pub struct Notification {
    pub complaint_id: ID,
    /// The event's sequence in the case's history.
    pub sequence: i64,
    /// `verified`, `rejected`, `dispatched`, `responded`, `info_requested`,
    /// `closed` or `survey`.
    pub kind: String,
    /// `email`, `sms` or `whatsapp`.
    pub channel: String,
    pub status: NotificationStatus,
    pub attempts: i32,
    /// The last failure (SMTP code, HTTP status), or why it was skipped.
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When it was sent, skipped or given up.
    pub done_at: Option<DateTime<Utc>>,
}

fn at(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

impl From<outbox::Entry> for Notification {
    fn from(e: outbox::Entry) -> Self {
        Notification {
            complaint_id: ID(e.complaint_id),
            sequence: e.sequence,
            kind: e.kind,
            channel: e.channel,
            status: NotificationStatus::parse(&e.status),
            attempts: e.attempts,
            last_error: e.last_error,
            created_at: at(e.created_ms),
            done_at: e.done_ms.map(at),
        }
    }
}

#[derive(Default)]
pub struct NotificationQuery;

#[Object]
impl NotificationQuery {
    /// Notifications to reporters, newest first: of one status, of one
    /// complaint, or all (at most `first`, up to 500).
    async fn notification_outbox(
        &self,
        ctx: &Context<'_>,
        status: Option<NotificationStatus>,
        complaint_id: Option<ID>,
        #[graphql(default = 50)] first: i32,
    ) -> Result<Vec<Notification>> {
        guard(ctx, Operation::NotificationOutbox)?;
        if !(1..=MAX_ROWS).contains(&first) {
            return Err(invalid_input("first", "between 1 and 500"));
        }
        let rows = Outbox::for_log(bus(ctx)?.log().as_ref())
            .list(
                status.map(NotificationStatus::as_str),
                complaint_id.as_ref().map(|id| id.as_str()),
                i64::from(first),
            )
            .await
            .map_err(store_error)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}
