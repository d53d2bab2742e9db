//! A national platform in memory, speaking aduan's contract, with faults on
//! demand: `aduan dev national-platform` serves it for the bridge's tests and
//! for trying the bridge by hand. It keeps the contract's rules (bearer token,
//! one result per Idempotency-Key, 404 for an unknown report, 409 for a stage
//! out of order) and can answer 500, hang past the client's timeout (after
//! recording a follow-up: the answer is lost, not the effect), re-deliver
//! reports on later pages, and shuffle pages.
//!
//! For tests: `GET /dev/state` shows every report, every follow-up recorded
//! (after de-duplication by key) per tracking id, and how many repeated keys
//! and faults it has seen; `POST /dev/reports` adds reports; `POST /dev/faults`
//! changes the fault rates (`{"failRate": 1}`: an outage until set back).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::contract::{Followup, Page, Report, ReportLocation, ReportReporter, Stage};

#[derive(Debug, Clone)]
pub struct SimulatorConfig {
    /// The agency (city) seeded reports are disposed to.
    pub agency: String,
    /// Reports seeded at start.
    pub reports: usize,
    /// Share of requests answered 500.
    pub fail_rate: f64,
    /// Share of requests that hang for `hang` (a follow-up is recorded first).
    pub timeout_rate: f64,
    pub hang: Duration,
    /// Per delivered item, the chance an earlier report comes along again.
    pub duplicate_rate: f64,
    /// Shuffle each page.
    pub reorder: bool,
    pub seed: u64,
    /// The bearer token clients must send (none: any or no token).
    pub token: Option<String>,
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        SimulatorConfig {
            agency: "MAKASSAR".into(),
            reports: 0,
            fail_rate: 0.0,
            timeout_rate: 0.0,
            hang: Duration::from_secs(30),
            duplicate_rate: 0.0,
            reorder: false,
            seed: 1,
            token: None,
        }
    }
}

/// A small deterministic generator (xorshift64*): a seed replays the same faults.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// A follow-up as the platform recorded it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Received {
    pub key: String,
    pub stage: Stage,
    pub message: String,
    pub at: DateTime<Utc>,
    pub agency: String,
    pub received_at: DateTime<Utc>,
}

#[derive(Debug, Default, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct Counters {
    errors_injected: u64,
    timeouts_injected: u64,
    duplicates_delivered: u64,
    pages_served: u64,
    /// Follow-ups whose key had been recorded before (answered 200).
    duplicate_keys: u64,
    refused_out_of_order: u64,
    refused_unknown: u64,
}

struct Inner {
    reports: Vec<(String, Report)>,
    index: HashMap<String, usize>,
    followups: HashMap<String, Vec<Received>>,
    /// Idempotency key -> (tracking id, the answer given).
    keys: HashMap<String, (String, Value)>,
    counters: Counters,
    rng: Rng,
    /// The fault rates now (`POST /dev/faults` changes them: an outage on cue).
    fail_rate: f64,
    timeout_rate: f64,
}

struct Sim {
    config: SimulatorConfig,
    inner: Mutex<Inner>,
}

type Shared = Arc<Sim>;

/// What a request draws from the fault dice.
enum Fault {
    None,
    Error,
    Hang,
}

impl Sim {
    fn new(config: SimulatorConfig) -> Sim {
        let mut inner = Inner {
            reports: Vec::new(),
            index: HashMap::new(),
            followups: HashMap::new(),
            keys: HashMap::new(),
            counters: Counters::default(),
            rng: Rng::new(config.seed),
            fail_rate: config.fail_rate,
            timeout_rate: config.timeout_rate,
        };
        for i in 0..config.reports {
            let report = seeded_report(config.seed, i, &mut inner.rng);
            inner.add(&config.agency, report);
        }
        Sim {
            config,
            inner: Mutex::new(inner),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn fault(&self) -> Fault {
        let mut inner = self.lock();
        let (fail_rate, timeout_rate) = (inner.fail_rate, inner.timeout_rate);
        if inner.rng.chance(fail_rate) {
            inner.counters.errors_injected += 1;
            Fault::Error
        } else if inner.rng.chance(timeout_rate) {
            inner.counters.timeouts_injected += 1;
            Fault::Hang
        } else {
            Fault::None
        }
    }

    fn authorized(&self, headers: &HeaderMap) -> bool {
        let Some(token) = &self.config.token else {
            return true;
        };
        headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|t| t == token)
    }
}

impl Inner {
    /// Adds a report to the end of the feed. An edited report comes again
    /// there: the feed keeps the old version where it was delivered.
    fn add(&mut self, agency: &str, report: Report) {
        self.index
            .insert(report.tracking_id.clone(), self.reports.len());
        self.reports.push((agency.to_string(), report));
    }

    /// Each report's latest version, in feed order.
    fn latest(&self) -> Vec<&Report> {
        self.reports
            .iter()
            .enumerate()
            .filter(|(i, (_, r))| self.index.get(&r.tracking_id) == Some(i))
            .map(|(_, (_, r))| r)
            .collect()
    }

    /// The page after `after` for `agency`, with the configured re-deliveries
    /// and shuffling.
    fn page(&mut self, config: &SimulatorConfig, agency: &str, after: usize, limit: usize) -> Page {
        let mut items = Vec::new();
        let mut next = after;
        for (i, (a, report)) in self.reports.iter().enumerate().skip(after) {
            if items.len() == limit {
                break;
            }
            next = i + 1;
            if a == agency {
                items.push(report.clone());
            }
        }
        let fresh = items.len();
        for _ in 0..fresh {
            if after > 0 && self.rng.chance(config.duplicate_rate) {
                let (a, earlier) = &self.reports[self.rng.below(after)];
                if a == agency {
                    items.push(earlier.clone());
                    self.counters.duplicates_delivered += 1;
                }
            }
        }
        if config.reorder {
            for i in (1..items.len()).rev() {
                let j = self.rng.below(i + 1);
                items.swap(i, j);
            }
        }
        self.counters.pages_served += 1;
        Page {
            items,
            next: Some(next.to_string()),
        }
    }

    /// Records `followup` under `key`, or says why not.
    fn follow_up(
        &mut self,
        tracking_id: &str,
        key: &str,
        followup: Followup,
    ) -> (StatusCode, Value) {
        if let Some((earlier_id, answer)) = self.keys.get(key) {
            if earlier_id != tracking_id {
                return refusal(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Idempotency-Key used for another report",
                );
            }
            let answer = answer.clone();
            self.counters.duplicate_keys += 1;
            return (StatusCode::OK, answer);
        }
        if !self.index.contains_key(tracking_id) {
            self.counters.refused_unknown += 1;
            return refusal(StatusCode::NOT_FOUND, "unknown tracking id");
        }
        let received = self.followups.entry(tracking_id.to_string()).or_default();
        let last = received.last().map(|r| r.stage);
        if !followup.stage.may_follow(last) {
            self.counters.refused_out_of_order += 1;
            let last = last.map_or("none".to_string(), |s| s.to_string());
            return refusal(
                StatusCode::CONFLICT,
                &format!("{} may not follow {last}", followup.stage),
            );
        }
        received.push(Received {
            key: key.to_string(),
            stage: followup.stage,
            message: followup.message,
            at: followup.at,
            agency: followup.agency,
            received_at: Utc::now(),
        });
        let answer = json!({
            "trackingId": tracking_id,
            "sequence": received.len(),
            "stage": followup.stage,
        });
        self.keys
            .insert(key.to_string(), (tracking_id.to_string(), answer.clone()));
        (StatusCode::CREATED, answer)
    }
}

fn refusal(status: StatusCode, message: &str) -> (StatusCode, Value) {
    (status, json!({ "error": message }))
}

const TITLES: [(&str, &str); 6] = [
    ("Jalan berlubang", "Infrastruktur"),
    ("Sampah menumpuk di pinggir jalan", "Lingkungan Hidup"),
    ("Antrean puskesmas terlalu panjang", "Kesehatan"),
    ("Lampu lalu lintas mati", "Perhubungan"),
    ("KTP elektronik belum jadi", "Kependudukan"),
    ("Informasi layanan tidak jelas", "Lainnya"),
];

/// Report `i` of a seeded feed: the same seed gives the same reports.
fn seeded_report(seed: u64, i: usize, rng: &mut Rng) -> Report {
    let (title, category) = TITLES[rng.below(TITLES.len())];
    let created = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
        + chrono::Duration::minutes(i as i64 * 7);
    let anonymous = rng.chance(0.2);
    let reporter = (!anonymous).then(|| ReportReporter {
        name: Some(format!("Pelapor {i}")),
        phone: Some(format!(
            "+62 812 {:04} {:04}",
            rng.below(10_000),
            i % 10_000
        )),
        email: None,
    });
    Report {
        tracking_id: format!("LPR-{seed}-{i:06}"),
        title: format!("{title} ({i})"),
        body: format!("{title}. Laporan nomor {i} dari SP4N-LAPOR!."),
        category: category.to_string(),
        location: ReportLocation {
            lat: -5.14 - rng.below(1000) as f64 / 10_000.0,
            lon: 119.41 + rng.below(1000) as f64 / 10_000.0,
            address: Some(format!("Jl. Contoh No. {}", i % 200 + 1)),
        },
        reporter,
        anonymous,
        confidential: rng.chance(0.1),
        attachments: Vec::new(),
        created_at: created,
        disposed_at: Some(created + chrono::Duration::hours(1)),
    }
}

#[derive(Deserialize)]
struct ReportsQuery {
    agency: Option<String>,
    after: Option<String>,
    limit: Option<usize>,
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"error": "bearer token required"})),
    )
        .into_response()
}

fn injected() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(json!({"error": "injected failure"})),
    )
        .into_response()
}

async fn reports(
    State(sim): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<ReportsQuery>,
) -> Response {
    if !sim.authorized(&headers) {
        return unauthorized();
    }
    let fault = sim.fault();
    if matches!(fault, Fault::Error) {
        return injected();
    }
    let after = match q.after.as_deref().map(str::parse::<usize>) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": "bad cursor"})),
            )
                .into_response()
        }
    };
    let agency = q.agency.unwrap_or_else(|| sim.config.agency.clone());
    let page = sim.lock().page(
        &sim.config,
        &agency,
        after,
        q.limit.unwrap_or(100).clamp(1, 500),
    );
    if matches!(fault, Fault::Hang) {
        tokio::time::sleep(sim.config.hang).await;
    }
    Json(page).into_response()
}

async fn followups(
    State(sim): State<Shared>,
    Path(tracking_id): Path<String>,
    headers: HeaderMap,
    Json(followup): Json<Followup>,
) -> Response {
    if !sim.authorized(&headers) {
        return unauthorized();
    }
    let Some(key) = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty())
    else {
        let (status, body) = refusal(StatusCode::BAD_REQUEST, "Idempotency-Key required");
        return (status, Json(body)).into_response();
    };
    let fault = sim.fault();
    if matches!(fault, Fault::Error) {
        return injected();
    }
    let (status, body) = sim.lock().follow_up(&tracking_id, key, followup);
    if matches!(fault, Fault::Hang) {
        tokio::time::sleep(sim.config.hang).await;
    }
    (status, Json(body)).into_response()
}

#[derive(Deserialize)]
#[serde(untagged)]
enum NewReports {
    Many { items: Vec<Report> },
    One(Box<Report>),
}

#[derive(Deserialize)]
struct AgencyQuery {
    agency: Option<String>,
}

async fn add_reports(
    State(sim): State<Shared>,
    Query(q): Query<AgencyQuery>,
    Json(body): Json<NewReports>,
) -> Response {
    let items = match body {
        NewReports::Many { items } => items,
        NewReports::One(report) => vec![*report],
    };
    let agency = q.agency.unwrap_or_else(|| sim.config.agency.clone());
    let mut inner = sim.lock();
    let added = items.len();
    for item in items {
        inner.add(&agency, item);
    }
    (StatusCode::CREATED, Json(json!({"added": added}))).into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Faults {
    fail_rate: Option<f64>,
    timeout_rate: Option<f64>,
}

async fn set_faults(State(sim): State<Shared>, Json(faults): Json<Faults>) -> Json<Value> {
    let mut inner = sim.lock();
    if let Some(rate) = faults.fail_rate {
        inner.fail_rate = rate.clamp(0.0, 1.0);
    }
    if let Some(rate) = faults.timeout_rate {
        inner.timeout_rate = rate.clamp(0.0, 1.0);
    }
    Json(json!({"failRate": inner.fail_rate, "timeoutRate": inner.timeout_rate}))
}

async fn dev_state(State(sim): State<Shared>) -> Json<Value> {
    let inner = sim.lock();
    Json(json!({
        "agency": sim.config.agency,
        "reports": inner.latest(),
        "followups": inner.followups,
        "counters": inner.counters,
    }))
}

/// The simulator's routes.
pub fn router(config: SimulatorConfig) -> Router {
    Router::new()
        .route("/v1/reports", get(reports))
        .route("/v1/reports/{tracking_id}/followups", post(followups))
        .route("/dev/reports", post(add_reports))
        .route("/dev/state", get(dev_state))
        .route("/dev/faults", post(set_faults))
        .with_state(Arc::new(Sim::new(config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sim(config: SimulatorConfig) -> Inner {
        Sim::new(config).inner.into_inner().unwrap()
    }

    fn followup(stage: Stage) -> Followup {
        Followup {
            stage,
            message: "m".into(),
            at: Utc::now(),
            agency: "MAKASSAR".into(),
        }
    }

    #[test]
    fn a_key_is_recorded_once_and_answered_again_with_its_first_result() {
        let mut s = sim(SimulatorConfig {
            reports: 1,
            ..Default::default()
        });
        let id = s.reports[0].1.tracking_id.clone();
        let (first, body) = s.follow_up(&id, "c:3", followup(Stage::Disposed));
        assert_eq!(first, StatusCode::CREATED);
        let (again, body_again) = s.follow_up(&id, "c:3", followup(Stage::Disposed));
        assert_eq!((again, body_again), (StatusCode::OK, body));
        assert_eq!(s.followups[&id].len(), 1);
        assert_eq!(s.counters.duplicate_keys, 1);
    }

    #[test]
    fn unknown_reports_and_stages_out_of_order_are_refused() {
        let mut s = sim(SimulatorConfig {
            reports: 1,
            ..Default::default()
        });
        let id = s.reports[0].1.tracking_id.clone();
        assert_eq!(
            s.follow_up("LPR-NOPE", "k1", followup(Stage::Disposed)).0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            s.follow_up(&id, "k2", followup(Stage::Completed)).0,
            StatusCode::CONFLICT
        );
        assert_eq!(
            s.follow_up(&id, "k3", followup(Stage::Rejected)).0,
            StatusCode::CREATED
        );
        assert_eq!(
            s.follow_up(&id, "k4", followup(Stage::Disposed)).0,
            StatusCode::CONFLICT,
            "nothing follows REJECTED"
        );
        // A refused key is not remembered: the same key may succeed later.
        assert!(!s.keys.contains_key("k2"));
    }

    #[test]
    fn pages_cover_every_report_once_plus_re_deliveries_of_earlier_ones() {
        let config = SimulatorConfig {
            reports: 250,
            duplicate_rate: 0.5,
            reorder: true,
            ..Default::default()
        };
        let mut s = sim(config.clone());
        let (mut after, mut seen, mut delivered) = (0, Vec::new(), 0);
        loop {
            let page = s.page(&config, "MAKASSAR", after, 40);
            let next: usize = page.next.unwrap().parse().unwrap();
            if page.items.is_empty() {
                assert_eq!(next, after, "an empty page leaves the cursor");
                break;
            }
            for item in page.items {
                let i = s.index[&item.tracking_id];
                delivered += 1;
                if i >= after {
                    seen.push(i);
                } else {
                    assert!(i < after, "a duplicate is an earlier report");
                }
            }
            after = next;
        }
        seen.sort();
        assert_eq!(seen, (0..250).collect::<Vec<_>>());
        assert!(delivered > 250, "some reports came twice");
        assert_eq!(s.counters.duplicates_delivered as usize, delivered - 250);
        assert!(
            s.page(&config, "ELSEWHERE", 0, 40).items.is_empty(),
            "another agency's feed is its own"
        );
    }

    #[test]
    fn an_edited_report_comes_again_at_the_end_of_the_feed() {
        let config = SimulatorConfig {
            reports: 2,
            ..Default::default()
        };
        let mut s = sim(config.clone());
        let mut edited = s.reports[0].1.clone();
        edited.title = "Diubah".into();
        s.add("MAKASSAR", edited.clone());
        let page = s.page(&config, "MAKASSAR", 2, 10);
        assert_eq!(page.items, vec![edited.clone()]);
        let latest = s.latest();
        assert_eq!(latest.len(), 2);
        assert_eq!(*latest[1], edited);
    }

    #[test]
    fn the_same_seed_gives_the_same_reports() {
        let a = sim(SimulatorConfig {
            reports: 5,
            ..Default::default()
        });
        let b = sim(SimulatorConfig {
            reports: 5,
            ..Default::default()
        });
        assert_eq!(
            a.reports.iter().map(|r| &r.1).collect::<Vec<_>>(),
            b.reports.iter().map(|r| &r.1).collect::<Vec<_>>()
        );
    }
}
