//! Notifications to reporters: e-mail (SMTP) and SMS or WhatsApp (the city's
//! message gateway), in Indonesian, from the city's templates, when a case is
//! verified or rejected, dispatched, answered, asked for information, closed,
//! and when its satisfaction survey opens.
//!
//! Like every outbound channel, the notifier follows the event log with a
//! checkpoint of its own (`notifications`), in the elected process only. For
//! each event that concerns the reporter it makes one outbox row per kind and
//! channel (`aduan_store::outbox`, a unique key: a batch redone after a crash makes no row
//! twice), then moves its checkpoint; then it sends the rows that are due. A
//! row holds no address and no text: both come from the log when it is sent,
//! so a reporter who opted out or was erased in between is not contacted, and
//! an anonymous reporter never is. A failed send is tried again with
//! exponential backoff, then marked `failed` (`/metrics`,
//! `notificationOutbox`). Commands never wait for any of it.

pub mod gateway;
pub mod incident;
pub mod smtp;
pub mod templates;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;

use aduan_domain::tracking::{self, TrackingKey};
use aduan_domain::{disclosure, Case, ComplaintEvent};
use aduan_store::outbox::{self, Done, Outbox};
use aduan_store::{Checkpoints, EventLog, Follower, StoreError, StoredEvent};

pub use gateway::{Gateway, GatewaySettings};
pub use incident::Members;
pub use smtp::{EmailSettings, Mailer};
pub use templates::Templates;

/// The follower's checkpoint and election name.
pub const NAME: &str = "notifications";
/// Sends by outcome and channel.
pub const SENT_METRIC: &str = "aduan_notifications_total";
/// Events read per round.
const BATCH: i64 = 256;
/// Rows sent per round (the log is read again between rounds).
const SEND_BATCH: i64 = 50;
/// How often done rows older than `Settings::keep` are deleted.
const PRUNE_EVERY: Duration = Duration::from_secs(600);

/// What the reporter is told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Verified,
    Rejected,
    Dispatched,
    Responded,
    InfoRequested,
    Closed,
    Survey,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::Verified,
        Kind::Rejected,
        Kind::Dispatched,
        Kind::Responded,
        Kind::InfoRequested,
        Kind::Closed,
        Kind::Survey,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Verified => "verified",
            Kind::Rejected => "rejected",
            Kind::Dispatched => "dispatched",
            Kind::Responded => "responded",
            Kind::InfoRequested => "info_requested",
            Kind::Closed => "closed",
            Kind::Survey => "survey",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// What an event tells the reporter about (a closing also opens the survey).
    pub fn of(event: &ComplaintEvent) -> &'static [Kind] {
        match event {
            ComplaintEvent::Verified { .. } => &[Kind::Verified],
            ComplaintEvent::Rejected { .. } => &[Kind::Rejected],
            ComplaintEvent::Assigned { .. } | ComplaintEvent::Transferred { .. } => {
                &[Kind::Dispatched]
            }
            ComplaintEvent::Responded { .. } => &[Kind::Responded],
            ComplaintEvent::InfoRequested { .. } => &[Kind::InfoRequested],
            ComplaintEvent::Closed { .. } | ComplaintEvent::AutoClosed { .. } => {
                &[Kind::Closed, Kind::Survey]
            }
            _ => &[],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    Email,
    Sms,
    WhatsApp,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::WhatsApp => "whatsapp",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        [Channel::Email, Channel::Sms, Channel::WhatsApp]
            .into_iter()
            .find(|c| c.as_str() == s.trim().to_ascii_lowercase())
    }
}

/// Why a send did not happen.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Nobody to send to on this channel: the row is skipped.
    #[error("{0}")]
    NoAddress(&'static str),
    /// Refused for good: the row fails now.
    #[error("{0}")]
    Permanent(String),
    /// Tried again later.
    #[error("{0}")]
    Transient(String),
}

/// How the notifier works.
#[derive(Debug)]
pub struct Settings {
    pub templates: Templates,
    /// Where citizens follow their case (`{base}/lacak/{code}`); no links when unset.
    pub public_base_url: Option<String>,
    /// Where aduan's `/notifications/opt-out` is reached from outside; e-mails
    /// carry a one-click `List-Unsubscribe` (RFC 8058) there when set.
    pub unsubscribe_url: Option<String>,
    pub email: Option<EmailSettings>,
    pub gateway: Option<GatewaySettings>,
    /// The wait after the first failed attempt; doubled each time, up to `retry_cap`.
    pub retry_base: Duration,
    pub retry_cap: Duration,
    /// Attempts before a row is marked `failed`.
    pub attempts: u32,
    /// Events older than this when the notifier first sees them are not
    /// notified (a notifier switched on for a city with years of history).
    pub max_age: Duration,
    /// How long `sent` and `skipped` rows are kept (`None`: for good). Never
    /// shorter than `max_age`: a row younger than that could be made again.
    pub keep: Option<Duration>,
    /// OPD names by code, for `{opd}`.
    pub opd_names: HashMap<String, String>,
}

impl Settings {
    /// The wait after failed attempt `attempt` (1-based).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(30));
        self.retry_base.saturating_mul(factor).min(self.retry_cap)
    }

    /// Rows done before this instant (ms) may go. The notifier makes rows
    /// only for events younger than `max_age`, so a row done longer ago than
    /// that is never made again, even by a batch redone after a crash.
    fn prune_before_ms(&self, now_ms: i64) -> Option<i64> {
        let keep = self.keep?.max(self.max_age + PRUNE_EVERY);
        Some(now_ms.saturating_sub(i64::try_from(keep.as_millis()).unwrap_or(i64::MAX)))
    }
}

pub struct Notifier {
    log: Arc<dyn EventLog>,
    checkpoints: Checkpoints,
    outbox: Outbox,
    settings: Settings,
    tracking: TrackingKey,
    mailer: Option<Mailer>,
    gateway: Option<Gateway>,
    /// When rows were last pruned (ms; 0: not yet in this process).
    pruned_ms: std::sync::atomic::AtomicI64,
    /// Who follows a primary case (`incident`); none: replies are told to
    /// their own case's reporter only.
    members: Option<Arc<dyn Members>>,
}

impl Notifier {
    pub fn new(
        log: Arc<dyn EventLog>,
        settings: Settings,
        tracking: TrackingKey,
    ) -> Result<Notifier, smtp::EmailSetupError> {
        let mailer = settings.email.as_ref().map(Mailer::new).transpose()?;
        let gateway = settings.gateway.clone().map(Gateway::new);
        Ok(Notifier {
            checkpoints: Checkpoints::for_log(log.as_ref()),
            outbox: Outbox::for_log(log.as_ref()),
            log,
            settings,
            tracking,
            mailer,
            gateway,
            pruned_ms: std::sync::atomic::AtomicI64::new(0),
            members: None,
        })
    }

    /// Tells the reporters of the cases linked to a primary of its replies too.
    pub fn with_members(mut self, members: Arc<dyn Members>) -> Notifier {
        self.members = Some(members);
        self
    }

    /// Deletes done rows past their keeping time, at most every `PRUNE_EVERY`.
    async fn prune(&self) -> Result<(), StoreError> {
        use std::sync::atomic::Ordering;
        let now = now_ms();
        let Some(before) = self.settings.prune_before_ms(now) else {
            return Ok(());
        };
        let every = PRUNE_EVERY.as_millis() as i64;
        if now - self.pruned_ms.load(Ordering::Relaxed) < every {
            return Ok(());
        }
        self.pruned_ms.store(now, Ordering::Relaxed);
        let deleted = self.outbox.prune(before).await?;
        if deleted > 0 {
            tracing::info!(deleted, "pruned notifications past their keeping time");
        }
        Ok(())
    }

    /// The channels rows are made for.
    fn channels(&self) -> Vec<Channel> {
        let mut out = Vec::new();
        if self.mailer.is_some() {
            out.push(Channel::Email);
        }
        if let Some(g) = &self.gateway {
            out.push(g.channel());
        }
        out
    }

    /// Notifies (as the elected process) until `shutdown`.
    pub async fn run(&self, shutdown: tokio::sync::watch::Receiver<bool>) {
        self.checkpoints.clone().run(self, shutdown).await
    }

    /// Makes the rows of the next batch of events, then moves the checkpoint;
    /// returns how many events it read.
    async fn step(&self) -> Result<usize, StoreError> {
        let from = self.checkpoints.get(NAME).await?;
        let batch = self.log.read_committed_after(from.cursor, BATCH).await?;
        let Some(&(last, _)) = batch.last() else {
            return Ok(0);
        };
        let oldest = Utc::now()
            - chrono::Duration::from_std(self.settings.max_age).unwrap_or(chrono::Duration::MAX);
        let channels = self.channels();
        let mut rows = Vec::new();
        for (cursor, e) in &batch {
            if e.event.occurred_at() < oldest {
                continue;
            }
            for kind in Kind::of(&e.event) {
                for channel in &channels {
                    rows.push(outbox::NewRow {
                        complaint_id: e.aggregate_id.clone(),
                        sequence: e.sequence,
                        kind: kind.as_str(),
                        channel: channel.as_str(),
                    });
                }
            }
            if let Some(members) = &self.members {
                rows.extend(incident::rows(members.as_ref(), e, cursor.position, &channels).await?);
            }
        }
        if !rows.is_empty() {
            self.outbox.insert(&rows, now_ms()).await?;
        }
        let n = batch.len();
        self.checkpoints.advance(NAME, from, last, n as i64).await?;
        Ok(n)
    }

    /// Sends the rows due now; returns how many it handled.
    async fn send_due(&self) -> Result<usize, StoreError> {
        let due = self.outbox.due(now_ms(), SEND_BATCH).await?;
        // Rows of a case and channel whose earlier row is to be retried wait
        // for it (the query only sees the rows as they were).
        let mut held: HashSet<(String, String)> = HashSet::new();
        for row in &due {
            let case_channel = (row.complaint_id.clone(), row.channel.clone());
            if held.contains(&case_channel) {
                continue;
            }
            if !self.send_row(row).await? {
                held.insert(case_channel);
            }
        }
        Ok(due.len())
    }

    /// Sends one row; returns whether it is done (not waiting for a retry).
    async fn send_row(&self, row: &outbox::Due) -> Result<bool, StoreError> {
        let outcome = match self.compose(row).await? {
            Composed::Skip(why) => Err(SendError::NoAddress(why)),
            Composed::Send {
                to,
                name,
                message,
                unsubscribe,
            } => {
                let key = key_of(row);
                match Channel::parse(&row.channel) {
                    Some(Channel::Email) => match &self.mailer {
                        Some(m) => {
                            let envelope = smtp::Envelope {
                                to: &to,
                                name: name.as_deref(),
                                key: &key,
                                unsubscribe: unsubscribe.as_deref(),
                            };
                            m.send(&envelope, &message).await
                        }
                        None => Err(SendError::Transient("e-mail is not configured".into())),
                    },
                    Some(_) => match &self.gateway {
                        Some(g) => {
                            g.send(&to, &format!("{key}.{}", row.channel), &message.short)
                                .await
                        }
                        None => Err(SendError::Transient("the gateway is not configured".into())),
                    },
                    None => Err(SendError::Permanent("unknown channel".into())),
                }
            }
        };
        let channel = row.channel.clone();
        let count = |outcome: &'static str| {
            metrics::counter!(SENT_METRIC, "channel" => channel.clone(), "outcome" => outcome)
                .increment(1)
        };
        match outcome {
            Ok(()) => {
                count("sent");
                self.outbox
                    .finish(row.id, Done::Sent, None, true, now_ms())
                    .await?;
            }
            Err(SendError::NoAddress(why)) => {
                count("skipped");
                self.outbox
                    .finish(row.id, Done::Skipped, Some(why), false, now_ms())
                    .await?;
            }
            Err(SendError::Permanent(error)) => {
                count("failed");
                tracing::warn!(complaint = %row.complaint_id, channel = %row.channel, %error, "notification refused; not tried again");
                self.outbox
                    .finish(row.id, Done::Failed, Some(&error), true, now_ms())
                    .await?;
            }
            Err(SendError::Transient(error)) => {
                let attempt = u32::try_from(row.attempts).unwrap_or(0) + 1;
                if attempt >= self.settings.attempts {
                    count("failed");
                    tracing::warn!(complaint = %row.complaint_id, channel = %row.channel, %error, attempts = attempt, "notification failed");
                    self.outbox
                        .finish(row.id, Done::Failed, Some(&error), true, now_ms())
                        .await?;
                } else {
                    count("retried");
                    let wait = self.settings.backoff(attempt).as_millis() as i64;
                    self.outbox.retry(row.id, &error, now_ms() + wait).await?;
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    /// The row's address and message, read from the log now; or why nobody
    /// is to be told.
    async fn compose(&self, row: &outbox::Due) -> Result<Composed, StoreError> {
        let events = self.log.load(&row.complaint_id).await?;
        let complaint = aduan_store::codec::fold(&events);
        let (Some(case), Some((kind, of_primary))) =
            (complaint.0.as_ref(), incident::parse_kind(&row.kind))
        else {
            return Ok(Composed::Skip("no such case"));
        };
        let (shown, event) =
            match incident::event_of(self.log.as_ref(), case, &events, row.sequence, of_primary)
                .await?
            {
                Ok(found) => found,
                Err(why) => return Ok(Composed::Skip(why)),
            };
        if let Some(why) = reasons_not_to_send(case, kind) {
            return Ok(Composed::Skip(why));
        }
        let Some(reporter) = case.reporter.as_ref() else {
            return Ok(Composed::Skip("no reporter"));
        };
        let to = match Channel::parse(&row.channel) {
            Some(Channel::Email) => reporter.email.clone(),
            _ => reporter.phone.clone(),
        };
        let Some(to) = to.filter(|t| !t.trim().is_empty()) else {
            return Ok(Composed::Skip("no address on this channel"));
        };
        let values = self.values(&shown, &event);
        Ok(Composed::Send {
            to,
            name: reporter.name.clone(),
            message: self.settings.templates.render(kind, &values),
            unsubscribe: self.unsubscribe(case),
        })
    }

    /// The placeholders' values for `event` of `case`.
    fn values(&self, case: &Case, event: &StoredEvent) -> templates::Values {
        let t = &self.settings.templates;
        let mut v = templates::Values::new();
        // The number the reporter can quote to 112; the id for cases from before numbers.
        v.insert("id", case.number.clone().unwrap_or_else(|| case.id.clone()));
        let opd = match &event.event {
            ComplaintEvent::Assigned { opd, .. } => Some(opd.clone()),
            ComplaintEvent::Transferred { to_opd, .. } => Some(to_opd.clone()),
            _ => case.opd.clone(),
        };
        if let Some(opd) = opd {
            let name = self.settings.opd_names.get(&opd).cloned().unwrap_or(opd);
            v.insert("opd", name);
        }
        match &event.event {
            ComplaintEvent::Rejected { reason, .. } => {
                let code = reason.as_str();
                v.insert(
                    "reason",
                    t.reasons.get(code).cloned().unwrap_or(code.into()),
                );
            }
            ComplaintEvent::Closed { resolution, .. } => {
                let code = resolution.as_str();
                v.insert(
                    "resolution",
                    t.resolutions.get(code).cloned().unwrap_or(code.into()),
                );
            }
            ComplaintEvent::AutoClosed { .. } => {
                let code = aduan_domain::Resolution::NotResolved.as_str();
                v.insert(
                    "resolution",
                    t.resolutions.get(code).cloned().unwrap_or(code.into()),
                );
            }
            _ => {}
        }
        // Staff's words reach the reporter only as the one rule lets them.
        let public = disclosure::public_text(&event.event).map(str::to_string);
        let placeholder = match &event.event {
            ComplaintEvent::Responded { .. } => Some("response"),
            ComplaintEvent::InfoRequested { .. } => Some("question"),
            ComplaintEvent::Closed { .. } => Some("summary"),
            _ => None,
        };
        if let (Some(name), Some(text)) = (placeholder, public) {
            v.insert(name, text);
        }
        if let Some(link) = self.link(case) {
            v.insert("link", link);
        }
        v
    }

    /// Where the reporter follows the case: by its tracking code when it has
    /// one (the code made again from the server's key, checked against the
    /// hash the case keeps), else the case's page for a signed-in citizen.
    fn link(&self, case: &Case) -> Option<String> {
        let base = self
            .settings
            .public_base_url
            .as_deref()?
            .trim_end_matches('/');
        Some(match self.code(case) {
            Some(code) => format!("{base}/lacak/{code}"),
            None => format!("{base}/aduan/{}", case.id),
        })
    }

    /// The one-click opt-out of the case: its tracking code is what lets
    /// whoever holds the message stop them, as on the tracking page.
    fn unsubscribe(&self, case: &Case) -> Option<String> {
        let url = self.settings.unsubscribe_url.as_deref()?;
        let code = self.code(case)?;
        Some(format!("{url}?complaint={}&code={code}", case.id))
    }

    /// The case's tracking code, made again from the server's key and checked
    /// against the hash the case keeps.
    fn code(&self, case: &Case) -> Option<String> {
        let hash = case.tracking_code_hash.as_ref()?;
        self.tracking
            .code_for(&case.id)
            .filter(|code| tracking::hash(code) == *hash)
    }

    /// Rows by status, for `/metrics`.
    pub async fn counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        self.outbox.counts().await
    }
}

enum Composed {
    Skip(&'static str),
    Send {
        to: String,
        name: Option<String>,
        message: templates::Message,
        unsubscribe: Option<String>,
    },
}

/// Why nobody is told about this case now, if so.
fn reasons_not_to_send(case: &Case, kind: Kind) -> Option<&'static str> {
    let Some(_) = case.reporter.as_ref() else {
        return Some("no reporter contact");
    };
    if case.anonymous {
        return Some("anonymous reporter");
    }
    // The national platform tells its own users of every stage (the bridge
    // sends the stages back): a second message from the city would be noise.
    if case.channel == aduan_domain::Channel::NationalPlatform {
        return Some("reported on the national platform");
    }
    if case.personal_data_erased {
        return Some("reporter data erased");
    }
    if case.notifications_opted_out {
        return Some("opted out");
    }
    if kind == Kind::Survey && case.survey_answered {
        return Some("survey already answered");
    }
    None
}

/// The stable key of a row's message (the e-mail's `Message-ID`, with the
/// channel the gateway's idempotency key).
fn key_of(row: &outbox::Due) -> String {
    format!("{}.{}.{}", row.complaint_id, row.sequence, row.kind)
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

#[async_trait]
impl Follower for Notifier {
    fn name(&self) -> &str {
        NAME
    }

    /// Called when the log moved and at least every second: makes the rows
    /// of new events, then sends what is due (retries included).
    async fn catch_up(&self) -> Result<usize, StoreError> {
        let total = aduan_store::follow::until_empty(|| self.step()).await?;
        while self.send_due().await? == SEND_BATCH as usize {}
        self.prune().await?;
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aduan_domain::{Complaint, Reporter};

    fn case(change: impl FnOnce(&mut Case)) -> Case {
        let submitted = ComplaintEvent::Submitted {
            complaint_id: "c-1".into(),
            channel: aduan_domain::Channel::Mobile,
            category: "ROAD_DAMAGE".into(),
            priority: aduan_domain::Priority::Normal,
            title: "t".into(),
            description: "d".into(),
            location: aduan_domain::Location {
                latitude: -5.1,
                longitude: 119.4,
                address: None,
                kecamatan: Some("MAKASSAR".into()),
                kelurahan: None,
            },
            reporter: Some(Reporter {
                subject: None,
                name: Some("Andi".into()),
                phone: Some("0811".into()),
                email: Some("andi@contoh.id".into()),
            }),
            anonymous: false,
            attachments: vec![],
            external_ref: None,
            tracking_code_hash: None,
            number: None,
            occurred_at: Utc::now(),
        };
        let mut complaint = Complaint::default();
        cqrs_es::Aggregate::apply(&mut complaint, submitted);
        let mut case = complaint.0.unwrap();
        change(&mut case);
        case
    }

    type Change = fn(&mut Case);

    #[test]
    fn who_is_never_told() {
        assert_eq!(reasons_not_to_send(&case(|_| {}), Kind::Verified), None);
        let cases: [(Change, &str); 5] = [
            (|c| c.reporter = None, "no reporter contact"),
            (|c| c.anonymous = true, "anonymous reporter"),
            (|c| c.personal_data_erased = true, "reporter data erased"),
            (|c| c.notifications_opted_out = true, "opted out"),
            (
                |c| c.channel = aduan_domain::Channel::NationalPlatform,
                "reported on the national platform",
            ),
        ];
        for (change, why) in cases {
            assert_eq!(
                reasons_not_to_send(&case(change), Kind::Verified),
                Some(why)
            );
        }
        let answered = case(|c| c.survey_answered = true);
        assert_eq!(
            reasons_not_to_send(&answered, Kind::Survey),
            Some("survey already answered")
        );
        assert_eq!(reasons_not_to_send(&answered, Kind::Closed), None);
    }

    #[test]
    fn a_closing_opens_the_survey_and_notes_tell_nobody() {
        let closed = ComplaintEvent::AutoClosed {
            waiting_since: Utc::now(),
            reason: "r".into(),
            occurred_at: Utc::now(),
        };
        assert_eq!(Kind::of(&closed), [Kind::Closed, Kind::Survey]);
        let note = ComplaintEvent::NotificationsOptedOut {
            occurred_at: Utc::now(),
        };
        assert!(Kind::of(&note).is_empty());
    }

    #[test]
    fn done_rows_are_kept_at_least_as_long_as_events_are_notified() {
        let days = |n: u64| Duration::from_secs(n * 86_400);
        let settings = |keep: Option<Duration>| Settings {
            templates: Templates::parse(include_str!("../../../../config/notifications.toml"))
                .unwrap(),
            public_base_url: None,
            unsubscribe_url: None,
            email: None,
            gateway: None,
            retry_base: Duration::from_secs(1),
            retry_cap: Duration::from_secs(1),
            attempts: 1,
            max_age: days(3),
            keep,
            opd_names: HashMap::new(),
        };
        let now = 1_000 * 86_400_000;
        assert_eq!(settings(None).prune_before_ms(now), None);
        assert_eq!(
            settings(Some(days(400))).prune_before_ms(now),
            Some(now - 400 * 86_400_000)
        );
        // Shorter than `max_age` would let a redone batch make a pruned row
        // (and send it) again.
        let floor = (days(3) + PRUNE_EVERY).as_millis() as i64;
        assert_eq!(
            settings(Some(days(1))).prune_before_ms(now),
            Some(now - floor)
        );
    }
}
