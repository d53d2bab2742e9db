//! Notifications in the drill. The drill's reporters have e-mail addresses
//! under a tag of the run's own (the SMTP sink, scripts/ensure-smtp, keeps
//! every run's mail in one directory: only the tag's count) and numbers that
//! reach the message gateway this test serves where the cluster's workers post
//! (`ADUAN_NOTIFY_GATEWAY_URL`, set by scripts/ha-drill).
//!
//! A message is known by the outbox key it carries: `Message-ID:
//! <complaint.sequence.kind@domain>` in an e-mail, `Idempotency-Key:
//! complaint.sequence.kind.sms` at the gateway (docs/notifications.md,
//! "Guarantees"). A gap is a key the log calls for that never arrives; a
//! duplicate is a key that arrives with a second recipient or that the log does
//! not call for. The same key arriving again is the documented re-send after a
//! send whose outcome the database did not record (the receiver keeps one):
//! counted, and bounded.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;

use super::{Cluster, Command};
use crate::notify::{mail_dir, parse};

/// How long the notifications may take to arrive after the stream (a bound
/// for a stuck drill, not a speed requirement).
const PATIENCE: Duration = Duration::from_secs(60);

/// Re-sends allowed per channel: one message in flight per sender when the
/// database goes, for each of the two changes of leader, with room for the
/// follower moving to the other worker once each time.
const RESENDS_ALLOWED: usize = 4;

/// The run's reporters: one address per submission, one number per client.
#[derive(Clone)]
pub(super) struct Reporters {
    tag: String,
    numbers: u32,
}

impl Reporters {
    pub(super) fn new() -> Reporters {
        let n = uuid::Uuid::new_v4().as_u128();
        Reporters {
            tag: format!("ha{:x}", n >> 64),
            numbers: (n % 1_000_000) as u32,
        }
    }

    /// The e-mail address and the (local) number of submission `key`'s reporter.
    pub(super) fn contact(&self, key: &str, client: usize) -> (String, String) {
        assert!(client < 100, "two digits of the number name the client");
        (
            format!("{key}.{}@contoh.test", self.tag),
            format!("0812{:06}{client:02}", self.numbers),
        )
    }
}

/// A number as the gateway receives it.
pub(super) fn international(phone: &str) -> String {
    format!("+62{}", &phone[1..])
}

/// One message that arrived: its recipient and its outbox key.
#[derive(Debug, Clone)]
struct Arrival {
    to: String,
    key: String,
}

/// The gateway's side: every request it answered.
#[derive(Default)]
struct Gateway {
    authorization: String,
    texts: Mutex<Vec<Arrival>>,
}

async fn receive(
    State(g): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: axum::Json<Value>,
) -> StatusCode {
    if headers["authorization"] != g.authorization.as_str() {
        return StatusCode::UNAUTHORIZED;
    }
    let key = headers["idempotency-key"].to_str().unwrap();
    g.texts.lock().unwrap().push(Arrival {
        to: body["to"].as_str().unwrap_or_default().to_string(),
        key: key.trim_end_matches(".sms").to_string(),
    });
    StatusCode::ACCEPTED
}

/// Where the drill's notifications arrive.
pub(super) struct Inbox {
    tag: String,
    gateway: Arc<Gateway>,
    /// The SMTP sink's files read so far, and the run's mail among them.
    read: HashSet<PathBuf>,
    mails: Vec<Arrival>,
}

impl Inbox {
    /// Serves the gateway where the cluster's workers post; `None` when the
    /// cluster was started without notifications.
    pub(super) async fn start(cluster: &Cluster, reporters: &Reporters) -> Option<Inbox> {
        cluster.vars.get("ADUAN_SMTP_URL")?;
        crate::notify::smtp_answers();
        let url = cluster.var("ADUAN_NOTIFY_GATEWAY_URL");
        let addr = url
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap()
            .to_string();
        let gateway = Arc::new(Gateway {
            authorization: cluster.var("ADUAN_NOTIFY_GATEWAY_AUTHORIZATION").into(),
            texts: Mutex::default(),
        });
        let app = axum::Router::new()
            .route("/send", axum::routing::post(receive))
            .with_state(gateway.clone());
        let listener = tokio::net::TcpListener::bind(&addr)
            .await
            .unwrap_or_else(|e| panic!("the drill's message gateway at {addr}: {e}"));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Some(Inbox {
            tag: reporters.tag.clone(),
            gateway,
            read: HashSet::new(),
            mails: Vec::new(),
        })
    }

    /// Reads the sink's new files; keeps the run's mail.
    fn read_mail(&mut self) {
        let files: Vec<PathBuf> = std::fs::read_dir(mail_dir())
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        for path in files {
            if path.extension().is_none_or(|e| e != "eml") || self.read.contains(&path) {
                continue;
            }
            let Ok(raw) = std::fs::read_to_string(&path) else {
                continue;
            };
            self.read.insert(path);
            // The sink writes the envelope's recipients on the first line.
            if !raw.lines().next().unwrap_or_default().contains(&self.tag) {
                continue;
            }
            let mail = parse(&raw);
            let id = mail.header("Message-ID");
            let key = id.trim_start_matches('<').split('@').next().unwrap();
            self.mails.push(Arrival {
                to: mail.header("X-Envelope-To").to_string(),
                key: key.to_string(),
            });
        }
    }
}

/// The templates an event of this type sends (docs/notifications.md's table).
fn kinds(event_type: &str) -> &'static [&'static str] {
    match event_type {
        "Verified" => &["verified"],
        "Rejected" => &["rejected"],
        "Assigned" | "Transferred" => &["dispatched"],
        "Responded" => &["responded"],
        "InfoRequested" => &["info_requested"],
        "Closed" | "AutoClosed" => &["closed", "survey"],
        _ => &[],
    }
}

/// What the log calls for: outbox key -> (address, international number).
async fn called_for(cluster: &Cluster, done: &[Command]) -> HashMap<String, (String, String)> {
    let reporters: HashMap<&str, &(String, String)> = done
        .iter()
        .filter_map(|c| Some((c.result.as_deref().ok()?, c.reporter.as_ref()?)))
        .collect();
    let ids: Vec<String> = reporters.keys().map(|id| id.to_string()).collect();
    let mut db = cluster.db().await;
    let events: Vec<(String, i64, String)> = sqlx::query_as(
        "SELECT aggregate_id, sequence, event_type FROM events \
         WHERE aggregate_type = 'Complaint' AND aggregate_id = ANY($1)",
    )
    .bind(&ids)
    .fetch_all(&mut db)
    .await
    .unwrap();
    let mut expected = HashMap::new();
    for (id, sequence, event_type) in events {
        for kind in kinds(&event_type) {
            let to = reporters[id.as_str()].clone();
            expected.insert(format!("{id}.{sequence}.{kind}"), to);
        }
    }
    expected
}

/// How one channel's arrivals compare with what the log calls for: every key
/// arrived, to its reporter, and nothing else did. Returns the re-sends.
fn compare(channel: &str, arrived: &[Arrival], expected: &HashMap<String, String>) -> usize {
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for a in arrived {
        let first = *seen.entry(a.key.as_str()).or_insert(a.to.as_str());
        assert_eq!(first, a.to, "{channel}: {} went to two recipients", a.key);
        let want = expected.get(&a.key);
        assert!(
            want.is_some_and(|to| a.to.contains(to.as_str())),
            "{channel}: {a:?} arrived, the log calls for {want:?}"
        );
    }
    let missing: Vec<&String> = expected
        .keys()
        .filter(|k| !seen.contains_key(k.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "{channel}: {} of {} notifications never arrived within {PATIENCE:?}: {missing:?}",
        missing.len(),
        expected.len()
    );
    let resent = arrived.len() - seen.len();
    assert!(
        resent <= RESENDS_ALLOWED,
        "{channel}: {resent} notifications arrived again under their key"
    );
    resent
}

impl Inbox {
    /// Every notification the log calls for arrived once by e-mail and once by
    /// SMS, within `PATIENCE`, and the outbox has each as sent; returns the
    /// figures for the drill's line.
    pub(super) async fn check(&mut self, cluster: &Cluster, done: &[Command]) -> String {
        let expected = called_for(cluster, done).await;
        let by = |pick: fn(&(String, String)) -> &String| -> HashMap<String, String> {
            expected
                .iter()
                .map(|(k, to)| (k.clone(), pick(to).clone()))
                .collect()
        };
        let (emails, texts) = (by(|t| &t.0), by(|t| &t.1));
        let started = Instant::now();
        let texts_in = |g: &Gateway| g.texts.lock().unwrap().clone();
        let mut db = cluster.db().await;
        loop {
            self.read_mail();
            let keys = |a: &[Arrival]| a.iter().map(|a| a.key.clone()).collect::<HashSet<_>>();
            let all_in = |got: &HashSet<String>| expected.keys().all(|k| got.contains(k));
            // Once no row is pending nothing more is sent: a sent row's message
            // was accepted before it was marked.
            let (pending,): (i64,) =
                sqlx::query_as("SELECT count(*) FROM notification_outbox WHERE status = 'pending'")
                    .fetch_one(&mut db)
                    .await
                    .unwrap();
            let arrived = all_in(&keys(&self.mails)) && all_in(&keys(&texts_in(&self.gateway)));
            if (arrived && pending == 0) || started.elapsed() >= PATIENCE {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let settled = started.elapsed();
        self.read_mail();
        let mail_resent = compare("e-mail", &self.mails, &emails);
        let sms_resent = compare("SMS", &texts_in(&self.gateway), &texts);
        outbox_all_sent(cluster, &expected).await;
        let reporters = done.iter().filter(|c| c.reporter.is_some()).count();
        format!(
            "{} notifications the log calls for ({reporters} reporters with contact details), \
             each arrived once by e-mail and once by SMS, none missing or extra \
             ({mail_resent} e-mails and {sms_resent} texts re-sent under their key); \
             the outbox drained {settled:.1?} after the stream ended",
            expected.len()
        )
    }
}

/// The outbox has one row per notification and channel, each `sent`.
async fn outbox_all_sent(cluster: &Cluster, expected: &HashMap<String, (String, String)>) {
    let mut db = cluster.db().await;
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT complaint_id || '.' || sequence || '.' || kind || '.' || channel, status \
         FROM notification_outbox",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    let mut want: Vec<String> = expected
        .keys()
        .flat_map(|k| [format!("{k}.email"), format!("{k}.sms")])
        .collect();
    want.sort();
    let mut got: Vec<&str> = rows.iter().map(|(k, _)| k.as_str()).collect();
    got.sort();
    assert_eq!(got, want, "the outbox's rows against the log");
    let unsent: Vec<&(String, String)> = rows.iter().filter(|(_, s)| s != "sent").collect();
    assert!(unsent.is_empty(), "outbox rows not sent: {unsent:?}");
}

/// The comparison itself, without a cluster: what it calls a gap, a
/// duplicate and a re-send.
#[test]
fn arrivals_are_compared_by_key_and_recipient() {
    let arrival = |key: &str, to: &str| Arrival {
        to: to.into(),
        key: key.into(),
    };
    let expected: HashMap<String, String> = [("c1.1.verified", "a@x"), ("c2.1.verified", "b@x")]
        .map(|(k, to)| (k.to_string(), to.to_string()))
        .into();
    let both = [
        arrival("c1.1.verified", "a@x"),
        arrival("c2.1.verified", "b@x"),
    ];
    assert_eq!(compare("e-mail", &both, &expected), 0);
    let again = [both[0].clone(), both[1].clone(), both[0].clone()];
    assert_eq!(compare("e-mail", &again, &expected), 1, "a re-send");
    let refused = |arrived: Vec<Arrival>| {
        std::panic::catch_unwind(|| compare("e-mail", &arrived, &expected)).is_err()
    };
    assert!(refused(vec![both[0].clone()]), "a gap");
    let mut extra = both.to_vec();
    extra.push(arrival("c3.1.verified", "a@x"));
    assert!(refused(extra), "a message the log does not call for");
    let mut elsewhere = both.to_vec();
    elsewhere.push(arrival("c1.1.verified", "b@x"));
    assert!(refused(elsewhere), "one message to a second recipient");
    let mut one = expected.clone();
    one.remove("c2.1.verified");
    let resent = vec![both[0].clone(); RESENDS_ALLOWED + 2];
    assert!(
        std::panic::catch_unwind(|| compare("e-mail", &resent, &one)).is_err(),
        "re-sends past the bound"
    );
    assert_eq!(compare("e-mail", &resent[1..], &one), RESENDS_ALLOWED);
}
