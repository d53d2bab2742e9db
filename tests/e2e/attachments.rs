//! Photos and documents end to end: uploads by GraphQL multipart request from
//! curl (`-F`), Python's gql client and reqwest, on PostgreSQL with S3 object storage (a real
//! S3 API server: scripts/ensure-s3) and on SQLite with the data directory.
//! What comes back has no EXIF (read with an EXIF reader), refused files leave
//! no object behind, a retry stores nothing twice, each role sees what the
//! access policy says, and links that expired, were altered or point at
//! another case are refused with a code.

use std::io::Cursor;
use std::time::Duration;

use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

use aduan_attachments::{Location, Objects};
use aduan_testkit::photos::{phone_jpeg, CAPTURED, SERIAL};
use aduan_testkit::s3::{self, S3_ENDPOINT};
use aduan_testkit::{GraphqlClient, TestServer, TestStore};

use crate::support::*;

on_both_stores!(photos_go_in_without_their_metadata_and_out_to_whom_may_see_them);

/// With ADUAN_ATTACHMENT_PRESIGNED_URLS, links are the S3 store's own: a
/// client fetches the file from the store, with the bytes kept.
#[tokio::test]
async fn s3_can_sign_the_links_itself() {
    let (s3_env, _) = storage(Backend::Postgres).await;
    let mut env: Vec<(&str, &str)> = s3_env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    env.push(("ADUAN_ATTACHMENT_PRESIGNED_URLS", "true"));
    let env = Env::start_on(TestStore::create(Backend::Postgres).await, &env).await;
    let id = env.submit().await;
    let document = pdf(8000);
    let body = upload(
        &env.citizen,
        json!({"complaintId": id}),
        document.clone(),
        "s.pdf",
    )
    .await;
    let url = body["data"]["addAttachment"]["url"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(url.starts_with(S3_ENDPOINT), "{url}");
    assert!(url.contains("X-Amz-Signature="), "{url}");
    let fetched = reqwest::get(&url).await.unwrap();
    assert_eq!(fetched.status(), 200);
    assert_eq!(fetched.bytes().await.unwrap().as_ref(), &document[..]);
    let listed = env.citizen.ok(ATTACHMENTS, json!({"id": id})).await;
    let again = listed["complaint"]["attachments"][0]["url"]
        .as_str()
        .unwrap();
    assert!(again.starts_with(S3_ENDPOINT), "{again}");
    env.finish().await;
}

const ADD: &str = "mutation($input: AddAttachmentInput!) { addAttachment(input: $input) { id complaintId mediaType size caption visibility uploadedBy url thumbnailUrl } }";
const SUBMIT_CODE: &str =
    "mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) { id trackingCode } }";
const ATTACHMENTS: &str = "query($id: ID!) { complaint(id: $id) { attachments { id visibility mediaType url thumbnailUrl } } }";
const TRACKED: &str = "query($code: String!) { trackedComplaint(trackingCode: $code) { attachments { id visibility url } } }";
const MAX_BYTES: usize = 300_000;

/// A PDF of about `n` bytes (kept as sent, so its bytes come back unchanged).
pub fn pdf(n: usize) -> Vec<u8> {
    let mut b = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n".to_vec();
    b.resize(n.saturating_sub(7), b'%');
    b.extend_from_slice(b"\n%%EOF\n");
    b
}

/// The server's settings for a fresh S3 bucket (on PostgreSQL; SQLite keeps
/// objects in the data directory), and the bucket.
pub(crate) async fn storage(backend: Backend) -> (Vec<(String, String)>, Option<String>) {
    if backend != Backend::Postgres {
        return (Vec::new(), None);
    }
    let bucket = s3::bucket().await;
    let env = vec![
        ("ADUAN_S3_BUCKET".into(), bucket.clone()),
        ("ADUAN_S3_ENDPOINT".into(), S3_ENDPOINT.into()),
        ("ADUAN_S3_ACCESS_KEY_ID".into(), "test".into()),
        ("ADUAN_S3_SECRET_ACCESS_KEY".into(), "test".into()),
    ];
    (env, Some(bucket))
}

/// Where the server keeps its objects.
pub(crate) fn location(server: &TestServer, bucket: &Option<String>) -> Location {
    match bucket {
        Some(bucket) => Location::S3 {
            bucket: bucket.clone(),
            endpoint: Some(S3_ENDPOINT.into()),
            region: "us-east-1".into(),
            access_key_id: "test".into(),
            secret_access_key: "test".into(),
        },
        None => Location::Directory(server.data_dir.join("attachments")),
    }
}

async fn objects(server: &TestServer, bucket: &Option<String>) -> usize {
    Objects::open(&location(server, bucket))
        .unwrap()
        .list()
        .await
        .unwrap()
        .len()
}

/// A GraphQL multipart request (reqwest's multipart form): `files` fill the
/// variables at their paths (which `variables` holds as null).
pub async fn send_files(
    client: &GraphqlClient,
    query: &str,
    variables: Value,
    files: Vec<(&str, Vec<u8>, &str)>,
) -> Value {
    let operations = json!({"query": query, "variables": variables});
    let map: serde_json::Map<String, Value> = files
        .iter()
        .enumerate()
        .map(|(i, (path, _, _))| (i.to_string(), json!([path])))
        .collect();
    let mut form = Form::new()
        .text("operations", operations.to_string())
        .text("map", Value::Object(map).to_string());
    for (i, (_, bytes, name)) in files.into_iter().enumerate() {
        form = form.part(
            i.to_string(),
            Part::bytes(bytes).file_name(name.to_string()),
        );
    }
    let mut request = reqwest::Client::new().post(&client.url).multipart(form);
    if !client.token.is_empty() {
        request = request.bearer_auth(&client.token);
    }
    request.send().await.unwrap().json().await.unwrap()
}

/// Uploads `bytes` as `addAttachment`'s file.
pub async fn upload(client: &GraphqlClient, mut input: Value, bytes: Vec<u8>, name: &str) -> Value {
    input["file"] = Value::Null;
    let files = vec![("variables.input.file", bytes, name)];
    send_files(client, ADD, json!({"input": input}), files).await
}

/// The same with curl `-F`, as docs/api.md shows.
async fn curl_upload(client: &GraphqlClient, input: Value, path: &std::path::Path) -> Value {
    let mut input = input;
    input["file"] = Value::Null;
    let operations = json!({"query": ADD, "variables": {"input": input}}).to_string();
    let out = tokio::process::Command::new("curl")
        .args([
            "-sS",
            &client.url,
            "-H",
            &format!("Authorization: Bearer {}", client.token),
        ])
        .args(["-F", &format!("operations={operations}")])
        .args(["-F", r#"map={"0":["variables.input.file"]}"#])
        .args(["-F", &format!("0=@{}", path.display())])
        .output()
        .await
        .expect("curl runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("a JSON answer")
}

/// `addAttachment` sent by Python's gql (tests/e2e/fixtures/clients/gql_upload.py).
async fn gql_upload(client: &GraphqlClient, complaint: &str, path: &std::path::Path) -> Value {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/e2e/fixtures/clients/gql_upload.py"
    );
    let out = tokio::process::Command::new("python3")
        .args([script, &client.url, &client.token, complaint])
        .arg(path)
        .output()
        .await
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "gql upload failed (install it with scripts/ensure-python-clients): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("gql printed JSON")
}

pub(crate) async fn fetch(server: &TestServer, url: &str) -> reqwest::Response {
    reqwest::get(format!("{}{url}", server.base_url))
        .await
        .unwrap()
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
}

async fn photos_go_in_without_their_metadata_and_out_to_whom_may_see_them(backend: Backend) {
    let (s3_env, bucket) = storage(backend).await;
    let mut env: Vec<(&str, &str)> = s3_env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let max = MAX_BYTES.to_string();
    env.push(("ADUAN_ATTACHMENT_MAX_BYTES", &max));
    env.push(("ADUAN_ATTACHMENT_LINK_SECONDS", "4"));
    let store = TestStore::create(backend).await;
    let env = Env::start_on(store, &env).await;
    let server = &env.server;

    // A citizen reports, then attaches a phone photo with curl.
    let case = env
        .citizen
        .ok(SUBMIT_CODE, json!({"input": report()}))
        .await["submitComplaint"]
        .clone();
    let id = case["id"].as_str().unwrap().to_string();
    let code_ = case["trackingCode"].as_str().unwrap().to_string();
    let photo = phone_jpeg(6);
    let path = server.data_dir.join("lubang.jpg");
    std::fs::write(&path, &photo).unwrap();
    let body = curl_upload(
        &env.citizen,
        json!({"complaintId": id, "caption": "Lubang"}),
        &path,
    )
    .await;
    let added = &body["data"]["addAttachment"];
    assert_eq!(added["mediaType"], "image/jpeg", "{body}");
    assert_eq!(added["visibility"], "PUBLIC", "the reporter's own evidence");
    assert_eq!(added["uploadedBy"], "CITIZEN");
    assert_eq!(
        objects(server, &bucket).await,
        2,
        "the photo and its thumbnail"
    );

    // What comes back: upright, no EXIF, no serial, no time.
    let kept = fetch(server, added["url"].as_str().unwrap()).await;
    assert_eq!(kept.status(), 200);
    assert_eq!(kept.headers()["content-type"], "image/jpeg");
    assert_eq!(kept.headers()["x-content-type-options"], "nosniff");
    let kept = kept.bytes().await.unwrap().to_vec();
    assert!(
        exif::Reader::new()
            .read_from_container(&mut Cursor::new(&kept))
            .is_err(),
        "EXIF survived"
    );
    assert!(!kept.windows(SERIAL.len()).any(|w| w == SERIAL));
    assert!(!kept.windows(CAPTURED.len()).any(|w| w == CAPTURED));
    let picture = image::load_from_memory(&kept).unwrap();
    assert_eq!(
        (picture.width(), picture.height()),
        (20, 40),
        "turned upright"
    );
    let thumb = fetch(server, added["thumbnailUrl"].as_str().unwrap()).await;
    assert_eq!(thumb.status(), 200);
    assert!(image::load_from_memory(&thumb.bytes().await.unwrap()).is_ok());

    // The same from a GraphQL client library: Python's gql.
    let document = pdf(3000);
    let path = server.data_dir.join("surat.pdf");
    std::fs::write(&path, &document).unwrap();
    let by_gql = gql_upload(&env.citizen, &id, &path).await;
    let url = by_gql["addAttachment"]["url"].as_str().unwrap();
    assert_eq!(
        fetch(server, url).await.bytes().await.unwrap().as_ref(),
        &document[..]
    );

    // An officer's document, by reqwest: its bytes come back exactly; staff's
    // files are INTERNAL unless they say otherwise. A retry stores nothing twice.
    let id_case = env.assigned().await;
    let document = pdf(50_000);
    let input = json!({"complaintId": id_case, "commandId": "pdf-1", "caption": "Berita acara"});
    let first = upload(&env.dpu_officer, input.clone(), document.clone(), "ba.pdf").await;
    let again = upload(&env.dpu_officer, input, document.clone(), "ba.pdf").await;
    let first = &first["data"]["addAttachment"];
    assert_eq!(first["visibility"], "INTERNAL", "{first}");
    assert_eq!(again["data"]["addAttachment"]["id"], first["id"], "{again}");
    let kinds = env.event_types(&id_case).await;
    assert_eq!(
        kinds.iter().filter(|k| *k == "AttachmentAdded").count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(
        objects(server, &bucket).await,
        4,
        "two PDFs more: gql\'s and this one"
    );
    let back = fetch(server, first["url"].as_str().unwrap())
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(back.as_ref(), &document[..]);
    assert_eq!(first["thumbnailUrl"], Value::Null);

    // Refused: not an accepted type, too large, an INTERNAL file from a citizen.
    // Nothing is stored for any of them.
    let gif = b"GIF89a\x01\0\x01\0\x80\0\0\0\0\0\xff\xff\xff!\xf9\x04\0\0\0\0\0,\0\0\0\0\x01\0\x01\0\0\x02\x02D\x01\0;".to_vec();
    let refused = upload(&env.citizen, json!({"complaintId": id}), gif, "photo.jpg").await;
    assert_eq!(code(&refused), "INVALID_INPUT", "{refused}");
    let refused = upload(
        &env.citizen,
        json!({"complaintId": id}),
        pdf(MAX_BYTES + 1000),
        "big.pdf",
    )
    .await;
    assert_eq!(code(&refused), "INVALID_INPUT", "{refused}");
    let internal = json!({"complaintId": id, "visibility": "INTERNAL"});
    let refused = upload(&env.citizen, internal, pdf(1000), "x.pdf").await;
    assert_eq!(code(&refused), "INVALID_INPUT", "{refused}");
    let refused = upload(
        &env.dlh_officer,
        json!({"complaintId": id_case}),
        pdf(1000),
        "x.pdf",
    )
    .await;
    assert_eq!(code(&refused), "FORBIDDEN", "{refused}");
    assert_eq!(
        objects(server, &bucket).await,
        4,
        "a refused file leaves nothing behind"
    );

    // Without an account, with the tracking code; then what each one sees.
    let public = server.client("");
    let by_code = json!({"complaintId": id, "trackingCode": code_});
    let body = upload(&public, by_code, pdf(2000), "foto.pdf").await;
    assert_eq!(
        body["data"]["addAttachment"]["uploadedBy"], "PUBLIC",
        "{body}"
    );
    let staff_note = json!({"complaintId": id, "visibility": "INTERNAL"});
    let body = upload(&env.agent, staff_note, pdf(3000), "catatan.pdf").await;
    assert_eq!(
        body["data"]["addAttachment"]["visibility"], "INTERNAL",
        "{body}"
    );
    let seen = |data: &Value, path: &str| -> Vec<String> {
        data.pointer(path)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|x| x["visibility"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let as_agent = env.agent.ok(ATTACHMENTS, json!({"id": id})).await;
    assert_eq!(
        seen(&as_agent, "/complaint/attachments"),
        ["PUBLIC", "PUBLIC", "PUBLIC", "INTERNAL"]
    );
    let as_citizen = env.citizen.ok(ATTACHMENTS, json!({"id": id})).await;
    assert_eq!(
        seen(&as_citizen, "/complaint/attachments"),
        ["PUBLIC", "PUBLIC", "PUBLIC"]
    );
    let tracked = public.ok(TRACKED, json!({"code": code_})).await;
    assert_eq!(
        seen(&tracked, "/trackedComplaint/attachments"),
        ["PUBLIC", "PUBLIC", "PUBLIC"]
    );
    let analyst = env.analyst().await.ok(ATTACHMENTS, json!({"id": id})).await;
    assert_eq!(
        seen(&analyst, "/complaint/attachments"),
        Vec::<String>::new()
    );
    let dlh = env
        .dlh_officer
        .query(ATTACHMENTS, json!({"id": id_case}))
        .await;
    assert_eq!(code(&dlh), "FORBIDDEN", "{dlh}");

    // Links: altered, moved to another case, expired.
    let url = as_agent["complaint"]["attachments"][3]["url"]
        .as_str()
        .unwrap()
        .to_string();
    let altered = url.replace("signature=", "signature=A");
    let answer = fetch(server, &altered).await;
    assert_eq!(answer.status(), 403);
    assert_eq!(code(&answer.json().await.unwrap()), "FORBIDDEN");
    let moved = url.replace(&id, &id_case);
    let answer = fetch(server, &moved).await;
    assert_eq!(answer.status(), 403);
    assert_eq!(fetch(server, &url).await.status(), 200);
    tokio::time::sleep(Duration::from_secs(5)).await;
    let answer = fetch(server, &url).await;
    assert_eq!(answer.status(), 403);
    assert_eq!(code(&answer.json().await.unwrap()), "LINK_EXPIRED");

    files_ride_on_commands(&env, &bucket).await;
    storage_is_checked(&env, &bucket).await;
    env.finish().await;
}

/// Files sent with a report and with a response: each an `AttachmentAdded`
/// right after its command's event, in the same append; a refused command
/// stores none.
async fn files_ride_on_commands(env: &Env, bucket: &Option<String>) {
    let before = objects(&env.server, bucket).await;
    let mut report = report();
    report["files"] = json!([{"file": null, "caption": "Dari depan"}]);
    let submitted = send_files(
        &env.citizen,
        "mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) { id attachments { visibility mediaType } } }",
        json!({"input": report}),
        vec![("variables.input.files.0.file", phone_jpeg(1), "a.jpg")],
    )
    .await;
    let case = &submitted["data"]["submitComplaint"];
    assert_eq!(
        case["attachments"][0]["visibility"], "PUBLIC",
        "{submitted}"
    );
    let id = case["id"].as_str().unwrap().to_string();
    assert_eq!(env.event_types(&id).await, ["Submitted", "AttachmentAdded"]);

    env.agent.ok(MUTATE_VERIFY, input(&id, json!({}))).await;
    env.agent
        .ok(MUTATE_ASSIGN, input(&id, json!({"opd": "DPU"})))
        .await;
    let respond = "mutation($input: RespondToComplaintInput!) { respondToComplaint(input: $input) { attachments { visibility } } }";
    let two = json!({"complaintId": id, "message": "Sudah ditambal.", "commandId": "respond-1", "files": [
        {"file": null, "caption": "Sesudah", "visibility": "PUBLIC"}, {"file": null}]});
    let files = vec![
        ("variables.input.files.0.file", pdf(4000), "sesudah.pdf"),
        ("variables.input.files.1.file", pdf(5000), "ba.pdf"),
    ];
    let refused = send_files(
        &env.dlh_officer,
        respond,
        json!({"input": two.clone()}),
        files.clone(),
    )
    .await;
    assert_eq!(code(&refused), "FORBIDDEN", "{refused}");
    assert_eq!(
        objects(&env.server, bucket).await,
        before + 2,
        "the report's photo and thumbnail only"
    );
    let answered = send_files(
        &env.dpu_officer,
        respond,
        json!({"input": two.clone()}),
        files.clone(),
    )
    .await;
    // A retry: the same answer, nothing appended or stored twice.
    let again = send_files(&env.dpu_officer, respond, json!({"input": two}), files).await;
    assert_eq!(again, answered);
    let seen = &answered["data"]["respondToComplaint"]["attachments"];
    assert_eq!(
        seen,
        &json!([{"visibility": "PUBLIC"}, {"visibility": "PUBLIC"}, {"visibility": "INTERNAL"}]),
        "{answered}"
    );
    let kinds = env.event_types(&id).await;
    assert_eq!(
        kinds[kinds.len() - 3..],
        ["Responded", "AttachmentAdded", "AttachmentAdded"]
    );
    assert_eq!(objects(&env.server, bucket).await, before + 4);
}

/// `aduan attachments check` against the same storage: all present; then an
/// object gone missing (exit status 1) and an orphan, which
/// `--delete-orphans` removes.
/// `aduan attachments check` with the server's storage.
pub(crate) fn check_args(env: &Env, bucket: &Option<String>) -> Vec<String> {
    let dir = env.server.data_dir.join("attachments");
    let mut args: Vec<String> = vec!["attachments".into(), "check".into()];
    match bucket {
        Some(bucket) => args.extend(
            ["--s3-bucket", bucket, "--s3-endpoint", S3_ENDPOINT]
                .map(str::to_string)
                .into_iter()
                .chain([
                    "--s3-access-key-id=test".into(),
                    "--s3-secret-access-key=test".into(),
                ]),
        ),
        None => args.extend(["--attachments-dir".to_string(), dir.display().to_string()]),
    }
    args
}

async fn storage_is_checked(env: &Env, bucket: &Option<String>) {
    let args = check_args(env, bucket);
    let check = |extra: &'static [&'static str]| {
        let mut all: Vec<String> = args.clone();
        all.extend(extra.iter().map(|s| s.to_string()));
        let url = env.store.url.clone();
        async move {
            let refs: Vec<&str> = all.iter().map(String::as_str).collect();
            try_cli(&refs, &url).await
        }
    };
    let (ok, out, err) = check(&[]).await;
    assert!(ok, "{out}{err}");
    assert!(out.contains(" 0 missing, 0 orphaned"), "{out}");

    let objects = Objects::open(&location(&env.server, bucket)).unwrap();
    let orphan = objects
        .put(b"stored, then the command failed".to_vec())
        .await
        .unwrap();
    let first = objects
        .list()
        .await
        .unwrap()
        .into_iter()
        .find(|h| *h != orphan)
        .unwrap();
    let kept = objects.get(&first).await.unwrap().unwrap();
    objects.delete(&first).await.unwrap();
    let (ok, out, _) = check(&[]).await;
    assert!(!ok, "a missing object fails the check: {out}");
    assert!(out.contains(&format!("missing  {first}")), "{out}");
    assert!(out.contains(&format!("orphaned {orphan}")), "{out}");
    objects.put(kept.to_vec()).await.unwrap();
    let (ok, out, err) = check(&["--delete-orphans", "--orphan-minutes", "0"]).await;
    assert!(ok, "{out}{err}");
    assert!(out.contains("1 orphaned, 1 deleted"), "{out}");
    assert!(!objects.list().await.unwrap().contains(&orphan));
}
