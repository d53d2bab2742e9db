//! `eraseReporterData` takes the files the reporter sent with it
//! (docs/erasure.md): their objects and thumbnails leave storage (the
//! filesystem, or S3 on PostgreSQL), signed links to them refuse, the case no
//! longer lists them, while staff's files and another reporter's copy of the
//! same bytes stay, `aduan attachments check` finds nothing missing and
//! `aduan audit verify` still passes.

use serde_json::json;

use aduan_attachments::Objects;
use aduan_testkit::photos::phone_jpeg;
use aduan_testkit::TestStore;

use crate::attachments::{check_args, fetch, location, pdf, storage, upload};
use crate::support::*;

on_both_stores!(erasing_a_reporter_deletes_the_files_they_sent);

const ERASE: &str = "mutation($input: EraseReporterDataInput!) { eraseReporterData(input: $input) { erasedNow keysDestroyed filesDeleted } }";
const FILES: &str =
    "query($id: ID!) { complaint(id: $id) { reporterRef attachments { id uploadedBy url } } }";

async fn erasing_a_reporter_deletes_the_files_they_sent(backend: Backend) {
    let (s3_env, bucket) = storage(backend).await;
    let settings: Vec<(&str, &str)> = s3_env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let env = Env::start_on(TestStore::create(backend).await, &settings).await;
    let server = &env.server;
    let objects = Objects::open(&location(server, &bucket)).unwrap();

    // The reporter sends a photo and a document; staff add one of their own;
    // another reporter sends the very same document on a case of theirs.
    let id = env.submit().await;
    let photo = upload(
        &env.citizen,
        json!({"complaintId": id}),
        phone_jpeg(6),
        "a.jpg",
    )
    .await;
    let photo = &photo["data"]["addAttachment"];
    let shared = pdf(2000);
    let document = upload(
        &env.citizen,
        json!({"complaintId": id}),
        shared.clone(),
        "b.pdf",
    )
    .await;
    let document = &document["data"]["addAttachment"];
    let staff = upload(&env.agent, json!({"complaintId": id}), pdf(3000), "c.pdf").await;
    let staff = &staff["data"]["addAttachment"];
    let neighbour = env.client("CITIZEN", None, "warga-2").await;
    let other = neighbour.ok(SUBMIT, json!({"input": report()})).await;
    let other_id = id_of(&other);
    let copy = upload(
        &neighbour,
        json!({"complaintId": other_id}),
        shared,
        "b.pdf",
    )
    .await;
    let copy = &copy["data"]["addAttachment"];
    let mut before = objects.list().await.unwrap();
    before.sort();
    assert_eq!(
        before.len(),
        4,
        "photo, thumbnail and two documents: {before:?}"
    );

    let case = env.supervisor.ok(FILES, json!({"id": id})).await;
    let reference = case["complaint"]["reporterRef"].as_str().unwrap();
    let input = json!({"input": {"reporterRef": reference, "reason": "Permintaan warga 9/2026"}});
    let done = env.supervisor.ok(ERASE, input.clone()).await;
    assert_eq!(
        done["eraseReporterData"]["filesDeleted"],
        json!(2),
        "the photo and its thumbnail; the document another case names stays: {done}"
    );
    assert_eq!(objects.list().await.unwrap().len(), 2);

    // The reporter's links refuse; staff's and the neighbour's still serve.
    for url in [&photo["url"], &photo["thumbnailUrl"], &document["url"]] {
        let refused = fetch(server, url.as_str().unwrap()).await;
        assert_eq!(refused.status(), 404, "{url}");
    }
    for url in [&staff["url"], &copy["url"]] {
        assert_eq!(fetch(server, url.as_str().unwrap()).await.status(), 200);
    }
    let listed = env.supervisor.ok(FILES, json!({"id": id})).await;
    let listed = listed["complaint"]["attachments"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(listed.len(), 1, "only staff's file is listed: {listed:?}");
    assert_eq!(listed[0]["uploadedBy"], json!("agent-1"));

    // A repeat deletes nothing more; storage and the log still agree.
    let again = env.supervisor.ok(ERASE, input).await;
    assert_eq!(again["eraseReporterData"]["filesDeleted"], json!(0));
    let args = check_args(&env, &bucket);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (ok, out, err) = try_cli(&args, &env.store.url).await;
    assert!(ok, "{out}{err}");
    assert!(out.contains(" 0 missing, 0 orphaned"), "{out}");

    // The log is untouched: its chain and checkpoints verify.
    env.supervisor
        .ok("mutation { signAuditCheckpoint { treeSize } }", json!({}))
        .await;
    let (ok, said, err) = try_cli(&["audit", "verify"], &env.store.url).await;
    assert!(ok && said.contains("intact"), "{said}{err}");
    env.finish().await;
}
