//! Notifications to reporters, end to end: the real server e-mails a real SMTP
//! server process on loopback (scripts/ensure-smtp starts it; it writes each
//! message it receives to a directory) and posts SMS to a fake message gateway
//! in this test process. Each test's reporter has an address of its own, so
//! tests running side by side never read each other's mail.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use serde_json::{json, Value};

use aduan_testkit::{TestServer, TestStore};

use crate::support::*;

on_both_stores!(
    a_reporter_is_emailed_and_texted_at_each_step_of_the_worked_example,
    rejections_requests_for_information_and_anonymous_reporters,
    opting_out_stops_the_notifications_of_a_case,
    a_crash_between_the_event_and_the_send_loses_nothing_and_sends_nothing_twice,
    a_city_moved_to_another_database_does_not_notify_again,
    done_notifications_past_their_keeping_time_go_and_are_not_sent_again,
    one_click_in_the_mail_client_stops_the_notifications,
);

pub(crate) const SMTP: &str = "127.0.0.1:2525";
const BASE_URL: &str = "https://aduan.makassarkota.go.id";
/// How long a message may take to arrive before the test gives up (a bound
/// for a stuck test, not a speed requirement).
const PATIENCE: Duration = Duration::from_secs(60);

const REFUSED_NUMBER: &str = "+6281299999999";
const OUTBOX: &str = "query($id: ID!) { notificationOutbox(complaintId: $id) { sequence kind channel status attempts lastError doneAt } }";
const SUBMIT_CODE: &str = "mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) { id number trackingCode } }";
const OPT_OUT: &str = "mutation($input: OptOutOfNotificationsInput!) { optOutOfNotifications(input: $input) { id notificationsOptedOut } }";
const TRACK: &str =
    "query($code: String!) { trackedComplaint(trackingCode: $code) { notificationsOptedOut } }";

// ---- the SMTP server's mail -------------------------------------------------

pub(crate) fn mail_dir() -> PathBuf {
    match std::env::var("SMTP_DIR") {
        Ok(dir) => PathBuf::from(dir),
        Err(_) => std::env::temp_dir().join("aduan-smtp-mail"),
    }
}

pub(crate) fn smtp_answers() {
    if std::net::TcpStream::connect(SMTP).is_err() {
        panic!("no SMTP server answers at {SMTP}; start it with scripts/ensure-smtp");
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Mail {
    headers: HashMap<String, String>,
    pub(crate) body: String,
}

impl Mail {
    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map_or("", |s| s.as_str())
    }
}

/// A received message, as the sink wrote it.
pub(crate) fn parse(raw: &str) -> Mail {
    let raw = raw.replace("\r\n", "\n");
    let (head, body) = raw.split_once("\n\n").unwrap_or((&raw, ""));
    let mut headers = HashMap::new();
    let mut last: Option<String> = None;
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(name) = &last {
                let v: &mut String = headers.get_mut(name).unwrap();
                v.push(' ');
                v.push_str(line.trim());
            }
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            let name = name.trim().to_ascii_lowercase();
            headers.insert(name.clone(), value.trim().to_string());
            last = Some(name);
        }
    }
    let encoding = headers
        .get("content-transfer-encoding")
        .cloned()
        .unwrap_or_default();
    let body = match encoding.to_ascii_lowercase().as_str() {
        "quoted-printable" => quoted_printable(body),
        "base64" => String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(body.split_whitespace().collect::<String>())
                .unwrap(),
        )
        .unwrap(),
        _ => body.to_string(),
    };
    Mail { headers, body }
}

fn quoted_printable(text: &str) -> String {
    let joined = text.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() + 1 {
            if let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

/// Every message the SMTP server received for `to`.
pub(crate) fn mails_to(to: &str) -> Vec<Mail> {
    let mut files: Vec<_> = std::fs::read_dir(mail_dir())
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .map(|raw| parse(&raw))
        .filter(|m| m.header("X-Envelope-To").contains(to))
        .collect()
}

/// Waits until `to` has received `n` messages; returns them.
pub(crate) async fn await_mails(to: &str, n: usize) -> Vec<Mail> {
    let started = Instant::now();
    loop {
        let mails = mails_to(to);
        if mails.len() >= n {
            return mails;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "{to} received {} of {n} messages: {:?}",
            mails.len(),
            mails
                .iter()
                .map(|m| m.header("Subject"))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn subjects(mails: &[Mail]) -> Vec<String> {
    mails
        .iter()
        .map(|m| m.header("Subject").to_string())
        .collect()
}

/// No two messages share a `Message-ID`.
fn each_once(mails: &[Mail]) {
    let ids: HashSet<&str> = mails.iter().map(|m| m.header("Message-ID")).collect();
    assert_eq!(
        ids.len(),
        mails.len(),
        "a message came twice: {:?}",
        subjects(mails)
    );
}

// ---- the fake message gateway -------------------------------------------------

#[derive(Debug, Clone)]
struct Text {
    key: String,
    body: Value,
    answered: bool,
}

#[derive(Default)]
struct Gateway {
    /// Hold the next request without an answer (the server dies meanwhile).
    hold: AtomicBool,
    received: Mutex<Vec<Text>>,
}

impl Gateway {
    fn received(&self) -> Vec<Text> {
        self.received.lock().unwrap().clone()
    }

    fn answered_to(&self, to: &str) -> Vec<Text> {
        self.received()
            .into_iter()
            .filter(|t| t.answered && t.body["to"] == to)
            .collect()
    }
}

async fn receive(
    State(g): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: axum::Json<Value>,
) -> StatusCode {
    assert_eq!(headers["authorization"], "Bearer gateway-secret");
    let key = headers["idempotency-key"].to_str().unwrap().to_string();
    assert_eq!(body["idempotencyKey"], json!(key));
    // A number the provider refuses for good.
    if body["to"] == REFUSED_NUMBER {
        return StatusCode::UNPROCESSABLE_ENTITY;
    }
    let hold = g.hold.swap(false, Ordering::SeqCst);
    let index = {
        let mut received = g.received.lock().unwrap();
        received.push(Text {
            key,
            body: body.0,
            answered: false,
        });
        received.len() - 1
    };
    if hold {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    g.received.lock().unwrap()[index].answered = true;
    StatusCode::ACCEPTED
}

async fn gateway() -> (Arc<Gateway>, String) {
    let g = Arc::new(Gateway::default());
    let app = axum::Router::new()
        .route("/send", axum::routing::post(receive))
        .with_state(g.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/send", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (g, url)
}

async fn await_texts(g: &Gateway, to: &str, n: usize) -> Vec<Text> {
    let started = Instant::now();
    loop {
        let texts = g.answered_to(to);
        if texts.len() >= n {
            return texts;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "{to} received {} of {n} texts",
            texts.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// ---- the server ---------------------------------------------------------------

fn notify_env<'a>(smtp_url: &'a str, gateway_url: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("ADUAN_SMTP_URL", smtp_url),
        (
            "ADUAN_NOTIFY_FROM",
            "Aduan Kota Makassar <aduan@makassarkota.go.id>",
        ),
        ("ADUAN_PUBLIC_BASE_URL", BASE_URL),
        ("ADUAN_NOTIFY_GATEWAY_URL", gateway_url),
        (
            "ADUAN_NOTIFY_GATEWAY_AUTHORIZATION",
            "Bearer gateway-secret",
        ),
        ("ADUAN_NOTIFY_GATEWAY_CHANNEL", "sms"),
        ("ADUAN_NOTIFY_RETRY_BASE_MS", "200"),
        ("ADUAN_NOTIFY_RETRY_CAP_MS", "1000"),
    ]
}

/// A reporter with an address and a number no other test uses.
pub(crate) fn reporter() -> (String, String) {
    let n = uuid::Uuid::new_v4().as_u128();
    let email = format!("warga-{:x}@contoh.test", n);
    let phone = format!("0812{:08}", n % 100_000_000);
    (email, phone)
}

fn international(phone: &str) -> String {
    format!("+62{}", &phone[1..])
}

async fn a_reporter_is_emailed_and_texted_at_each_step_of_the_worked_example(backend: Backend) {
    smtp_answers();
    let (g, gateway_url) = gateway().await;
    let smtp = format!("smtp://{SMTP}");
    let env = Env::start_with(backend, &notify_env(&smtp, &gateway_url)).await;
    let (email, phone) = reporter();

    // README's worked example, the reporter giving an e-mail address too.
    let mut sent = report();
    sent["reporter"] = json!({"name": "Andi", "phone": phone, "email": email});
    let submitted = env.citizen.ok(SUBMIT_CODE, json!({"input": sent})).await;
    let id = submitted["submitComplaint"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let code = submitted["submitComplaint"]["trackingCode"]
        .as_str()
        .unwrap()
        .to_string();
    env.agent
        .ok(MUTATE_VERIFY, input(&id, json!({"priority": "HIGH"})))
        .await;
    env.agent
        .ok(
            MUTATE_ASSIGN,
            input(&id, json!({"opd": "DPU", "note": "Dekat sekolah"})),
        )
        .await;
    env.dpu_officer
        .ok(
            MUTATE_RESPOND,
            input(&id, json!({"message": "Tim kami menuju lokasi hari ini."})),
        )
        .await;
    env.dpu_officer
        .ok(
            MUTATE_FIELD,
            input(
                &id,
                json!({"notes": "Lubang ditambal", "handledAt": chrono::Utc::now().to_rfc3339()}),
            ),
        )
        .await;
    env.dpu_officer
        .ok(
            MUTATE_CLOSE,
            input(
                &id,
                json!({"resolution": "RESOLVED", "summary": "Jalan sudah diperbaiki"}),
            ),
        )
        .await;

    // Messages name the case by the number a reporter can quote to 112.
    let number = submitted["submitComplaint"]["number"].as_str().unwrap();
    assert!(number.starts_with("MKS-20"), "{number}");
    let mails = await_mails(&email, 5).await;
    let subjects = subjects(&mails);
    assert_eq!(
        subjects,
        [
            format!("Aduan {number} telah diverifikasi"),
            format!("Aduan {number} diteruskan ke Dinas Pekerjaan Umum"),
            format!("Tanggapan atas aduan {number}"),
            format!("Aduan {number} telah selesai"),
            format!("Bagaimana layanan kami? Survei kepuasan aduan {number}"),
        ]
        .map(|s| s.to_string()),
        "{subjects:?}"
    );
    each_once(&mails);
    let link = format!("{BASE_URL}/lacak/{code}");
    for m in &mails {
        assert!(m.body.contains(&link), "the tracking link: {}", m.body);
        assert!(m.header("From").contains("aduan@makassarkota.go.id"));
        assert!(m.header("To").contains(&email));
        assert!(
            m.header("Message-ID").contains(&id),
            "a stable id per message"
        );
    }
    assert!(mails[2].body.contains("Tim kami menuju lokasi hari ini."));
    assert!(
        mails[3].body.contains("selesai ditangani")
            && mails[3].body.contains("Jalan sudah diperbaiki")
    );

    let texts = await_texts(&g, &international(&phone), 5).await;
    let keys: Vec<&str> = texts.iter().map(|t| t.key.as_str()).collect();
    let kinds = ["verified", "dispatched", "responded", "closed", "survey"];
    assert_eq!(keys.len(), 5, "{keys:?}");
    for (key, kind) in keys.iter().zip(kinds) {
        assert!(
            key.starts_with(&id) && key.ends_with(&format!(".{kind}.sms")),
            "{key}"
        );
    }
    for t in &texts {
        assert_eq!(t.body["channel"], "sms");
        assert!(t.body["text"].as_str().unwrap().contains(&link));
    }
    // The survey answered, nothing more is sent; the counters say what went.
    let metrics = env.server.get("/metrics").await.text().await.unwrap();
    // (Every channel and outcome shows from the start: at 0 until it happens.)
    let sent = metrics
        .lines()
        .find(|l| l.starts_with("aduan_notifications_total{channel=\"email\",outcome=\"sent\"}"))
        .unwrap_or_else(|| panic!("{metrics}"));
    assert!(!sent.ends_with(" 0"), "{sent}");
    env.finish().await;
}

async fn rejections_requests_for_information_and_anonymous_reporters(backend: Backend) {
    smtp_answers();
    let (g, gateway_url) = gateway().await;
    let smtp = format!("smtp://{SMTP}");
    let env = Env::start_with(backend, &notify_env(&smtp, &gateway_url)).await;
    let (email, phone) = reporter();
    let (anonymous_email, anonymous_phone) = reporter();
    let public = env.server.client("");

    // An anonymous report, handled first: never a message.
    let mut hidden = report();
    hidden["anonymous"] = json!(true);
    hidden["reporter"] = json!({"name": "X", "phone": anonymous_phone, "email": anonymous_email});
    let hidden = public.ok(SUBMIT_CODE, json!({"input": hidden})).await["submitComplaint"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    env.agent.ok(MUTATE_VERIFY, input(&hidden, json!({}))).await;
    env.agent
        .ok(MUTATE_ASSIGN, input(&hidden, json!({"opd": "DPU"})))
        .await;

    // A report by phone at the Command Center that is rejected.
    let mut rejected = report();
    rejected["reporter"] = json!({"name": "Budi", "phone": phone, "email": email});
    let rejected = env.agent.ok(SUBMIT_CODE, json!({"input": rejected})).await["submitComplaint"]
        ["id"]
        .as_str()
        .unwrap()
        .to_string();
    env.agent
        .ok(
            MUTATE_REJECT,
            input(&rejected, json!({"reason": "OUT_OF_SCOPE"})),
        )
        .await;
    let mails = await_mails(&email, 1).await;
    assert_eq!(
        subjects(&mails),
        [format!(
            "Aduan {} tidak dapat ditindaklanjuti",
            number_of(&env.agent, &rejected).await
        )]
    );
    assert!(
        mails[0].body.contains("di luar kewenangan"),
        "{}",
        mails[0].body
    );

    // Another of theirs, on which the OPD asks a question.
    let mut asked = report();
    asked["reporter"] = json!({"name": "Budi", "phone": phone, "email": email});
    let asked = env.agent.ok(SUBMIT_CODE, json!({"input": asked})).await["submitComplaint"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    env.agent.ok(MUTATE_VERIFY, input(&asked, json!({}))).await;
    env.agent
        .ok(MUTATE_ASSIGN, input(&asked, json!({"opd": "DPU"})))
        .await;
    env.dpu_officer
        .ok(
            MUTATE_REQUEST_INFO,
            input(&asked, json!({"question": "Di sisi jalan yang mana?"})),
        )
        .await;
    let mails = await_mails(&email, 4).await;
    let last = mails.last().unwrap();
    assert_eq!(
        last.header("Subject"),
        format!(
            "Aduan {}: mohon informasi tambahan",
            number_of(&env.agent, &asked).await
        )
    );
    assert!(last.body.contains("Di sisi jalan yang mana?"));
    each_once(&mails);
    await_texts(&g, &international(&phone), 4).await;

    // Everything about the anonymous report was handled before these: nothing went.
    assert!(mails_to(&anonymous_email).is_empty());
    assert!(g
        .received()
        .iter()
        .all(|t| t.body["to"] != international(&anonymous_phone)));
    // Supervisors see why: skipped, one row per event, kind and channel.
    let rows = env.supervisor.ok(OUTBOX, json!({"id": hidden})).await["notificationOutbox"].clone();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 4, "{rows:?}");
    for r in rows {
        assert_eq!(r["status"], "SKIPPED", "{r}");
        assert_eq!(r["lastError"], "anonymous reporter", "{r}");
    }

    // A number the gateway refuses for good: failed at once, the e-mail still sent.
    let (refused_email, _) = reporter();
    let mut refused = report();
    refused["reporter"] = json!({"name": "F", "phone": "0812-9999-9999", "email": refused_email});
    let refused = env.agent.ok(SUBMIT_CODE, json!({"input": refused})).await["submitComplaint"]
        ["id"]
        .as_str()
        .unwrap()
        .to_string();
    env.agent
        .ok(MUTATE_VERIFY, input(&refused, json!({})))
        .await;
    await_mails(&refused_email, 1).await;
    let started = Instant::now();
    let failed = loop {
        let rows =
            env.supervisor.ok(OUTBOX, json!({"id": refused})).await["notificationOutbox"].clone();
        if let Some(sms) = rows
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["channel"] == "sms" && r["status"] != "PENDING")
        {
            break sms.clone();
        }
        assert!(started.elapsed() < PATIENCE, "{rows}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(failed["status"], "FAILED", "{failed}");
    assert_eq!(failed["attempts"], 1);
    assert!(
        failed["lastError"].as_str().unwrap().contains("422"),
        "{failed}"
    );
    let failures = env
        .supervisor
        .ok(
            "{ notificationOutbox(status: FAILED) { complaintId } }",
            json!({}),
        )
        .await;
    assert_eq!(
        failures["notificationOutbox"][0]["complaintId"],
        json!(refused)
    );
    let refused_by = env.agent.query(OUTBOX, json!({"id": refused})).await;
    assert_eq!(error_code(&refused_by), Some("FORBIDDEN"));
    env.finish().await;
}

async fn opting_out_stops_the_notifications_of_a_case(backend: Backend) {
    smtp_answers();
    let (_g, gateway_url) = gateway().await;
    let smtp = format!("smtp://{SMTP}");
    let env = Env::start_with(backend, &notify_env(&smtp, &gateway_url)).await;
    let (email, phone) = reporter();
    let public = env.server.client("");

    let mut sent = report();
    sent["reporter"] = json!({"name": "Citra", "phone": phone, "email": email});
    let opted =
        public.ok(SUBMIT_CODE, json!({"input": sent.clone()})).await["submitComplaint"].clone();
    let (opted, code) = (
        opted["id"].as_str().unwrap().to_string(),
        opted["trackingCode"].as_str().unwrap().to_string(),
    );
    let other = public.ok(SUBMIT_CODE, json!({"input": sent})).await["submitComplaint"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    env.agent.ok(MUTATE_VERIFY, input(&opted, json!({}))).await;
    await_mails(&email, 1).await;

    // The holder of the code stops them; a second time is refused.
    let done = public
        .ok(OPT_OUT, input(&opted, json!({"trackingCode": code})))
        .await;
    assert_eq!(done["optOutOfNotifications"]["notificationsOptedOut"], true);
    let again = public
        .query(OPT_OUT, input(&opted, json!({"trackingCode": code})))
        .await;
    assert_eq!(error_code(&again), Some("INVALID_TRANSITION"), "{again}");
    let forged = public
        .query(OPT_OUT, input(&other, json!({"trackingCode": code})))
        .await;
    assert!(
        error_code(&forged).is_some(),
        "another case's code: {forged}"
    );
    let track = public.ok(TRACK, json!({"code": code})).await;
    assert_eq!(track["trackedComplaint"]["notificationsOptedOut"], true);

    // The case goes on; its reporter hears no more of it, but still of the other case.
    env.agent
        .ok(MUTATE_ASSIGN, input(&opted, json!({"opd": "DPU"})))
        .await;
    env.agent.ok(MUTATE_VERIFY, input(&other, json!({}))).await;
    let mails = await_mails(&email, 2).await;
    assert_eq!(
        subjects(&mails),
        [
            format!(
                "Aduan {} telah diverifikasi",
                number_of(&env.agent, &opted).await
            ),
            format!(
                "Aduan {} telah diverifikasi",
                number_of(&env.agent, &other).await
            ),
        ]
    );
    let history = env.event_types(&opted).await;
    assert!(history.contains(&"NotificationsOptedOut".to_string()));
    env.finish().await;
}

async fn a_crash_between_the_event_and_the_send_loses_nothing_and_sends_nothing_twice(
    backend: Backend,
) {
    smtp_answers();
    let (g, gateway_url) = gateway().await;
    let store = TestStore::create(backend).await;
    let (email, phone) = reporter();

    // First life: the SMTP server is unreachable and the gateway holds the
    // first text without answering; the server dies meanwhile.
    let dead_smtp = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("smtp://{}", l.local_addr().unwrap())
    };
    let mut env = notify_env(&dead_smtp, &gateway_url);
    env.push(("ADUAN_NOTIFY_TIMEOUT_MS", "600000"));
    g.hold.store(true, Ordering::SeqCst);
    let server = TestServer::start(BIN, &store.url, &env).await;
    let citizen = server.client(&server.token("CITIZEN", None, "warga-crash").await);
    let agent = server.client(&server.token("AGENT", None, "agent-1").await);
    let mut sent = report();
    sent["reporter"] = json!({"name": "Dewi", "phone": phone, "email": email});
    let id = citizen.ok(SUBMIT_CODE, json!({"input": sent})).await["submitComplaint"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    agent.ok(MUTATE_VERIFY, input(&id, json!({}))).await;
    agent
        .ok(MUTATE_ASSIGN, input(&id, json!({"opd": "DPU"})))
        .await;
    let started = Instant::now();
    while g.received().is_empty() {
        assert!(started.elapsed() < PATIENCE, "the gateway got no request");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.kill().await;
    assert!(
        mails_to(&email).is_empty(),
        "nothing was e-mailed before the crash"
    );

    // Second life: SMTP is back, the gateway answers.
    let smtp = format!("smtp://{SMTP}");
    let server = TestServer::start(BIN, &store.url, &notify_env(&smtp, &gateway_url)).await;
    let mails = await_mails(&email, 2).await;
    let agent = server.client(&server.token("AGENT", None, "agent-1").await);
    let number = number_of(&agent, &id).await;
    assert_eq!(
        subjects(&mails),
        [
            format!("Aduan {number} telah diverifikasi"),
            format!("Aduan {number} diteruskan ke Dinas Pekerjaan Umum"),
        ]
    );
    each_once(&mails);
    let to = international(&phone);
    let texts = await_texts(&g, &to, 2).await;
    let keys: Vec<&str> = texts.iter().map(|t| t.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            format!("{id}.2.verified.sms"),
            format!("{id}.3.dispatched.sms")
        ],
        "each text answered once"
    );
    // The held text was asked for again under the same key, with the same text.
    let all = g.received();
    let held: Vec<&Text> = all.iter().filter(|t| t.key == keys[0]).collect();
    assert_eq!(held.len(), 2, "held once, sent again once");
    assert_eq!(held[0].body, held[1].body);

    // A third life adds nothing.
    stop_cleanly(server).await;
    let server = TestServer::start(BIN, &store.url, &notify_env(&smtp, &gateway_url)).await;
    let agent = server.client(&server.token("AGENT", None, "agent-1").await);
    let mut sentinel = report();
    let (sentinel_email, _) = reporter();
    sentinel["reporter"] = json!({"name": "E", "email": sentinel_email});
    let sentinel = agent.ok(SUBMIT_CODE, json!({"input": sentinel})).await["submitComplaint"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    agent.ok(MUTATE_VERIFY, input(&sentinel, json!({}))).await;
    await_mails(&sentinel_email, 1).await;
    assert_eq!(mails_to(&email).len(), 2);
    assert_eq!(g.answered_to(&to).len(), 2);
    stop_cleanly(server).await;
    store.drop_store().await;
}

/// The case number messages name a case by.
async fn number_of(client: &aduan_testkit::GraphqlClient, id: &str) -> String {
    let case = client
        .ok(
            "query($id: ID!) { complaint(id: $id) { number } }",
            json!({"id": id}),
        )
        .await;
    case["complaint"]["number"].as_str().unwrap().to_string()
}

async fn a_city_moved_to_another_database_does_not_notify_again(backend: Backend) {
    smtp_answers();
    let (_g, gateway_url) = gateway().await;
    let smtp = format!("smtp://{SMTP}");
    let env = Env::start_with(backend, &notify_env(&smtp, &gateway_url)).await;
    let (email, phone) = reporter();
    let id = verified_and_mailed(
        &env,
        json!({"name": "Gita", "phone": phone, "email": email}),
    )
    .await;
    let file = std::env::temp_dir().join(format!(
        "aduan-notify-export-{}.jsonl",
        uuid::Uuid::new_v4().simple()
    ));
    let path = file.to_str().unwrap();
    stop_cleanly(env.server).await;
    run_cli(&["export", "--output", path], &env.store.url).await;

    // The same city on a new database: its reporters are not told again. On
    // PostgreSQL a transaction open elsewhere on the server while the import
    // commits holds the log's head back; the import waits it out.
    let moved = TestStore::create(backend).await;
    let elsewhere = match backend {
        Backend::Postgres => {
            Some(open_transaction_for(&env.store.url, Duration::from_secs(2)).await)
        }
        Backend::Sqlite => None,
    };
    run_cli(&["import", "--input", path], &moved.url).await;
    if let Some(elsewhere) = elsewhere {
        elsewhere.await.unwrap();
    }
    let server = TestServer::start(BIN, &moved.url, &notify_env(&smtp, &gateway_url)).await;
    let agent = server.client(&server.token("AGENT", None, "agent-1").await);
    agent
        .ok(MUTATE_ASSIGN, input(&id, json!({"opd": "DPU"})))
        .await;
    let mails = await_mails(&email, 2).await;
    let number = number_of(&agent, &id).await;
    assert_eq!(
        subjects(&mails),
        [
            format!("Aduan {number} telah diverifikasi"),
            format!("Aduan {number} diteruskan ke Dinas Pekerjaan Umum"),
        ]
    );
    stop_cleanly(server).await;
    moved.drop_store().await;
    env.store.drop_store().await;
    let _ = std::fs::remove_file(file);
}

/// A transaction holding an id, open on `url`'s server for `open`.
async fn open_transaction_for(url: &str, open: Duration) -> tokio::task::JoinHandle<()> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    for statement in ["BEGIN", "SELECT pg_current_xact_id()"] {
        sqlx::query(statement).execute(&mut conn).await.unwrap();
    }
    tokio::spawn(async move {
        tokio::time::sleep(open).await;
        sqlx::query("ROLLBACK").execute(&mut conn).await.unwrap();
    })
}

/// A case the agent takes for `reporter` and verifies, once its reporter has
/// the e-mail saying so.
async fn verified_and_mailed(env: &Env, reporter: Value) -> String {
    let email = reporter["email"].as_str().unwrap().to_string();
    let mut sent = report();
    sent["reporter"] = reporter;
    let id = env.agent.ok(SUBMIT_CODE, json!({"input": sent})).await["submitComplaint"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    env.agent.ok(MUTATE_VERIFY, input(&id, json!({}))).await;
    await_mails(&email, 1).await;
    id
}

/// Status of each outbox row of a complaint, by kind and channel.
async fn outbox_rows(store: &TestStore, id: &str) -> Vec<String> {
    let count = |status: &str| {
        format!(
            "SELECT count(*) FROM notification_outbox \
             WHERE complaint_id = '{id}' AND status = '{status}'"
        )
    };
    let mut rows = Vec::new();
    for status in ["pending", "sent", "skipped", "failed"] {
        for _ in 0..store.scalar(&count(status)).await {
            rows.push(status.to_string());
        }
    }
    rows
}

async fn done_notifications_past_their_keeping_time_go_and_are_not_sent_again(backend: Backend) {
    smtp_answers();
    let (_g, gateway_url) = gateway().await;
    let smtp = format!("smtp://{SMTP}");
    let mut settings = notify_env(&smtp, &gateway_url);
    settings.push(("ADUAN_NOTIFY_KEEP_DAYS", "30"));
    let env = Env::start_with(backend, &settings).await;
    let (email, _) = reporter();
    // A number the gateway refuses for good: its row fails.
    let reporter = json!({"name": "Hasan", "phone": REFUSED_NUMBER, "email": email});
    let id = verified_and_mailed(&env, reporter).await;
    let started = Instant::now();
    while outbox_rows(&env.store, &id).await != ["sent", "failed"] {
        assert!(
            started.elapsed() < PATIENCE,
            "{:?}",
            outbox_rows(&env.store, &id).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let store = env.store;
    stop_cleanly(env.server).await;

    // Both rows were done 31 days ago: the sent one goes at the next start,
    // the failed one (work not done) stays, and nothing is sent again.
    let month = 31 * 86_400_000i64;
    store
        .exec(&format!(
            "UPDATE notification_outbox SET done_ms = done_ms - {month}, \
             created_ms = created_ms - {month} WHERE complaint_id = '{id}'"
        ))
        .await
        .unwrap();
    let server = TestServer::start(BIN, &store.url, &settings).await;
    let started = Instant::now();
    while outbox_rows(&store, &id).await != ["failed"] {
        assert!(
            started.elapsed() < PATIENCE,
            "{:?}",
            outbox_rows(&store, &id).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The server logs the prune after its delete commits: the row can be gone
    // a moment before the line is read from the server's output.
    let started = Instant::now();
    while !server
        .log()
        .contains("pruned notifications past their keeping time")
    {
        assert!(started.elapsed() < PATIENCE, "{}", server.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        mails_to(&email).len(),
        1,
        "the pruned row's mail is not sent again"
    );
    stop_cleanly(server).await;
    store.drop_store().await;
}

async fn one_click_in_the_mail_client_stops_the_notifications(backend: Backend) {
    smtp_answers();
    let (_g, gateway_url) = gateway().await;
    let smtp = format!("smtp://{SMTP}");
    let mut settings = notify_env(&smtp, &gateway_url);
    let public_url = format!("{BASE_URL}/notifications/opt-out");
    settings.push(("ADUAN_NOTIFY_UNSUBSCRIBE_URL", &public_url));
    let env = Env::start_with(backend, &settings).await;
    let (email, phone) = reporter();
    let mut sent = report();
    sent["reporter"] = json!({"name": "Indah", "phone": phone, "email": email});
    let public = env.server.client("");
    let id = public.ok(SUBMIT_CODE, json!({"input": sent})).await["submitComplaint"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    env.agent.ok(MUTATE_VERIFY, input(&id, json!({}))).await;
    let mail = await_mails(&email, 1).await.remove(0);
    assert_eq!(
        mail.header("List-Unsubscribe-Post"),
        "List-Unsubscribe=One-Click"
    );
    let link = mail.header("List-Unsubscribe").replace(' ', "");
    let query = link
        .strip_prefix(&format!("<{public_url}?"))
        .and_then(|rest| rest.strip_suffix('>'))
        .unwrap_or_else(|| panic!("List-Unsubscribe: {link}"));
    assert!(
        query.starts_with(&format!("complaint={id}&code=")),
        "{query}"
    );
    // The city's proxy passes the public URL to this server.
    let url = format!("{}/notifications/opt-out?{query}", env.server.base_url);
    let http = reqwest::Client::new();

    // Opening the link (a mail scanner does) only shows the button.
    let page = http.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("<form method=\"post\""));
    assert!(!env
        .event_types(&id)
        .await
        .contains(&"NotificationsOptedOut".to_string()));

    // A forged code does nothing.
    let forged = url.replace("code=", "code=x");
    let refused = http
        .post(&forged)
        .form(&[("List-Unsubscribe", "One-Click")])
        .send()
        .await;
    assert_eq!(refused.unwrap().status(), 404);

    // The mail client's one-click POST opts out; a second is answered the same.
    for _ in 0..2 {
        let done = http
            .post(&url)
            .form(&[("List-Unsubscribe", "One-Click")])
            .send()
            .await
            .unwrap();
        assert_eq!(done.status(), 200);
        assert!(done.text().await.unwrap().contains("tidak akan menerima"));
    }
    let history = env.event_types(&id).await;
    assert_eq!(
        history
            .iter()
            .filter(|t| *t == "NotificationsOptedOut")
            .count(),
        1,
        "{history:?}"
    );

    // The case goes on without another message to its reporter.
    env.agent
        .ok(MUTATE_ASSIGN, input(&id, json!({"opd": "DPU"})))
        .await;
    let (other_email, _) = reporter();
    verified_and_mailed(&env, json!({"name": "Joko", "email": other_email})).await;
    assert_eq!(mails_to(&email).len(), 1);
    env.finish().await;
}
