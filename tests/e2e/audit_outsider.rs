//! An outsider's verifier against the running server: tools/verify-audit/
//! verify.py, written in Python from docs/audit.md alone, fetches the key from
//! /.well-known/aduan-audit-key, the signed checkpoints, a case's inclusion
//! proofs and a consistency proof between two checkpoints over GraphQL, and
//! checks an exported bundle; it must agree with the server, and refuse each
//! tampered copy (a root, a signature, a proof node, an event).

use serde_json::{json, Value};

use crate::support::*;

const SIGN: &str = "mutation { signAuditCheckpoint { treeSize note } }";

const VERIFIER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tools/verify-audit/verify.py"
);

async fn python(args: &[&str]) -> (bool, String) {
    let out = tokio::process::Command::new("python3")
        .arg(VERIFIER)
        .args(args)
        .output()
        .await
        .expect("python3 (scripts/ensure-python-clients installs `cryptography`)");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// The note with its `line`-th line (0: origin, 2: root, 5: signature) edited
/// at character `at` from its end.
fn edit_note(note: &str, line: usize, at: usize) -> String {
    let mut lines: Vec<String> = note.split('\n').map(str::to_string).collect();
    let mut chars: Vec<char> = lines[line].chars().collect();
    let i = chars.len() - at;
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    lines[line] = chars.into_iter().collect();
    lines.join("\n")
}

fn flip_hex(v: &mut Value) {
    let text = v.as_str().unwrap();
    let first = if text.starts_with('0') { "1" } else { "0" };
    *v = json!(format!("{first}{}", &text[1..]));
}

on_both_stores!(an_outsiders_verifier_agrees_with_the_server_and_refuses_tampering);

async fn an_outsiders_verifier_agrees_with_the_server_and_refuses_tampering(backend: Backend) {
    let env = Env::start(backend).await;
    let id = env.assigned().await;
    env.submit().await;
    let signed = env.auditor.ok(SIGN, json!({})).await["signAuditCheckpoint"].clone();
    let old = signed["treeSize"].as_i64().unwrap();
    for _ in 0..3 {
        env.submit().await;
    }
    let new = env.auditor.ok(SIGN, json!({})).await["signAuditCheckpoint"]["treeSize"]
        .as_i64()
        .unwrap();
    assert!(new > old);

    let dir =
        std::env::temp_dir().join(format!("aduan-outsider-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = |name: &str| dir.join(name).to_str().unwrap().to_string();
    let token = env.server.token("AUDITOR", None, "auditor-1").await;
    // The auditor kept the first checkpoint's note.
    let (kept, evidence) = (path("kept.txt"), path("evidence.json"));
    std::fs::write(&kept, signed["note"].as_str().unwrap()).unwrap();
    let (ok, said) = python(&[
        "fetch",
        "--url",
        &env.server.base_url,
        "--token",
        &token,
        "--complaint",
        &id,
        "--kept",
        &kept,
        "--out",
        &evidence,
    ])
    .await;
    assert!(ok, "{said}");
    assert!(
        said.contains(&format!(
            "the tree of {old} is the beginning of the tree of {new}"
        )),
        "{said}"
    );
    let fetched: Value =
        serde_json::from_str(&std::fs::read_to_string(&evidence).unwrap()).unwrap();
    assert_eq!(fetched["proof"]["events"].as_array().unwrap().len(), 3);

    // Each tampered copy is refused.
    type Edit = fn(&mut Value);
    let edits: [(&str, Edit); 7] = [
        ("the kept checkpoint's root", |v| {
            let note = &mut v["kept"];
            *note = json!(edit_note(note.as_str().unwrap(), 2, 10));
        }),
        ("the root in the case's checkpoint", |v| {
            let note = &mut v["proof"]["checkpoint"]["note"];
            *note = json!(edit_note(note.as_str().unwrap(), 2, 10));
        }),
        ("a checkpoint's signature", |v| {
            let note = &mut v["checkpoints"][0]["note"];
            *note = json!(edit_note(note.as_str().unwrap(), 5, 20));
        }),
        ("an inclusion proof node", |v| {
            flip_hex(&mut v["proof"]["events"][1]["inclusionProof"][0])
        }),
        ("a consistency proof node", |v| {
            flip_hex(&mut v["consistency"]["proof"][0])
        }),
        ("an event's stored content", |v| {
            v["proof"]["events"][0]["metadata"]["actor_id"] = json!("someone-else")
        }),
        ("an event's recording time", |v| {
            let at = &mut v["proof"]["events"][2]["recordedAt"];
            let text = at.as_str().unwrap().to_string();
            let last = if text.ends_with("1Z") { "2Z" } else { "1Z" };
            *at = json!(format!("{}{last}", &text[..text.len() - 2]));
        }),
    ];
    for (what, edit) in edits {
        let mut copy = fetched.clone();
        edit(&mut copy);
        assert_ne!(copy, fetched, "{what}");
        let edited = path("edited.json");
        std::fs::write(&edited, serde_json::to_string(&copy).unwrap()).unwrap();
        let (ok, said) = python(&["evidence", &edited]).await;
        assert!(
            !ok && said.contains("REFUSED"),
            "{what} was accepted: {said}"
        );
    }
    let (ok, said) = python(&["evidence", &evidence]).await;
    assert!(ok, "the untouched evidence verifies offline: {said}");

    // The exported bundle, with the published key document.
    let key_doc = path("key.json");
    let key = crate::audit::key_document(&env).await;
    std::fs::write(&key_doc, key.to_string()).unwrap();
    let bundle = path("case.json");
    run_cli(
        &["audit", "export", "--complaint", &id, "--output", &bundle],
        &env.store.url,
    )
    .await;
    let (ok, said) = python(&["bundle", &bundle, "--key", &key_doc]).await;
    assert!(ok, "{said}");
    let bytes = std::fs::read(&bundle).unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    let unframed = path("unframed.json");
    std::fs::write(&unframed, text.trim_end_matches('\n')).unwrap();
    let (ok, said) = python(&["bundle", &unframed, "--key", &key_doc]).await;
    assert!(ok, "canonical JSON without the final newline: {said}");
    let edited = path("edited-case.json");
    for (what, from, to) in [
        ("an event's OPD", "\"opd\":\"DPU\"", "\"opd\":\"DLH\""),
        (
            "an event's type",
            "\"eventType\":\"Verified\"",
            "\"eventType\":\"Rejected\"",
        ),
        ("the spelling", "\"sequence\":1}", "\"sequence\": 1}"),
    ] {
        assert!(text.contains(from), "{what}: {from} in {text}");
        std::fs::write(&edited, text.replacen(from, to, 1)).unwrap();
        let (ok, said) = python(&["bundle", &edited, "--key", &key_doc]).await;
        assert!(
            !ok && said.contains("REFUSED"),
            "{what} was accepted: {said}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    env.finish().await;
}
