//! Case notes (`addNote`): who may add one, that a refused note appends nothing,
//! that INTERNAL notes never reach the citizen, analysts or the tracking-code
//! view (not in `notes`, not in `complaintHistory`, not anywhere in a response),
//! that retries are idempotent, and that a case with many notes pages them.

use serde_json::{json, Value};

use aduan_testkit::GraphqlClient;

use crate::support::*;

on_both_stores!(
    staff_add_notes_at_every_stage_and_everyone_else_is_refused,
    internal_notes_reach_staff_only,
    a_retried_note_returns_its_first_result_and_appends_once,
    a_case_with_hundreds_of_notes_pages_them,
);

const ADD_NOTE: &str = "mutation($input: AddNoteInput!) { addNote(input: $input) { id status version position updatedAt notes(newestFirst: true, first: 1) { text visibility author role authorOpd } } }";

const NOTES: &str = "query($id: ID!, $first: Int! = 50, $after: Int, $newest: Boolean! = false, $min: Int) { complaint(id: $id, minPosition: $min) { id notes(first: $first, after: $after, newestFirst: $newest) { sequence text visibility author role authorOpd addedAt } } }";

const SUBMIT_CODE: &str =
    "mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) { id trackingCode } }";

const TRACK: &str = "query($code: String!) { trackedComplaint(trackingCode: $code) { id status notes { text addedAt } responses { message } } }";

const INTERNAL: &str = "Pelapor ditelepon, tidak diangkat. Rahasia-internal-7731.";
const PUBLIC: &str = "Tim survei dijadwalkan Kamis pagi.";

fn note(id: &str, text: &str, visibility: &str) -> Value {
    input(id, json!({"text": text, "visibility": visibility}))
}

/// Adds a note as `client`; returns what the mutation returned.
async fn add(client: &GraphqlClient, id: &str, text: &str, visibility: &str) -> Value {
    client.ok(ADD_NOTE, note(id, text, visibility)).await["addNote"].clone()
}

async fn staff_add_notes_at_every_stage_and_everyone_else_is_refused(backend: Backend) {
    let env = Env::start(backend).await;
    let system = env.client("SYSTEM", None, "bridge-lapor").await;
    let analyst = env.analyst().await;
    let public = env.server.client("");
    let other_citizen = env.client("CITIZEN", None, "warga-2").await;

    // Before dispatch: the Command Center and SYSTEM note; no OPD holds the case yet.
    let id = env.submit().await;
    let noted = add(&env.agent, &id, "Pelapor dihubungi.", "INTERNAL").await;
    assert_eq!(noted["status"], "SUBMITTED");
    assert_eq!(noted["version"], 2);
    assert_eq!(
        noted["notes"][0],
        json!({"text": "Pelapor dihubungi.", "visibility": "INTERNAL", "author": "agent-1", "role": "AGENT", "authorOpd": null})
    );
    add(&env.supervisor, &id, "Dipantau.", "PUBLIC").await;
    add(&system, &id, "Diteruskan dari SP4N-LAPOR.", "INTERNAL").await;
    let body = env
        .refused(
            &id,
            &env.dpu_officer,
            ADD_NOTE,
            note(&id, "x", "INTERNAL"),
            "INVALID_TRANSITION",
        )
        .await;
    assert!(body.to_string().contains("SUBMITTED"), "{body}");

    // Dispatched to DPU: DPU's admin and officer note; DLH may not.
    env.agent.ok(MUTATE_VERIFY, input(&id, json!({}))).await;
    env.agent
        .ok(MUTATE_ASSIGN, input(&id, json!({"opd": "DPU"})))
        .await;
    let before = env.current(&id).await;
    let updated_before = updated_at(&env, &id).await;
    let noted = add(&env.dpu_officer, &id, "Cek lokasi besok.", "INTERNAL").await;
    assert_eq!(noted["notes"][0]["authorOpd"], "DPU");
    assert_eq!(noted["notes"][0]["role"], "OPD_OFFICER");
    // A note changes nothing but the version (and position): not the status,
    // not updatedAt.
    assert_eq!(noted["status"], before["status"]);
    assert_eq!(noted["version"], before["version"].as_i64().unwrap() + 1);
    assert_eq!(noted["updatedAt"], updated_before);
    let after = env.current(&id).await;
    for field in [
        "status",
        "opd",
        "firstResponseAt",
        "escalationLevel",
        "resolution",
    ] {
        assert_eq!(after[field], before[field], "{field}");
    }
    assert_eq!(updated_at(&env, &id).await, updated_before);
    add(&env.dpu_admin, &id, "Petugas ditunjuk.", "PUBLIC").await;
    let forbidden = env
        .refused(
            &id,
            &env.dlh_officer,
            ADD_NOTE,
            note(&id, "x", "INTERNAL"),
            "FORBIDDEN",
        )
        .await;
    assert!(forbidden.to_string().contains("DPU"), "{forbidden}");

    // Refused roles, on a case they may (or may not) read; nothing appended.
    for (client, code) in [
        (&env.citizen, "FORBIDDEN"),
        (&other_citizen, "FORBIDDEN"),
        (&analyst, "FORBIDDEN"),
        (&env.auditor, "FORBIDDEN"),
        (&public, "UNAUTHENTICATED"),
    ] {
        env.refused(&id, client, ADD_NOTE, note(&id, "x", "PUBLIC"), code)
            .await;
    }

    // Bad input: coded, with the field, nothing appended.
    for text in ["", "   \u{0}  ", &"x".repeat(5001)] {
        let body = env
            .refused(
                &id,
                &env.agent,
                ADD_NOTE,
                note(&id, text, "INTERNAL"),
                "INVALID_INPUT",
            )
            .await;
        assert_eq!(body["errors"][0]["extensions"]["field"], "text", "{body}");
    }
    let body = env
        .refused(
            &id,
            &env.agent,
            ADD_NOTE,
            input(&id, json!({"text": "x", "visibility": "SECRET"})),
            "BAD_REQUEST",
        )
        .await;
    assert!(body["data"].is_null(), "{body}");
    // A stale expectedVersion is a conflict.
    let mut stale = note(&id, "Terlambat.", "INTERNAL");
    stale["input"]["expectedVersion"] = json!(1);
    env.refused(&id, &env.agent, ADD_NOTE, stale, "CONFLICT")
        .await;
    // An unknown case.
    let body = env
        .agent
        .query(ADD_NOTE, note("ADU-TIDAK-ADA", "x", "INTERNAL"))
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");

    // Closed (and rated): the OPD and the Command Center still note it.
    env.dpu_officer
        .ok(
            MUTATE_CLOSE,
            input(
                &id,
                json!({"resolution": "RESOLVED", "summary": "Ditambal."}),
            ),
        )
        .await;
    env.citizen
        .ok(MUTATE_RATE, input(&id, json!({"score": 4})))
        .await;
    let noted = add(&env.dpu_officer, &id, "Dicek ulang, aman.", "PUBLIC").await;
    assert_eq!(noted["status"], "CLOSED");
    add(&env.agent, &id, "Pelapor menelepon, puas.", "INTERNAL").await;

    // After a transfer the new OPD notes; the old one may not.
    let moved = env.assigned().await;
    env.agent
        .ok(
            MUTATE_TRANSFER,
            input(
                &moved,
                json!({"toOpd": "DLH", "reasonCode": "BUKAN_WEWENANG", "note": "Sampah, bukan jalan"}),
            ),
        )
        .await;
    add(&env.dlh_officer, &moved, "Diterima DLH.", "INTERNAL").await;
    env.refused(
        &moved,
        &env.dpu_officer,
        ADD_NOTE,
        note(&moved, "x", "INTERNAL"),
        "FORBIDDEN",
    )
    .await;

    // A rejected case takes notes too.
    let rejected = env.submit().await;
    env.agent
        .ok(MUTATE_REJECT, input(&rejected, json!({"reason": "SPAM"})))
        .await;
    add(&env.agent, &rejected, "Pelapor protes penolakan.", "PUBLIC").await;

    let types = env.event_types(&id).await;
    assert_eq!(
        types.iter().filter(|t| *t == "NoteAdded").count(),
        7,
        "{types:?}"
    );
    env.finish().await;
}

/// The events of the history `client` gets, or None when refused.
async fn history_as(client: &GraphqlClient, id: &str) -> Option<Value> {
    let body = client.query(HISTORY, json!({"id": id})).await;
    body.get("errors")
        .is_none()
        .then(|| body["data"]["complaintHistory"].clone())
}

fn texts(notes: &Value) -> Vec<&str> {
    notes
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["text"].as_str().unwrap())
        .collect()
}

async fn internal_notes_reach_staff_only(backend: Backend) {
    let env = Env::start(backend).await;
    let system = env.client("SYSTEM", None, "bridge-lapor").await;
    let analyst = env.analyst().await;
    let public = env.server.client("");
    let submitted = env
        .citizen
        .ok(SUBMIT_CODE, json!({"input": report()}))
        .await;
    let id = submitted["submitComplaint"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let code = submitted["submitComplaint"]["trackingCode"].clone();
    env.agent.ok(MUTATE_VERIFY, input(&id, json!({}))).await;
    env.agent
        .ok(MUTATE_ASSIGN, input(&id, json!({"opd": "DPU"})))
        .await;
    add(&env.dpu_officer, &id, INTERNAL, "INTERNAL").await;
    add(&env.dpu_officer, &id, PUBLIC, "PUBLIC").await;
    let responded = env
        .dpu_officer
        .ok(
            MUTATE_RESPOND,
            input(&id, json!({"message": "Kami periksa."})),
        )
        .await;
    // Reads wait for the summary to hold the case as it is now (with DPU).
    let min = responded["respondToComplaint"]["position"].clone();
    let read = json!({"id": id, "min": min});

    // Staff see both, in order, in `notes` and in the history.
    for (who, client) in [
        ("agent", &env.agent),
        ("supervisor", &env.supervisor),
        ("auditor", &env.auditor),
        ("DPU admin", &env.dpu_admin),
        ("DPU officer", &env.dpu_officer),
        ("system", &system),
    ] {
        let notes = client.ok(NOTES, read.clone()).await["complaint"]["notes"].clone();
        assert_eq!(texts(&notes), [INTERNAL, PUBLIC], "{who}");
        assert_eq!(notes[0]["visibility"], "INTERNAL", "{who}");
        assert_eq!(notes[0]["author"], "petugas-dpu", "{who}");
        let history = history_as(client, &id).await.expect("staff read history");
        let payloads: Vec<&Value> = history
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "NoteAdded")
            .map(|e| &e["payload"])
            .collect();
        assert_eq!(payloads.len(), 2, "{who}");
        assert_eq!(payloads[0]["text"], INTERNAL, "{who}");
        assert_eq!(payloads[0]["visibility"], "INTERNAL", "{who}");
    }

    // The reporter: the PUBLIC note only, in `notes` and in the history; the
    // INTERNAL one is nowhere in what they get.
    let body = env.citizen.query(NOTES, read.clone()).await;
    assert_eq!(texts(&body["data"]["complaint"]["notes"]), [PUBLIC]);
    assert!(!body.to_string().contains("Rahasia-internal"), "{body}");
    let history = history_as(&env.citizen, &id)
        .await
        .expect("the reporter reads the history");
    let types: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "Submitted",
            "Verified",
            "Assigned",
            "NoteAdded",
            "Responded"
        ]
    );
    assert_eq!(history[3]["payload"]["text"], PUBLIC);
    assert!(!history.to_string().contains("Rahasia-internal"));

    // Analysts read the case but not its INTERNAL notes (and no history at all).
    let body = analyst.query(NOTES, read.clone()).await;
    assert_eq!(texts(&body["data"]["complaint"]["notes"]), [PUBLIC]);
    assert!(!body.to_string().contains("Rahasia-internal"), "{body}");
    assert!(history_as(&analyst, &id).await.is_none());

    // The tracking-code view: PUBLIC notes beside the OPD's replies.
    let body = public.query(TRACK, json!({"code": code})).await;
    let tracked = &body["data"]["trackedComplaint"];
    assert_eq!(texts(&tracked["notes"]), [PUBLIC], "{body}");
    assert_eq!(tracked["responses"][0]["message"], "Kami periksa.");
    assert!(!body.to_string().contains("Rahasia-internal"), "{body}");

    // Another OPD reads neither.
    let body = env.dlh_officer.query(NOTES, read.clone()).await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");

    // After a transfer, the notes go with the case: DLH reads the INTERNAL one,
    // DPU no longer does.
    let moved = env
        .agent
        .ok(
            MUTATE_TRANSFER,
            input(
                &id,
                json!({"toOpd": "DLH", "reasonCode": "BUKAN_WEWENANG", "note": "Bukan jalan"}),
            ),
        )
        .await;
    let min = moved["transferComplaint"]["position"].clone();
    let notes = env
        .dlh_officer
        .ok(NOTES, json!({"id": id, "min": min}))
        .await["complaint"]["notes"]
        .clone();
    assert_eq!(texts(&notes), [INTERNAL, PUBLIC]);
    let body = env
        .dpu_officer
        .query(NOTES, json!({"id": id, "min": min}))
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    env.finish().await;
}

async fn a_retried_note_returns_its_first_result_and_appends_once(backend: Backend) {
    let env = Env::start(backend).await;
    let id = env.assigned().await;
    let mut sent = note(&id, "Telepon ke pelapor.", "INTERNAL");
    sent["input"]["commandId"] = json!("note-retry-1");
    let first = env.dpu_officer.ok(ADD_NOTE, sent.clone()).await;
    // Something else happens in between; the retry still answers as the first time.
    add(&env.dpu_officer, &id, "Catatan lain.", "PUBLIC").await;
    let again = env.dpu_officer.ok(ADD_NOTE, sent.clone()).await;
    assert_eq!(
        again["addNote"]["version"], first["addNote"]["version"],
        "{again}"
    );
    assert_eq!(again["addNote"]["position"], first["addNote"]["position"]);
    let history = env.history(&id).await;
    let notes: Vec<&Value> = history
        .iter()
        .filter(|e| e["type"] == "NoteAdded")
        .collect();
    assert_eq!(notes.len(), 2);
    assert_eq!(notes[0]["commandId"], "note-retry-1");

    // Racing copies of one note append it once.
    let mut raced = note(&id, "Dikirim dua kali dari aplikasi.", "PUBLIC");
    raced["input"]["commandId"] = json!("note-race-1");
    let bodies = race(&env.dpu_officer, ADD_NOTE, vec![raced; 8]).await;
    let versions: Vec<&Value> = bodies
        .iter()
        .map(|b| &b["data"]["addNote"]["version"])
        .collect();
    assert!(versions.iter().all(|v| *v == versions[0]), "{bodies:?}");
    let history = env.history(&id).await;
    let raced: Vec<&Value> = history
        .iter()
        .filter(|e| e["commandId"] == "note-race-1")
        .collect();
    assert_eq!(raced.len(), 1, "{history:?}");

    // The same key with another text is a client bug, not a retry.
    let mut changed = note(&id, "Teks lain.", "INTERNAL");
    changed["input"]["commandId"] = json!("note-retry-1");
    let body = env
        .refused(&id, &env.dpu_officer, ADD_NOTE, changed, "INVALID_INPUT")
        .await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "commandId");
    env.finish().await;
}

async fn a_case_with_hundreds_of_notes_pages_them(backend: Backend) {
    const COUNT: usize = 150;
    let env = Env::start(backend).await;
    let id = env.assigned().await;
    let timers = |min: Value| {
        let q = "query($id: ID!, $min: Int) { slaTimers(filter: {complaintId: $id}, minPosition: $min) { leg startedAt deadline atRiskAt stoppedAt paused targetSeconds policyVersion } }";
        let auditor = env.auditor.clone();
        let id = id.clone();
        async move { auditor.ok(q, json!({"id": id, "min": min})).await["slaTimers"].clone() }
    };
    let before = env.current(&id).await;
    let updated_before = updated_at(&env, &id).await;
    let timers_before = timers(before["position"].clone()).await;
    let mut last = Value::Null;
    for i in 0..COUNT {
        let (client, visibility) = match i % 3 {
            0 => (&env.dpu_officer, "PUBLIC"),
            1 => (&env.dpu_admin, "INTERNAL"),
            _ => (&env.agent, "INTERNAL"),
        };
        last = add(client, &id, &format!("Catatan {i}"), visibility).await;
    }
    assert_eq!(
        last["version"],
        before["version"].as_i64().unwrap() + COUNT as i64
    );
    // Status, clocks and updatedAt are as before the notes.
    let after = env.current(&id).await;
    assert_eq!(after["status"], before["status"]);
    assert_eq!(last["updatedAt"], updated_before);
    assert_eq!(updated_at(&env, &id).await, updated_before);
    assert_eq!(timers(after["position"].clone()).await, timers_before);

    // Staff page through all of them, oldest first, 50 at a time.
    let mut seen = Vec::new();
    let mut after_seq = Value::Null;
    loop {
        let page = env
            .agent
            .ok(NOTES, json!({"id": id, "after": after_seq}))
            .await["complaint"]["notes"]
            .clone();
        let page = page.as_array().unwrap().clone();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 50);
        after_seq = page.last().unwrap()["sequence"].clone();
        seen.extend(
            page.into_iter()
                .map(|n| n["text"].as_str().unwrap().to_string()),
        );
    }
    let all: Vec<String> = (0..COUNT).map(|i| format!("Catatan {i}")).collect();
    assert_eq!(seen, all);
    // Newest first, one page.
    let newest = env
        .agent
        .ok(NOTES, json!({"id": id, "first": 3, "newest": true}))
        .await["complaint"]["notes"]
        .clone();
    assert_eq!(
        texts(&newest),
        [
            format!("Catatan {}", COUNT - 1),
            format!("Catatan {}", COUNT - 2),
            format!("Catatan {}", COUNT - 3)
        ]
    );
    // The reporter gets the PUBLIC third only.
    let public_notes =
        env.citizen.ok(NOTES, json!({"id": id, "first": 200})).await["complaint"]["notes"].clone();
    assert_eq!(public_notes.as_array().unwrap().len(), COUNT.div_ceil(3));
    // Page sizes are bounded.
    let body = env
        .agent
        .query(NOTES, json!({"id": id, "first": 201}))
        .await;
    assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{body}");
    env.finish().await;
}

/// The complaint's `updatedAt`, once the summary holds its last event.
async fn updated_at(env: &Env, id: &str) -> Value {
    let last = env.history(id).await.last().unwrap()["position"].clone();
    env.auditor
        .ok(
            "query($id: ID!, $min: Int) { complaint(id: $id, minPosition: $min) { updatedAt } }",
            json!({"id": id, "min": last}),
        )
        .await["complaint"]["updatedAt"]
        .clone()
}
