//! The per-complaint hash chain and the log's Merkle leaves (docs/audit.md).
//!
//! An event's hash is SHA-256 over one canonical JSON object holding everything
//! stored about it except where and when the database put it: the complaint,
//! its sequence, type, version, payload and metadata exactly as stored (so, for
//! personal data, the ciphertext), and the previous event's hash. Its Merkle
//! leaf adds what the database assigned: the global position and the recording
//! time. So an edit of any stored field changes a hash, a missing or moved
//! event breaks a chain, and a moved position or time changes a leaf.
//!
//! Why `canonical_json` is hand-written (issue 21, item 10): serde_json_canonicalizer
//! 0.3 was tried on this module's vectors and agrees on all of them, but it
//! spells numbers as ECMAScript does where serde_json does not: 0.000001 and
//! 1.234e-6 (serde_json `1e-6`, `1.234e-6`) and integers past 2^53 (rounded to a
//! double). An event already stored with such a number (a latitude near the
//! equator) would hash differently and stop verifying, so the spelling stays
//! serde_json's, as docs/audit.md documents, and a test below pins it.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::merkle::{self, Hash};

/// The previous hash of a complaint's first event.
pub const GENESIS: &str = "";

/// What an event's hash covers, as stored.
#[derive(Debug, Clone, Copy)]
pub struct EventContent<'a> {
    pub complaint: &'a str,
    pub sequence: i64,
    pub event_type: &'a str,
    pub event_version: &'a str,
    pub payload: &'a Value,
    pub metadata: &'a Value,
}

/// Hex SHA-256 of the event's canonical content chained to `prev` (the
/// complaint's previous event's hash, `GENESIS` for its first).
pub fn event_hash(content: &EventContent, prev: &str) -> String {
    // The canonical form of {complaint, eventType, eventVersion, metadata,
    // payload, prev, sequence}, written member by member in their sorted
    // order rather than built as a document (a verifier hashes millions).
    let mut out = String::with_capacity(512);
    out.push_str("{\"complaint\":");
    write_string(content.complaint, &mut out);
    out.push_str(",\"eventType\":");
    write_string(content.event_type, &mut out);
    out.push_str(",\"eventVersion\":");
    write_string(content.event_version, &mut out);
    out.push_str(",\"metadata\":");
    write_canonical(content.metadata, &mut out);
    out.push_str(",\"payload\":");
    write_canonical(content.payload, &mut out);
    out.push_str(",\"prev\":");
    write_string(prev, &mut out);
    out.push_str(",\"sequence\":");
    out.push_str(&content.sequence.to_string());
    out.push('}');
    hex::encode(Sha256::digest(out))
}

/// A recording time as the leaf hashes it and as every API serves it: RFC
/// 3339 in UTC with exactly six fractional digits and `Z`
/// (`2026-11-30T02:15:00.590000Z`).
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The Merkle leaf of the event at `position`, recorded at `recorded_at`,
/// whose chain hash is `hash`.
pub fn leaf(position: i64, recorded_at: DateTime<Utc>, hash: &str) -> Hash {
    let document = serde_json::json!({
        "position": position,
        "recordedAt": timestamp(recorded_at),
        "hash": hash,
    });
    merkle::leaf_hash(canonical_json(&document).as_bytes())
}

/// RFC 8785 (JSON Canonicalization Scheme) for the values aduan stores: no
/// whitespace, object members sorted by their names' UTF-16 code units,
/// strings escaped as JSON requires and nothing more, numbers as serde_json
/// prints them (the same as JCS for integers and for the short decimals
/// events carry, such as coordinates).
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::with_capacity(256);
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push('{');
            for (i, (name, member)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(name, out);
                out.push(':');
                write_canonical(member, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::String(s) => write_string(s, out),
        Value::Number(n) => write_number(n, out),
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// Integers as they are; a float with no fraction as an integer (-0 as 0), as
/// ECMAScript prints it; other floats as their shortest round-trip form.
fn write_number(n: &serde_json::Number, out: &mut String) {
    match n.as_f64().filter(|_| n.is_f64()) {
        Some(f) if f.fract() == 0.0 && f.abs() < 1e21 => {
            // `+ 0.0` turns -0 into 0.
            out.push_str(&format!("{:.0}", f + 0.0))
        }
        _ => out.push_str(&n.to_string()),
    }
}

#[allow(clippy::expect_used, reason = "a string always serializes to JSON")]
fn write_string(s: &str, out: &mut String) {
    // serde_json escapes exactly what JCS does: quote, backslash, control
    // characters (\b \f \n \r \t short, the rest as \u00XX).
    out.push_str(&serde_json::to_string(s).expect("a string serializes"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_json_sorts_members_and_drops_whitespace() {
        let v: Value = serde_json::from_str(
            r#"{ "b": [1, {"z": null, "a": true}], "a": "x\ny", "é": 1.5, "A": -0, "c": 119.0,
                 "d": 1e21, "e": -5.1551 }"#,
        )
        .unwrap();
        assert_eq!(
            canonical_json(&v),
            r#"{"A":0,"a":"x\ny","b":[1,{"a":true,"z":null}],"c":119,"d":1e+21,"e":-5.1551,"é":1.5}"#
        );
    }

    #[test]
    fn members_sort_by_utf16_code_units_as_rfc_8785_says() {
        // U+10000 (a surrogate pair, D800 DC00) sorts before U+FB01 in UTF-16
        // though after it in UTF-8: RFC 8785 section 3.2.3.
        let v = json!({"\u{fb01}": 1, "\u{10000}": 2});
        assert_eq!(canonical_json(&v), "{\"\u{10000}\":2,\"\u{fb01}\":1}");
    }

    #[test]
    fn numbers_keep_the_spelling_stored_hashes_were_made_with() {
        // Where RFC 8785's ECMAScript spelling differs (0.000001, 9007199254740992):
        // changing either would break the hashes of events already stored.
        let v: Value = serde_json::from_str("[0.000001, 1.234e-6, 9007199254740993]").unwrap();
        assert_eq!(canonical_json(&v), "[1e-6,1.234e-6,9007199254740993]");
    }

    fn content<'a>(payload: &'a Value, metadata: &'a Value) -> EventContent<'a> {
        EventContent {
            complaint: "c-1",
            sequence: 1,
            event_type: "Submitted",
            event_version: "1",
            payload,
            metadata,
        }
    }

    #[test]
    fn a_hash_changes_with_every_field_and_with_its_predecessor() {
        let (p, m) = (
            json!({"Submitted": {"title": "Jalan rusak"}}),
            json!({"actor_id": "u"}),
        );
        let base = event_hash(&content(&p, &m), GENESIS);
        assert_eq!(base.len(), 64);
        assert_eq!(base, event_hash(&content(&p, &m), GENESIS), "deterministic");
        let p2 = json!({"Submitted": {"title": "Jalan rusak!"}});
        let m2 = json!({"actor_id": "v"});
        let variants = [
            event_hash(&content(&p2, &m), GENESIS),
            event_hash(&content(&p, &m2), GENESIS),
            event_hash(&content(&p, &m), &base),
            event_hash(
                &EventContent {
                    sequence: 2,
                    ..content(&p, &m)
                },
                GENESIS,
            ),
            event_hash(
                &EventContent {
                    complaint: "c-2",
                    ..content(&p, &m)
                },
                GENESIS,
            ),
            event_hash(
                &EventContent {
                    event_type: "Verified",
                    ..content(&p, &m)
                },
                GENESIS,
            ),
            event_hash(
                &EventContent {
                    event_version: "2",
                    ..content(&p, &m)
                },
                GENESIS,
            ),
        ];
        for v in variants {
            assert_ne!(v, base);
        }
    }

    #[test]
    fn the_hash_is_over_the_canonical_form_of_the_documented_object() {
        let (p, m) = (json!({"b": "\u{1}é", "a": [1.5, -2]}), json!({"z": "x"}));
        let c = content(&p, &m);
        let document = json!({
            "complaint": c.complaint, "sequence": c.sequence, "eventType": c.event_type,
            "eventVersion": c.event_version, "payload": p, "metadata": m, "prev": "ab\"c",
        });
        assert_eq!(
            event_hash(&c, "ab\"c"),
            hex::encode(Sha256::digest(canonical_json(&document)))
        );
    }

    #[test]
    fn the_hash_does_not_depend_on_how_the_json_was_written() {
        let a: Value = serde_json::from_str(r#"{"x": 1, "y": [2, 3]}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"y":[2,3],"x":1}"#).unwrap();
        let m = json!({});
        assert_eq!(
            event_hash(&content(&a, &m), GENESIS),
            event_hash(&content(&b, &m), GENESIS)
        );
    }

    #[test]
    fn a_leaf_covers_position_time_and_hash() {
        let t = DateTime::parse_from_rfc3339("2026-11-30T02:00:00.123456Z")
            .unwrap()
            .with_timezone(&Utc);
        let h = "ab".repeat(32);
        let base = leaf(7, t, &h);
        assert_ne!(base, leaf(8, t, &h));
        assert_ne!(base, leaf(7, t + chrono::Duration::microseconds(1), &h));
        assert_ne!(base, leaf(7, t, &"cd".repeat(32)));
    }
}
