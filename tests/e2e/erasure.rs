//! `eraseReporterData` through the real server (docs/erasure.md): afterwards the
//! reporter's name, phone, e-mail, exact address and the text they wrote read as
//! `[erased]` in the case, its history, lists and an export moved to another
//! database, while dashboards, statistics and SLA timers read exactly as before,
//! the stored events rows are unchanged, and another reporter keeps theirs.

use serde_json::{json, Value};

use aduan_testkit::{GraphqlClient, TestServer, TestStore};

use crate::support::*;

on_both_stores!(an_erased_reporter_reads_as_erased_and_statistics_do_not_move);

const NAME: &str = "Siti Nurhaliza Daeng";
const PHONE: &str = "+62 812 7777 4321";
const EMAIL: &str = "siti.daeng@contoh.id";
const ADDRESS: &str = "Jl. Rahasia Nomor 77";
const TITLE: &str = "Lubang di depan rumah Bu Siti";
const DESCRIPTION: &str = "Anak saya jatuh di lubang ini kemarin";
const COMMENT: &str = "Terima kasih Pak Budi RT 03";
const OTHER_NAME: &str = "Pak Rahman";

const ERASE: &str = "mutation($input: EraseReporterDataInput!) { eraseReporterData(input: $input) { reporterRef complaints erasedNow keysDestroyed } }";

const CASE: &str = "query($id: ID!, $min: Int) { complaint(id: $id, minPosition: $min) { id status title description personalDataErased reporterRef location { address kecamatan } reporter { name phone email } rating } }";

const LIST: &str = "{ complaints(first: 50) { edges { node { id title } } } }";

const DASHBOARD: &str = "query($from: DateTime!, $to: DateTime!) { \
    dpu: dashboard(opd: \"DPU\", from: $from, to: $to) { opd open overdue responseCompliancePct \
      resolutionCompliancePct respondP50Seconds respondP90Seconds resolveP50Seconds \
      resolveP90Seconds backlogByAge { age open } satisfactionIndex ratings } \
    city: dashboard(from: $from, to: $to) { open overdue satisfactionIndex ratings } \
    byKecamatan: cityStats(from: $from, to: $to, groupBy: KECAMATAN) { key submitted open closed rejected } \
    byChannel: cityStats(from: $from, to: $to, groupBy: CHANNEL) { key submitted open closed rejected } \
    slaTimers(first: 50) { complaintId leg state startedAt deadline stoppedAt targetSeconds } }";

/// The stored events rows, as the database holds them.
async fn rows(store: &TestStore) -> Vec<String> {
    store
        .texts(
            "SELECT aggregate_id || ' ' || sequence || ' ' || event_version || ' ' || \
             CAST(payload AS TEXT) || ' ' || CAST(metadata AS TEXT) FROM events ORDER BY position",
        )
        .await
}

fn personal(text: &str) -> Vec<&'static str> {
    [NAME, PHONE, EMAIL, ADDRESS, TITLE, DESCRIPTION, COMMENT]
        .into_iter()
        .filter(|s| text.contains(s))
        .collect()
}

async fn figures(supervisor: &GraphqlClient) -> Value {
    let now = chrono::Utc::now();
    supervisor
        .ok(
            DASHBOARD,
            json!({"from": now - chrono::Duration::days(2), "to": now + chrono::Duration::days(1)}),
        )
        .await
}

async fn an_erased_reporter_reads_as_erased_and_statistics_do_not_move(backend: Backend) {
    let env = Env::start_with(backend, &[("ADUAN_WATCH", "false")]).await;
    let mut sent = report();
    sent["title"] = json!(TITLE);
    sent["description"] = json!(DESCRIPTION);
    sent["reporter"] = json!({"name": NAME, "phone": PHONE, "email": EMAIL});
    sent["location"]["address"] = json!(ADDRESS);
    let submitted = env
        .citizen
        .ok(
            "mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) { id trackingCode } }",
            json!({"input": sent}),
        )
        .await;
    let id = submitted["submitComplaint"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let code = submitted["submitComplaint"]["trackingCode"].clone();
    let mut theirs = report();
    theirs["reporter"] = json!({"name": OTHER_NAME, "phone": "+62 811 1111 222"});
    let other = id_of(&env.agent.ok(SUBMIT, json!({"input": theirs})).await);
    for case in [&id, &other] {
        env.agent.ok(MUTATE_VERIFY, input(case, json!({}))).await;
        env.agent
            .ok(MUTATE_ASSIGN, input(case, json!({"opd": "DPU"})))
            .await;
        env.dpu_officer
            .ok(
                MUTATE_RESPOND,
                input(case, json!({"message": "Tim menuju lokasi."})),
            )
            .await;
    }
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
        .ok(
            MUTATE_RATE,
            input(&id, json!({"score": 4, "comment": COMMENT})),
        )
        .await;
    caught_up(&env.store, &env.supervisor).await;

    // Nothing personal is stored in plain text, even before any erasure.
    let before_rows = rows(&env.store).await;
    assert_eq!(personal(&before_rows.join("\n")), Vec::<&str>::new());
    let before = figures(&env.supervisor).await;
    const SIGN: &str = "mutation { signAuditCheckpoint { treeSize } }";
    let signed = env.supervisor.ok(SIGN, json!({})).await;
    assert_eq!(
        signed["signAuditCheckpoint"]["treeSize"],
        json!(before_rows.len())
    );
    let case = env.supervisor.ok(CASE, json!({"id": id})).await["complaint"].clone();
    assert_eq!(case["reporter"]["name"], json!(NAME));
    assert_eq!(case["title"], json!(TITLE));
    let reference = case["reporterRef"].as_str().unwrap().to_string();

    // Refusals change nothing.
    let erase = |reference: &str, reason: &str| json!({"input": {"reporterRef": reference, "reason": reason}});
    let refusals = [
        (
            &env.agent,
            erase(&reference, "Permintaan warga"),
            "FORBIDDEN",
        ),
        (
            &env.auditor,
            erase(&reference, "Permintaan warga"),
            "FORBIDDEN",
        ),
        (
            &env.citizen,
            erase(&reference, "Hapus data saya"),
            "FORBIDDEN",
        ),
        (
            &env.supervisor,
            erase("warga-1", "Permintaan warga"),
            "INVALID_INPUT",
        ),
        (&env.supervisor, erase(&reference, "  "), "INVALID_INPUT"),
        (
            &env.supervisor,
            erase(&"ab".repeat(32), "Permintaan warga"),
            "NOT_FOUND",
        ),
    ];
    for (client, variables, code) in refusals {
        let body = client.query(ERASE, variables.clone()).await;
        assert_eq!(error_code(&body), Some(code), "{variables}: {body}");
    }
    let public = env.server.client("");
    let body = public.query(ERASE, erase(&reference, "x")).await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    assert_eq!(rows(&env.store).await, before_rows);

    let done = env
        .supervisor
        .ok(
            ERASE,
            erase(&reference, "Permintaan warga no. 17/2026 (UU 27/2022)"),
        )
        .await;
    assert_eq!(done["eraseReporterData"]["complaints"], json!([id]));
    assert_eq!(done["eraseReporterData"]["erasedNow"], json!([id]));
    assert_eq!(done["eraseReporterData"]["keysDestroyed"], json!(1));
    caught_up(&env.store, &env.supervisor).await;

    // The stored rows are those of before, plus the audited erasure event.
    let after_rows = rows(&env.store).await;
    assert_eq!(after_rows[..before_rows.len()], before_rows[..]);
    assert_eq!(after_rows.len(), before_rows.len() + 1);
    assert!(after_rows.last().unwrap().contains("ReporterDataErased"));
    // So the chain, and the checkpoint signed before the erasure, still verify.
    env.supervisor.ok(SIGN, json!({})).await;
    let (ok, said, err) = try_cli(&["audit", "verify"], &env.store.url).await;
    assert!(ok && said.contains("intact"), "{said}{err}");
    let history = env.history(&id).await;
    assert_eq!(history.last().unwrap()["type"], json!("ReporterDataErased"));
    assert_eq!(history.last().unwrap()["actor"], json!("spv-1"));

    // Dashboards, statistics and SLA timers read exactly as before.
    assert_eq!(figures(&env.supervisor).await, before);

    // The case, its history and the lists read as erased, for every reader.
    let last = history.last().unwrap()["position"].clone();
    for client in [&env.supervisor, &env.auditor, &env.agent, &env.dpu_officer] {
        let case = client.ok(CASE, json!({"id": id, "min": last})).await["complaint"].clone();
        assert_eq!(case["title"], json!("[erased]"), "{case}");
        assert_eq!(case["description"], json!("[erased]"), "{case}");
        assert_eq!(case["personalDataErased"], json!(true));
        assert_eq!(case["status"], json!("CLOSED"));
        assert_eq!(case["rating"], json!(4));
        assert_eq!(case["location"]["kecamatan"], json!("MAKASSAR"));
        let seen = case.to_string();
        assert_eq!(personal(&seen), Vec::<&str>::new(), "{seen}");
    }
    let case = env.auditor.ok(CASE, json!({"id": id})).await["complaint"].clone();
    assert_eq!(
        case["reporter"],
        json!({"name": "[erased]", "phone": "[erased]", "email": "[erased]"})
    );
    assert_eq!(case["location"]["address"], json!("[erased]"));
    let history_text = Value::Array(env.history(&id).await).to_string();
    assert_eq!(
        personal(&history_text),
        Vec::<&str>::new(),
        "{history_text}"
    );
    assert!(history_text.contains("[erased]"));
    let list = env.auditor.ok(LIST, json!({})).await.to_string();
    assert_eq!(personal(&list), Vec::<&str>::new(), "{list}");
    let tracked = public
        .ok(
            "query($code: String!) { trackedComplaint(trackingCode: $code) { status rating responses { message } } }",
            json!({"code": code}),
        )
        .await;
    assert_eq!(tracked["trackedComplaint"]["status"], json!("CLOSED"));
    assert_eq!(personal(&tracked.to_string()), Vec::<&str>::new());

    // The other reporter is untouched.
    let theirs = env.auditor.ok(CASE, json!({"id": other})).await["complaint"].clone();
    assert_eq!(theirs["reporter"]["name"], json!(OTHER_NAME));
    assert_eq!(theirs["personalDataErased"], json!(false));

    // A repeat is harmless.
    let again = env.supervisor.ok(ERASE, erase(&reference, "Ulang")).await;
    assert_eq!(again["eraseReporterData"]["erasedNow"], json!([]));
    assert_eq!(again["eraseReporterData"]["keysDestroyed"], json!(0));
    assert_eq!(rows(&env.store).await, after_rows);

    // Export and import keep the keys and the erasure.
    let file = std::env::temp_dir().join(format!(
        "aduan-erasure-{}.jsonl",
        uuid::Uuid::new_v4().simple()
    ));
    let path = file.to_str().unwrap();
    run_cli(&["export", "--output", path], &env.store.url).await;
    let exported = std::fs::read_to_string(&file).unwrap();
    assert_eq!(personal(&exported), Vec::<&str>::new());
    assert!(
        !exported.contains(OTHER_NAME),
        "every reporter is sealed in an export"
    );
    assert!(exported.contains("\"personal_key\""));
    let moved = TestStore::create(backend).await;
    run_cli(&["import", "--input", path], &moved.url).await;
    let server = TestServer::start(BIN, &moved.url, &[("ADUAN_WATCH", "false")]).await;
    let auditor = server.client(&server.token("AUDITOR", None, "auditor-1").await);
    let supervisor = server.client(&server.token("SUPERVISOR", None, "spv-1").await);
    caught_up(&moved, &supervisor).await;
    let case = auditor.ok(CASE, json!({"id": id})).await["complaint"].clone();
    assert_eq!(case["reporter"]["name"], json!("[erased]"));
    assert_eq!(case["title"], json!("[erased]"));
    let theirs = auditor.ok(CASE, json!({"id": other})).await["complaint"].clone();
    assert_eq!(theirs["reporter"]["name"], json!(OTHER_NAME));
    assert_eq!(
        figures(&supervisor).await,
        before,
        "the moved city's figures"
    );
    stop_cleanly(server).await;
    moved.drop_store().await;
    let _ = std::fs::remove_file(&file);
    env.finish().await;
}
