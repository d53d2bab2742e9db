//! Incidents: reports linked to a primary case follow it. Every linked
//! reporter hears of the primary's replies and closing (SMTP sink) and sees
//! them on the tracking page; closing the primary closes each duplicate once
//! through the command bus (also across a SIGKILL); reopening the primary
//! reopens the duplicates' view; Open311 answers a duplicate's status from its
//! primary; the OPD's figures count the incident once.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::notify::{await_mails, mails_to, reporter, smtp_answers, SMTP};
use crate::open311::Open311;
use crate::support::*;

on_both_stores!(
    every_linked_reporter_follows_the_primary_to_its_closing_and_back,
    closing_a_primary_closes_each_duplicate_once_across_a_kill,
);

const SUBMIT_CODE: &str = "mutation($input: SubmitComplaintInput!) { \
    submitComplaint(input: $input) { id trackingCode position } }";
const LINK: &str = "mutation($input: LinkDuplicateInput!) { \
    linkDuplicate(input: $input) { id status duplicateOf position } }";
const OPT_OUT: &str = "mutation($input: OptOutOfNotificationsInput!) { \
    optOutOfNotifications(input: $input) { id } }";
const TRACK: &str = "query($code: String!) { trackedComplaint(trackingCode: $code) { \
    id status followsIncident closedAt resolution closingSummary responses { message } } }";
const INCIDENT: &str = "query($id: ID!, $min: Int) { complaint(id: $id, minPosition: $min) { \
    id duplicates { id status reportCount } } }";
const LIST: &str = "query($min: Int) { complaints(first: 100, minPosition: $min) { \
    edges { node { id status reportCount duplicateOf } } } }";
const DASHBOARD: &str = "query($from: DateTime!, $to: DateTime!, $min: Int) { \
    dashboard(from: $from, to: $to, minPosition: $min) { open backlogByAge { open } } }";
const STATS: &str = "query($from: DateTime!, $to: DateTime!, $min: Int) { \
    cityStats(from: $from, to: $to, groupBy: CATEGORY, minPosition: $min) { key submitted open closed } }";

/// A bound for a stuck test, not a speed requirement.
const PATIENCE: Duration = Duration::from_secs(60);

fn window(min: &Value) -> Value {
    let now = chrono::Utc::now();
    json!({"from": now - chrono::Duration::days(1), "to": now + chrono::Duration::days(1), "min": min})
}

/// A citizen's report with this e-mail address; its id, tracking code and
/// position.
async fn reported(env: &Env, email: &str) -> (String, String, Value) {
    let mut sent = report();
    sent["reporter"] = json!({"name": "Warga", "email": email});
    let data = env.citizen.ok(SUBMIT_CODE, json!({"input": sent})).await;
    let s = &data["submitComplaint"];
    (
        s["id"].as_str().unwrap().to_string(),
        s["trackingCode"].as_str().unwrap().to_string(),
        s["position"].clone(),
    )
}

/// Links `id` to `primary` as the Command Center; the position of the link.
async fn link(env: &Env, id: &str, primary: &str) -> Value {
    let data = env
        .agent
        .ok(
            LINK,
            json!({"input": {"complaintId": id, "primaryId": primary, "reason": "Lubang yang sama"}}),
        )
        .await;
    assert_eq!(data["linkDuplicate"]["status"], "DUPLICATE", "{data}");
    assert_eq!(data["linkDuplicate"]["duplicateOf"], json!(primary));
    data["linkDuplicate"]["position"].clone()
}

async fn tracked(env: &Env, code: &str) -> Value {
    let public = env.server.client("");
    public.ok(TRACK, json!({"code": code})).await["trackedComplaint"].clone()
}

/// How many `Closed` events the case has.
async fn closings(env: &Env, id: &str) -> usize {
    env.event_types(id)
        .await
        .iter()
        .filter(|t| *t == "Closed")
        .count()
}

/// Waits until every case in `ids` has been closed at least once.
async fn await_closed(env: &Env, ids: &[String]) {
    let started = Instant::now();
    for id in ids {
        while closings(env, id).await == 0 {
            assert!(started.elapsed() < PATIENCE, "{id} was never closed");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Waits until the tracking page of `code` shows `status`.
async fn await_tracked(env: &Env, code: &str, status: &str) -> Value {
    let started = Instant::now();
    loop {
        let view = tracked(env, code).await;
        if view["status"] == status {
            return view;
        }
        assert!(started.elapsed() < PATIENCE, "never {status}: {view}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until `id`'s notification rows are done and of these kinds; the rows.
async fn await_outbox(env: &Env, id: &str, kinds: &[&str]) -> Vec<Value> {
    let outbox = "query($id: ID!) { notificationOutbox(complaintId: $id) { kind status } }";
    let started = Instant::now();
    loop {
        let data = env.supervisor.ok(outbox, json!({"id": id})).await;
        let rows = data["notificationOutbox"].as_array().unwrap().clone();
        let mut done: Vec<&str> = rows
            .iter()
            .filter(|r| r["status"] != "PENDING")
            .map(|r| r["kind"].as_str().unwrap())
            .collect();
        done.sort();
        if done == kinds {
            return rows;
        }
        assert!(started.elapsed() < PATIENCE, "{id}'s outbox: {data}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn open311_status(env: &Env, id: &str) -> Value {
    let answer = Open311::new(env).get(&format!("requests/{id}.json")).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer.json()[0].clone()
}

/// `trackedComplaintUpdated` with a linked case's code: a PUBLIC note on its
/// primary is an update (the subscription starts "from now", so the note is
/// repeated until one arrives).
async fn primary_notes_reach_the_linked_view(env: &Env, primary: &str, code: &str) {
    let mut ws = env.server.ws(None).await;
    let tracked = "subscription($code: String!) { trackedComplaintUpdated(trackingCode: $code) { \
        status followsIncident notes { text } } }";
    ws.subscribe("t", tracked, json!({"code": code})).await;
    let text = "Kabar insiden: tim berangkat.";
    for _ in 0..20 {
        crate::subscriptions::note(&env.dpu_officer, primary, text, "PUBLIC").await;
        match ws.reply_within("t", Duration::from_millis(500)).await {
            None => continue,
            Some(aduan_testkit::ws::Reply::Next(payload)) => {
                let view = &payload["data"]["trackedComplaintUpdated"];
                assert_eq!(view["followsIncident"], true, "{payload}");
                assert_eq!(view["status"], "ASSIGNED", "the primary's: {payload}");
                assert_eq!(view["notes"][0]["text"], text, "{payload}");
                return;
            }
            Some(other) => panic!("{other:?}"),
        }
    }
    panic!("no notice of the primary's note");
}

async fn every_linked_reporter_follows_the_primary_to_its_closing_and_back(backend: Backend) {
    smtp_answers();
    let smtp = format!("smtp://{SMTP}");
    let env = Env::start_with(
        backend,
        &[
            ("ADUAN_SMTP_URL", smtp.as_str()),
            (
                "ADUAN_NOTIFY_FROM",
                "Aduan Kota Makassar <aduan@makassarkota.go.id>",
            ),
        ],
    )
    .await;
    let primary = env.assigned().await;
    let (mail_a, mail_b, mail_c) = (reporter().0, reporter().0, reporter().0);
    let (a, code_a, _) = reported(&env, &mail_a).await;
    let (b, code_b, _) = reported(&env, &mail_b).await;
    // A third reporter stopped the messages of their case: the incident's
    // replies and closing do not reach them either.
    let (c, code_c, submitted) = reported(&env, &mail_c).await;
    let before = env.agent.ok(DASHBOARD, window(&submitted)).await;
    assert_eq!(before["dashboard"]["open"], 4, "{before}");
    let public = env.server.client("");
    public
        .ok(OPT_OUT, input(&c, json!({"trackingCode": code_c})))
        .await;

    link(&env, &a, &primary).await;
    link(&env, &c, &primary).await;
    let min = link(&env, &b, &primary).await;

    // The incident: its members, its report count, counted once.
    let incident = env
        .agent
        .ok(INCIDENT, json!({"id": primary, "min": min}))
        .await;
    let members: Vec<&str> = incident["complaint"]["duplicates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(members, [a.as_str(), b.as_str(), c.as_str()], "{incident}");
    let list = env.agent.ok(LIST, json!({"min": min})).await;
    let primary_item = list["complaints"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["id"] == json!(primary))
        .unwrap()
        .clone();
    assert_eq!(primary_item["node"]["reportCount"], 4, "{list}");
    let after = env.agent.ok(DASHBOARD, window(&min)).await;
    assert_eq!(after["dashboard"]["open"], 1, "the incident once: {after}");
    let backlog: i64 = after["dashboard"]["backlogByAge"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["open"].as_i64().unwrap())
        .sum();
    assert_eq!(backlog, 1);
    let stats = env.agent.ok(STATS, window(&min)).await;
    assert_eq!(stats["cityStats"][0]["submitted"], 1, "{stats}");

    // The linked reporter's live view moves with the primary.
    primary_notes_reach_the_linked_view(&env, &primary, &code_a).await;

    // A reply on the primary reaches every linked reporter.
    let reply = "Tim kami menambal lubang besok pagi.";
    env.dpu_officer
        .ok(MUTATE_RESPOND, input(&primary, json!({"message": reply})))
        .await;
    for (id, mail, code) in [(&a, &mail_a, &code_a), (&b, &mail_b, &code_b)] {
        let mails = await_mails(mail, 1).await;
        assert!(mails[0].body.contains(reply), "{}", mails[0].body);
        let number = env.number(id).await;
        assert!(
            mails[0].body.contains(&number),
            "the reporter's own case number: {}",
            mails[0].body
        );
        let view = await_tracked(&env, code, "IN_PROGRESS").await;
        assert_eq!(view["followsIncident"], true);
        assert_eq!(view["responses"][0]["message"], reply, "{view}");
        assert_eq!(open311_status(&env, id).await["status"], "open");
    }

    // The primary closed: each duplicate closed once, told, and shown closed.
    env.dpu_officer
        .ok(
            MUTATE_CLOSE,
            input(
                &primary,
                json!({"resolution": "RESOLVED", "summary": "Lubang sudah ditambal"}),
            ),
        )
        .await;
    await_closed(&env, &[a.clone(), b.clone(), c.clone()]).await;
    for (id, mail, code) in [(&a, &mail_a, &code_a), (&b, &mail_b, &code_b)] {
        assert_eq!(closings(&env, id).await, 1);
        let mails = await_mails(mail, 2).await;
        assert!(
            mails
                .iter()
                .any(|m| m.body.contains("Lubang sudah ditambal")),
            "the closing words reach {mail}"
        );
        let view = await_tracked(&env, code, "CLOSED").await;
        assert_eq!(view["resolution"], "RESOLVED");
        assert_eq!(view["closingSummary"], "Lubang sudah ditambal");
        let record = open311_status(&env, id).await;
        assert_eq!(record["status"], "closed", "{record}");
        assert_eq!(record["status_notes"], "resolved");
    }
    assert_eq!(closings(&env, &c).await, 1);
    let skipped = await_outbox(&env, &c, &["closed", "incident_responded", "survey"]).await;
    assert!(
        skipped.iter().all(|r| r["status"] == "SKIPPED"),
        "{skipped:?}"
    );
    assert!(
        mails_to(&mail_c).is_empty(),
        "an opted-out reporter was told"
    );

    // Reopened by its reporter: the duplicates' view follows it.
    env.citizen
        .ok(
            MUTATE_REOPEN,
            input(&primary, json!({"reason": "Masih berlubang"})),
        )
        .await;
    let reopened = env.current(&primary).await["status"].clone();
    for (id, code) in [(&a, &code_a), (&b, &code_b)] {
        let view = await_tracked(&env, code, reopened.as_str().unwrap()).await;
        assert!(view["closingSummary"].is_null(), "{view}");
        assert_eq!(open311_status(&env, id).await["status"], "open");
        assert_eq!(closings(&env, id).await, 1, "nothing closed twice");
    }
    env.finish().await;
}

async fn closing_a_primary_closes_each_duplicate_once_across_a_kill(backend: Backend) {
    let env = Env::start(backend).await;
    let primary = env.assigned().await;
    let mut members = Vec::new();
    for _ in 0..40 {
        let id = env.submit().await;
        link(&env, &id, &primary).await;
        members.push(id);
    }
    env.dpu_officer
        .ok(
            MUTATE_CLOSE,
            input(
                &primary,
                json!({"resolution": "RESOLVED", "summary": "Selesai"}),
            ),
        )
        .await;
    // Killed where it stands, right after the primary's closing.
    let env = env.restart_after(Stop::Kill).await;
    await_closed(&env, &members).await;
    caught_up(&env.store, &env.supervisor).await;
    // A moment more for a stray second closing, then every one exactly once.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for id in &members {
        assert_eq!(closings(&env, id).await, 1, "{id}");
        let history = env.history(id).await;
        let closed = history.iter().find(|e| e["type"] == "Closed").unwrap();
        assert_eq!(closed["role"], "SYSTEM", "{closed}");
        assert_eq!(closed["channel"], "incident");
        assert!(
            closed["commandId"]
                .as_str()
                .unwrap()
                .starts_with(&format!("incident-close:{primary}:")),
            "{closed}"
        );
        assert_eq!(
            closed["payload"]["duplicate_of"],
            json!(primary),
            "{closed}"
        );
    }
    env.finish().await;
}
