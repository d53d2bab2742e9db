//! One rule for what staff text leaves the city (docs/security.md, "What text
//! leaves the city"): a case filed through Open311 (so it has a tracking code,
//! an e-mail address and a filing client) and a case imported from the national
//! platform go through a dispatch with a note, a transfer with an internal-looking
//! reason, an INTERNAL note, a PUBLIC note, a response and a closing; a third,
//! national, is rejected with a note. Every outward path is then read: the
//! tracking-code view, the reporter's e-mails, Open311 with and without the
//! filing client's key, a webhook without personal data, the citizen's own
//! history and the follow-ups the national simulator received. None shows an
//! internal text; the public ones are where they belong.

use std::time::Duration;

use serde_json::{json, Value};

use crate::national::{bridge_env, eventually, national_cases, Simulator};
use crate::notify::{await_mails, reporter, smtp_answers, SMTP};
use crate::open311::{issue_key, Open311};
use crate::support::*;
use crate::webhooks::{receiver, register, Mode, WEBHOOK_ENV};

on_both_stores!(staff_texts_leave_the_city_by_one_rule);

/// What staff wrote for colleagues: none of it may appear outside.
const INTERNAL: [&str; 5] = [
    "RAHASIA-DISPOSISI kerabat kepala dinas",
    "RAHASIA-ALIH pelapor sering mengeluh",
    "RAHASIA-CATATAN jangan diprioritaskan",
    "RAHASIA-TOLAK pelapor iseng",
    "RAHASIA-VERIFIKASI",
];
const RESPONSE: &str = "Tim DLH menuju lokasi besok pagi";
const PUBLIC_NOTE: &str = "Petugas sudah menghubungi RT setempat";
const SUMMARY: &str = "Sampah sudah diangkut";

fn assert_no_internal(path: &str, text: &str) {
    for secret in INTERNAL {
        let word = secret.split(' ').next().unwrap();
        assert!(!text.contains(word), "{path} shows {word}: {text}");
    }
}

/// Dispatch with a note, transfer with a reason, an INTERNAL and a PUBLIC
/// note, a response and a closing.
async fn handle(env: &Env, id: &str) {
    env.agent
        .ok(MUTATE_VERIFY, input(id, json!({"note": INTERNAL[4]})))
        .await;
    env.agent
        .ok(
            MUTATE_ASSIGN,
            input(id, json!({"opd": "DPU", "note": INTERNAL[0]})),
        )
        .await;
    env.agent
        .ok(
            MUTATE_TRANSFER,
            input(
                id,
                json!({"toOpd": "DLH", "reasonCode": "BUKAN_WEWENANG", "note": INTERNAL[1]}),
            ),
        )
        .await;
    for (text, visibility) in [(INTERNAL[2], "INTERNAL"), (PUBLIC_NOTE, "PUBLIC")] {
        env.agent
            .ok(
                MUTATE_ADD_NOTE,
                input(id, json!({"text": text, "visibility": visibility})),
            )
            .await;
    }
    env.dlh_officer
        .ok(MUTATE_RESPOND, input(id, json!({"message": RESPONSE})))
        .await;
    env.dlh_officer
        .ok(
            MUTATE_CLOSE,
            input(id, json!({"resolution": "RESOLVED", "summary": SUMMARY})),
        )
        .await;
}

async fn file_by_open311(o: &Open311, key: &str, email: &str) -> (String, String) {
    let form = [
        ("api_key", key),
        ("service_code", "GARBAGE"),
        ("lat", "-5.1551"),
        ("long", "119.4239"),
        ("description", "Sampah menumpuk di depan pasar"),
        ("email", email),
        ("first_name", "Budi"),
    ];
    let filed = o.post("requests.json", &form, None).await;
    assert_eq!(filed.status, 200, "{}", filed.text);
    let filed = filed.json();
    (
        filed[0]["service_request_id"].as_str().unwrap().to_string(),
        filed[0]["token"].as_str().unwrap().to_string(),
    )
}

const TRACK: &str = "query($code: String!) { trackedComplaint(trackingCode: $code) { status responses { message } notes { text } closingSummary } }";

async fn staff_texts_leave_the_city_by_one_rule(backend: Backend) {
    smtp_answers();
    let sim = Simulator::start(&["--reports", "2", "--token", "rahasia-kota"]).await;
    let (hook, hook_url) = receiver(Mode::Healthy).await;
    let smtp = format!("smtp://{SMTP}");
    let mut vars: Vec<(&str, String)> = bridge_env(&sim.url);
    vars.push(("ADUAN_SMTP_URL", smtp));
    vars.push((
        "ADUAN_NOTIFY_FROM",
        "Aduan <aduan@makassarkota.go.id>".into(),
    ));
    vars.extend(WEBHOOK_ENV.iter().map(|(k, v)| (*k, v.to_string())));
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let env = Env::start_with(backend, &vars).await;
    register(&env.supervisor, &hook, &hook_url, json!({})).await;

    // A case filed by a client, with a reporter to e-mail and a tracking code.
    let o = Open311::new(&env);
    let (_, key) = issue_key(&env, "FixMyStreet").await;
    let (email, _) = reporter();
    let (local, code) = file_by_open311(&o, &key, &email).await;
    handle(&env, &local).await;
    // Two national reports: one handled the same way, one rejected with a note.
    eventually("2 national cases", Duration::from_secs(30), || async {
        national_cases(&env.store).await.len() == 2
    })
    .await;
    let national = national_cases(&env.store).await;
    let (handled, handled_ref) = national[0].clone();
    let (rejected, rejected_ref) = national[1].clone();
    handle(&env, &handled).await;
    env.agent
        .ok(
            MUTATE_REJECT,
            input(
                &rejected,
                json!({"reason": "OUT_OF_SCOPE", "note": INTERNAL[3]}),
            ),
        )
        .await;
    caught_up(&env.store, &env.supervisor).await;

    // The tracking-code view.
    let tracked = env.server.client("").ok(TRACK, json!({"code": code})).await;
    let text = tracked.to_string();
    assert_no_internal("trackedComplaint", &text);
    assert_eq!(
        tracked["trackedComplaint"]["responses"][0]["message"],
        RESPONSE
    );
    assert_eq!(tracked["trackedComplaint"]["notes"][0]["text"], PUBLIC_NOTE);
    assert_eq!(tracked["trackedComplaint"]["closingSummary"], SUMMARY);
    assert_eq!(
        tracked["trackedComplaint"]["notes"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // The reporter's e-mails: verified, dispatched twice, responded, closed,
    // the survey.
    let mails = await_mails(&email, 6).await;
    let bodies: String = mails.iter().map(|m| m.body.as_str()).collect();
    assert_no_internal("e-mail", &bodies);
    assert!(
        bodies.contains(RESPONSE) && bodies.contains(SUMMARY),
        "{bodies}"
    );

    // Open311: the filing client reads the public texts; the public none.
    let start = (chrono::Utc::now() - chrono::Duration::minutes(10)).format("%Y-%m-%dT%H:%M:%SZ");
    let end = (chrono::Utc::now() + chrono::Duration::minutes(5)).format("%Y-%m-%dT%H:%M:%SZ");
    let window = format!("start_date={start}&end_date={end}");
    let mine = o
        .get(&format!(
            "servicerequestupdates.json?{window}&api_key={key}"
        ))
        .await;
    assert_eq!(mine.status, 200, "{}", mine.text);
    assert_no_internal("Open311 updates (filing client)", &mine.text);
    assert!(
        mine.text.contains(RESPONSE) && mine.text.contains(SUMMARY),
        "{}",
        mine.text
    );
    let public = o.get(&format!("servicerequestupdates.json?{window}")).await;
    assert_no_internal("Open311 updates", &public.text);
    assert!(!public.text.contains(RESPONSE), "{}", public.text);
    assert!(public.text.contains("Transferred to"), "{}", public.text);
    let request = o.get(&format!("requests/{local}.json")).await;
    assert_eq!(request.status, 200, "{}", request.text);
    assert_no_internal("Open311 request", &request.text);

    // A webhook without personal data: every event, no internal text.
    let last = env.event_types(&handled).await.len();
    eventually(
        "the webhook got every event",
        Duration::from_secs(30),
        || async {
            hook.distinct().iter().any(|d| {
                d.envelope["subject"] == handled.as_str() && d.envelope["sequence"] == last as i64
            })
        },
    )
    .await;
    let delivered: Vec<Value> = hook.distinct().into_iter().map(|d| d.envelope).collect();
    let text = serde_json::to_string(&delivered).unwrap();
    assert_no_internal("webhook", &text);
    assert!(
        text.contains(RESPONSE) && text.contains(PUBLIC_NOTE),
        "{text}"
    );
    assert!(delivered
        .iter()
        .any(|e| e["data"]["event"]["to_opd"] == "DLH"));

    // The national platform's follow-ups.
    let expected = |tracking: &str, n: usize| {
        let tracking = tracking.to_string();
        let sim = &sim;
        async move {
            sim.state().await["followups"][&tracking]
                .as_array()
                .is_some_and(|l| l.len() == n)
        }
    };
    eventually(
        "4 follow-ups of the handled case",
        Duration::from_secs(30),
        || expected(&handled_ref, 4),
    )
    .await;
    eventually("the rejection's follow-up", Duration::from_secs(30), || {
        expected(&rejected_ref, 1)
    })
    .await;
    let state = sim.state().await;
    let messages: Vec<&str> = state["followups"][&handled_ref]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        [
            "Didisposisikan ke DPU",
            "Dialihkan ke DLH",
            RESPONSE,
            SUMMARY
        ]
    );
    assert_eq!(
        state["followups"][&rejected_ref][0]["message"],
        "Ditolak: OUT_OF_SCOPE"
    );
    assert_no_internal("national follow-ups", &state["followups"].to_string());

    // The history a reporter reads of their own case (signed in): the internal
    // texts are redacted, the events still there.
    let own = env
        .citizen
        .ok(
            SUBMIT,
            json!({"input": report_with(json!({"reporter": {"name": "Andi", "phone": "+62 811 4000 123"}}))}),
        )
        .await;
    let own = id_of(&own);
    handle(&env, &own).await;
    let history = env
        .citizen
        .ok(
            "query($id: ID!) { complaintHistory(id: $id) { type payload } }",
            json!({"id": own}),
        )
        .await;
    let text = history.to_string();
    assert_no_internal("the reporter's complaintHistory", &text);
    assert!(
        text.contains("Transferred") && text.contains(RESPONSE),
        "{text}"
    );
    // Staff still read everything.
    let staff = env.agent.ok(HISTORY, json!({"id": own})).await.to_string();
    assert!(
        staff.contains(INTERNAL[1]) && staff.contains(INTERNAL[2]),
        "{staff}"
    );

    sim.stop().await;
    env.finish().await;
}
