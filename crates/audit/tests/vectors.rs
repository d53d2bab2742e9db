//! docs/audit-vectors.json, the test vectors an outside verifier checks itself
//! against (docs/audit.md), regenerated from the code and compared with the
//! file: the test fails when code and file disagree. `UPDATE_VECTORS=1`
//! rewrites the file (review the diff: a changed hash breaks every verifier).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test: a failure is a panic"
)]

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};

use aduan_audit::bundle::{Bundle, BundledEvent, FORMAT};
use aduan_audit::chain::{self, canonical_json, EventContent, GENESIS};
use aduan_audit::checkpoint::LogSigner;
use aduan_audit::consistency::{consistency_proof, verify_consistency};
use aduan_audit::merkle::{inclusion_proof, root, verify_inclusion, Hash};

const FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/audit-vectors.json");

/// The published TEST key: seed 00 01 02 .. 1f. Never sign a real log with it.
fn signer() -> LogSigner {
    let seed: [u8; 32] = std::array::from_fn(|i| i as u8);
    LogSigner {
        origin: "aduan.test/audit".into(),
        name: "aduan.test/audit".into(),
        key: SigningKey::from_bytes(&seed),
    }
}

fn time(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn hexes(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(hex::encode).collect()
}

/// (complaint, eventType, payload, metadata, recordedAt) of a small log.
fn log() -> Vec<(&'static str, &'static str, Value, Value, &'static str)> {
    let actor = |id: &str| json!({"actor_id": id, "actor_role": "AGENT", "command_id": format!("cmd-{id}")});
    vec![
        (
            "c-1",
            "Submitted",
            json!({"Submitted": {"title": "Jalan berlubang", "location": {"latitude": -5.1551, "longitude": 119.4239}, "reporter": {"ciphertext": "AAEC", "key_id": "k-1"}}}),
            actor("a1"),
            "2026-11-30T01:00:00.000000Z",
        ),
        (
            "c-1",
            "Verified",
            json!({"Verified": {"opd": "DPU", "note": "Sudah dicek \"lapangan\"\n\u{1}"}}),
            actor("a2"),
            "2026-11-30T01:05:00.590000Z",
        ),
        (
            "c-2",
            "Submitted",
            json!({"Submitted": {"title": "Sampah menumpuk", "location": {"latitude": -5.2, "longitude": 119.0}, "é": 1, "A": [true, null, 2.5]}}),
            actor("a1"),
            "2026-11-30T01:06:07.123456Z",
        ),
        (
            "c-1",
            "Assigned",
            json!({"Assigned": {"officer": "petugas-1"}}),
            actor("a3"),
            "2026-11-30T02:00:00.000001Z",
        ),
        (
            "c-2",
            "Verified",
            json!({"Verified": {"opd": "DLH", "\u{fb01}": 1, "\u{10000}": 2}}),
            actor("a2"),
            "2026-11-30T02:10:00.000000Z",
        ),
        (
            "c-3",
            "Submitted",
            json!({"Submitted": {"title": "Lampu mati", "count": 0}}),
            json!({}),
            "2026-11-30T03:00:00.250000Z",
        ),
        (
            "c-1",
            "Responded",
            json!({"Responded": {"text": "Diperbaiki besok"}}),
            actor("a4"),
            "2026-11-30T04:00:00.000000Z",
        ),
    ]
}

struct Built {
    events: Vec<Value>,
    bundled: Vec<BundledEvent>,
    leaves: Vec<Hash>,
}

fn build() -> Built {
    let mut heads: std::collections::HashMap<&str, (i64, String)> = Default::default();
    let (mut events, mut bundled, mut leaves) = (Vec::new(), Vec::new(), Vec::new());
    for (i, (complaint, event_type, payload, metadata, recorded)) in log().into_iter().enumerate() {
        let position = i as i64 + 1;
        let (last, prev) = heads.get(complaint).cloned().unwrap_or((0, GENESIS.into()));
        let sequence = last + 1;
        let content = EventContent {
            complaint,
            sequence,
            event_type,
            event_version: "1",
            payload: &payload,
            metadata: &metadata,
        };
        let hashed = json!({"complaint": complaint, "eventType": event_type, "eventVersion": "1",
            "metadata": metadata, "payload": payload, "prev": prev, "sequence": sequence});
        let hash = chain::event_hash(&content, &prev);
        assert_eq!(
            hash,
            hex::encode(sha2_256(canonical_json(&hashed).as_bytes()))
        );
        let at = time(recorded);
        assert_eq!(chain::timestamp(at), recorded);
        let leaf_object = json!({"hash": hash, "position": position, "recordedAt": recorded});
        let leaf = chain::leaf(position, at, &hash);
        leaves.push(leaf);
        events.push(json!({
            "position": position, "complaint": complaint, "sequence": sequence,
            "eventType": event_type, "eventVersion": "1", "payload": payload, "metadata": metadata,
            "recordedAt": recorded, "prevHash": prev,
            "hashedObject": canonical_json(&hashed), "hash": hash,
            "leafObject": canonical_json(&leaf_object), "leafHash": hex::encode(leaf),
        }));
        if complaint == "c-1" {
            bundled.push(BundledEvent {
                position,
                sequence,
                event_type: event_type.into(),
                event_version: "1".into(),
                payload: payload.clone(),
                metadata: metadata.clone(),
                recorded_at: recorded.into(),
                prev_hash: prev.clone(),
                hash: hash.clone(),
                leaf_index: i as u64,
                proof: Vec::new(),
            });
        }
        heads.insert(complaint, (sequence, hash));
    }
    Built {
        events,
        bundled,
        leaves,
    }
}

fn sha2_256(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).into()
}

fn canonical_examples() -> Value {
    let inputs = [
        r#"{"b": [1, {"z": null, "a": true}], "a": "x\ny", "é": 1.5, "A": -0, "c": 119.0}"#,
        r#"{"\ufb01": 1, "\ud800\udc00": 2, "": 0}"#,
        r#"["\u0001\u001f\"\\/", "é€𝄞", "\t\b\f\r"]"#,
        r#"[0.000001, 1.234e-6, 1e-7, 0.1, 100.5, 1e20, 123456789012.25, -5.1551, 119.4239, 1.5e300]"#,
        r#"[9007199254740993, -42, 0, 1E2, 2.50]"#,
        r#"[0.00001, 0.0000123, 1e21, 1e300, 123e-20, -1.5e-9, 5e-324]"#,
        r#"[123456789012345678901.0, -0.0, 9007199254740993.0]"#,
    ];
    Value::Array(
        inputs
            .iter()
            .map(|text| {
                let value: Value = serde_json::from_str(text).unwrap();
                json!({"input": text, "canonical": canonical_json(&value)})
            })
            .collect(),
    )
}

fn vectors() -> Value {
    let Built {
        events,
        mut bundled,
        leaves,
    } = build();
    let n = leaves.len();
    let roots: Vec<Value> = (0..=n)
        .map(|s| json!({"size": s, "root": hex::encode(root(&leaves[..s]))}))
        .collect();
    let mut inclusion = Vec::new();
    for size in 1..=n {
        for index in 0..size {
            let proof = inclusion_proof(index, &leaves[..size]);
            assert!(verify_inclusion(
                index as u64,
                size as u64,
                &leaves[index],
                &proof,
                &root(&leaves[..size])
            ));
            inclusion.push(json!({"index": index, "size": size, "proof": hexes(&proof)}));
        }
    }
    let mut consistency = Vec::new();
    for to in 1..=n {
        for from in 1..=to {
            let proof = consistency_proof(from as u64, &leaves[..to]);
            assert!(verify_consistency(
                from as u64,
                to as u64,
                &root(&leaves[..from]),
                &root(&leaves[..to]),
                &proof
            ));
            consistency.push(json!({"from": from, "to": to, "proof": hexes(&proof)}));
        }
    }
    let signer = signer();
    let signed_at = time("2026-11-30T04:05:00.000000Z");
    let checkpoint_size = 5;
    let old_note = signer.sign(
        checkpoint_size,
        root(&leaves[..checkpoint_size as usize]),
        time("2026-11-30T02:15:00.000000Z"),
    );
    let note = signer.sign(n as u64, root(&leaves), signed_at);
    for e in &mut bundled {
        e.proof = hexes(&inclusion_proof(e.leaf_index as usize, &leaves));
    }
    let bundle = Bundle {
        format: FORMAT.into(),
        complaint_id: "c-1".into(),
        exported_at: time("2026-11-30T04:06:00Z"),
        checkpoint: note.clone(),
        events: bundled,
        signature: String::new(),
    }
    .seal(&signer);
    Bundle::verify(&bundle, &signer.verifier()).unwrap();
    let verifier = signer.verifier();
    json!({
        "about": "Test vectors for docs/audit.md, checked against the code by crates/audit/tests/vectors.rs. The key is a published TEST key: never trust a checkpoint signed with it.",
        "testKey": {
            "seedHex": hex::encode(signer.key.to_bytes()),
            "origin": signer.origin,
            "keyName": verifier.name,
            "keyId": hex::encode(verifier.key_id()),
            "publicKey": STANDARD.encode(verifier.key.as_bytes()),
            "verifierKey": verifier.encode(),
        },
        "canonicalJson": canonical_examples(),
        "events": events,
        "roots": roots,
        "inclusion": inclusion,
        "consistency": consistency,
        "checkpoints": [
            {"size": checkpoint_size, "signedBody": old_note.split_once("\n\n").unwrap().0.to_string() + "\n", "note": old_note},
            {"size": n, "signedBody": note.split_once("\n\n").unwrap().0.to_string() + "\n", "note": note},
        ],
        "bundle": {"complaintId": "c-1", "file": String::from_utf8(bundle).unwrap()},
    })
}

#[test]
fn the_vector_file_is_what_the_code_computes() {
    let computed = vectors();
    let text = serde_json::to_string_pretty(&computed).unwrap() + "\n";
    if std::env::var_os("UPDATE_VECTORS").is_some() {
        std::fs::write(FILE, &text).unwrap();
        return;
    }
    let stored: Value = serde_json::from_str(
        &std::fs::read_to_string(FILE)
            .expect("docs/audit-vectors.json (UPDATE_VECTORS=1 writes it)"),
    )
    .unwrap();
    assert!(
        stored == computed,
        "docs/audit-vectors.json differs from what the code computes; if the change is \
         intended (it breaks every outside verifier), rerun with UPDATE_VECTORS=1"
    );
}

const VERIFIER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tools/verify-audit/verify.py"
);

fn python_verifier(args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new("python3")
        .arg(VERIFIER)
        .args(args)
        .output()
        .expect("python3 (scripts/ensure-python-clients installs its `cryptography`)");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// The verifier written from docs/audit.md alone agrees with every vector,
/// and refuses a vector file with one hash changed.
#[test]
fn the_independent_python_verifier_agrees_with_the_vectors() {
    let (ok, said) = python_verifier(&["vectors", FILE]);
    assert!(ok, "{said}");
    let text = std::fs::read_to_string(FILE).unwrap();
    let dir = std::env::temp_dir().join(format!("aduan-vectors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    type Edit = fn(&mut Value);
    let edits: [(&str, Edit); 5] = [
        ("a leaf hash", |v| {
            v["events"][2]["leafHash"] = json!("00".repeat(32))
        }),
        ("a consistency node", |v| {
            let p = &mut v["consistency"][10]["proof"][0];
            *p = json!(flip(p.as_str().unwrap()));
        }),
        ("a checkpoint's root", |v| {
            let note = v["checkpoints"][1]["note"]
                .as_str()
                .unwrap()
                .replacen("\n7\nC", "\n7\nD", 1);
            v["checkpoints"][1]["note"] = json!(note);
        }),
        ("a bundle's event", |v| {
            let file = v["bundle"]["file"].as_str().unwrap().replacen(
                "Jalan berlubang",
                "Jalan berlubanG",
                1,
            );
            v["bundle"]["file"] = json!(file);
        }),
        // The same signature bytes spelled with a non-zero unused bit.
        ("a bundle signature's base64 spelling", |v| {
            v["bundle"]["file"] = json!(respell_signature(v["bundle"]["file"].as_str().unwrap()));
        }),
    ];
    for (what, edit) in edits {
        let mut copy = v.clone();
        edit(&mut copy);
        assert_ne!(copy, v, "{what} was edited");
        let path = dir.join("edited.json");
        std::fs::write(&path, serde_json::to_string(&copy).unwrap()).unwrap();
        let (ok, said) = python_verifier(&["vectors", path.to_str().unwrap()]);
        assert!(!ok && said.contains("REFUSED"), "{what}: {said}");
    }
    v["about"] = json!("unchanged otherwise");
    let path = dir.join("same.json");
    std::fs::write(&path, serde_json::to_string(&v).unwrap()).unwrap();
    assert!(python_verifier(&["vectors", path.to_str().unwrap()]).0);
    let _ = std::fs::remove_dir_all(&dir);
}

fn flip(hex_text: &str) -> String {
    let mut bytes = hex::decode(hex_text).unwrap();
    bytes[0] ^= 1;
    hex::encode(bytes)
}

/// `file` with its `"signature":"…X=="` spelled `…Y==`, where Y is X plus one
/// in the base64 alphabet: the same bytes, non-canonical base64.
fn respell_signature(file: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let start = file.find("\"signature\":\"").unwrap() + "\"signature\":\"".len();
    let end = start + file[start..].find('"').unwrap();
    let mut sig = file.as_bytes()[start..end].to_vec();
    assert!(
        sig.ends_with(b"=="),
        "an Ed25519 signature's base64 ends in =="
    );
    let at = sig.len() - 3;
    let value = ALPHABET.iter().position(|&c| c == sig[at]).unwrap();
    assert_eq!(value & 0x0f, 0, "canonical: the unused bits are zero");
    sig[at] = ALPHABET[value + 1];
    format!(
        "{}{}{}",
        &file[..start],
        String::from_utf8(sig).unwrap(),
        &file[end..]
    )
}
