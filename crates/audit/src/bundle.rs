//! A signed case export (`aduan audit export`): one complaint's events as
//! stored, each with its chain hash and its inclusion proof against a signed
//! checkpoint, the whole signed again with the log's key. It verifies offline,
//! with nothing but the public key (`aduan audit verify-bundle`).
//!
//! The file is the canonical JSON of the bundle (`chain::canonical_json`) and a
//! newline; the same without the newline is accepted too (docs/audit.md says
//! the file is canonical JSON). A verifier re-encodes what it read and refuses
//! any other spelling, so no byte of the file can change without failing.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer as _, Verifier as _};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::chain::{self, canonical_json, EventContent, GENESIS};
use super::checkpoint::{LogSigner, NoteVerifier, TreeHead};
use super::merkle::{verify_inclusion, Hash};

pub const FORMAT: &str = "aduan-audit-bundle/1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Bundle {
    pub format: String,
    pub complaint_id: String,
    pub exported_at: DateTime<Utc>,
    /// The signed checkpoint note every proof leads to.
    pub checkpoint: String,
    pub events: Vec<BundledEvent>,
    /// Base64 Ed25519 signature by the log's key over the canonical JSON of
    /// the bundle without this member.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub signature: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BundledEvent {
    pub position: i64,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: Value,
    pub metadata: Value,
    /// As the leaf hashes it (`chain::timestamp`: six fractional digits and
    /// `Z`). Bundles written before that rule may spell it shorter; the leaf
    /// is computed from the instant, so those still verify.
    pub recorded_at: String,
    pub prev_hash: String,
    pub hash: String,
    pub leaf_index: u64,
    /// Hex sibling hashes from the leaf up to the checkpoint's root.
    pub proof: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    #[error("not a bundle: {0}")]
    Malformed(String),
    #[error(
        "the file is not exactly as exported (its bytes differ from the bundle's canonical form)"
    )]
    NotCanonical,
    #[error("the bundle's signature does not verify")]
    BadSignature,
    #[error("the checkpoint: {0}")]
    Checkpoint(String),
    #[error("event #{sequence}: {why}")]
    Event { sequence: i64, why: String },
}

/// What a verified bundle proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub complaint_id: String,
    pub events: usize,
    pub tree_size: u64,
    pub checkpoint_time: DateTime<Utc>,
}

impl Bundle {
    /// Signs the bundle and writes its file's bytes.
    #[allow(
        clippy::expect_used,
        reason = "a struct of strings and numbers always serializes to JSON"
    )]
    pub fn seal(mut self, signer: &LogSigner) -> Vec<u8> {
        self.signature.clear();
        let unsigned = canonical_json(&serde_json::to_value(&self).expect("a bundle serializes"));
        self.signature = STANDARD.encode(signer.key.sign(unsigned.as_bytes()).to_bytes());
        let mut bytes =
            canonical_json(&serde_json::to_value(&self).expect("a bundle serializes")).into_bytes();
        bytes.push(b'\n');
        bytes
    }

    /// Verifies a bundle file's bytes with the log's public key.
    pub fn verify(bytes: &[u8], verifier: &NoteVerifier) -> Result<Verified, BundleError> {
        let malformed = |e: &dyn std::fmt::Display| BundleError::Malformed(e.to_string());
        let text = std::str::from_utf8(bytes).map_err(|e| malformed(&e))?;
        let text = text.strip_suffix('\n').unwrap_or(text);
        let value: Value = serde_json::from_str(text).map_err(|e| malformed(&e))?;
        if canonical_json(&value) != text {
            return Err(BundleError::NotCanonical);
        }
        let mut bundle: Bundle = serde_json::from_value(value).map_err(|e| malformed(&e))?;
        if bundle.format != FORMAT {
            return Err(BundleError::Malformed(format!("format is not {FORMAT}")));
        }
        // Re-encoding must give back the very same bytes, or a field was
        // spelled in a way this verifier would not have checked.
        let again = canonical_json(&serde_json::to_value(&bundle).map_err(|e| malformed(&e))?);
        if again != text {
            return Err(BundleError::NotCanonical);
        }
        let signature = std::mem::take(&mut bundle.signature);
        let signature = STANDARD
            .decode(signature)
            .ok()
            .and_then(|s| Signature::from_slice(&s).ok())
            .ok_or(BundleError::BadSignature)?;
        let unsigned = canonical_json(&serde_json::to_value(&bundle).map_err(|e| malformed(&e))?);
        verifier
            .key
            .verify(unsigned.as_bytes(), &signature)
            .map_err(|_| BundleError::BadSignature)?;
        let head = TreeHead::open(&bundle.checkpoint, verifier)
            .map_err(|e| BundleError::Checkpoint(e.to_string()))?;
        check_events(&bundle, &head)?;
        Ok(Verified {
            complaint_id: bundle.complaint_id,
            events: bundle.events.len(),
            tree_size: head.size,
            checkpoint_time: head.time,
        })
    }
}

/// The complaint's whole chain, from its first event, each event proved in
/// the checkpoint's tree.
fn check_events(bundle: &Bundle, head: &TreeHead) -> Result<(), BundleError> {
    if bundle.events.is_empty() {
        return Err(BundleError::Malformed("no events".into()));
    }
    let mut prev = GENESIS.to_string();
    for (i, e) in bundle.events.iter().enumerate() {
        let fail = |why: &str| BundleError::Event {
            sequence: e.sequence,
            why: why.to_string(),
        };
        if e.sequence != i as i64 + 1 {
            return Err(fail(
                "the events are not the complaint's whole history in order",
            ));
        }
        if e.prev_hash != prev {
            return Err(fail("not chained to the event before it"));
        }
        let content = EventContent {
            complaint: &bundle.complaint_id,
            sequence: e.sequence,
            event_type: &e.event_type,
            event_version: &e.event_version,
            payload: &e.payload,
            metadata: &e.metadata,
        };
        if chain::event_hash(&content, &e.prev_hash) != e.hash {
            return Err(fail("its content does not match its hash"));
        }
        let proof = e
            .proof
            .iter()
            .map(|h| {
                hex::decode(h)
                    .ok()
                    .and_then(|b| Hash::try_from(b).ok())
                    .ok_or_else(|| fail("a proof hash is not hex SHA-256"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let recorded_at = recorded_at(&e.recorded_at).ok_or_else(|| {
            fail("recordedAt is not UTC (`Z`) with at most six fractional digits")
        })?;
        let leaf = chain::leaf(e.position, recorded_at, &e.hash);
        if !verify_inclusion(e.leaf_index, head.size, &leaf, &proof, &head.root) {
            return Err(fail(
                "its inclusion proof does not lead to the checkpoint's root",
            ));
        }
        prev = e.hash.clone();
    }
    Ok(())
}

/// A bundle's `recordedAt`: six fractional digits and `Z` as hashed, or, in
/// bundles written before times were served as hashed, fewer digits or none
/// (docs/audit.md, "The bundle"). Other offsets and longer fractions were
/// never written, so they are refused.
fn recorded_at(text: &str) -> Option<DateTime<Utc>> {
    let fraction = text
        .strip_suffix('Z')?
        .split_once('.')
        .map_or("", |(_, f)| f);
    if fraction.len() > 6 {
        return None;
    }
    Some(DateTime::parse_from_rfc3339(text).ok()?.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{inclusion_proof, root};
    use ed25519_dalek::SigningKey;
    use serde_json::json;

    fn signer() -> LogSigner {
        LogSigner {
            origin: "aduan.test/audit".into(),
            name: "aduan.test/audit".into(),
            key: SigningKey::from_bytes(&[3u8; 32]),
        }
    }

    /// A log of 5 events, 3 of them the complaint's, and its bundle.
    fn bundle() -> Vec<u8> {
        let t = DateTime::parse_from_rfc3339("2026-11-30T01:00:00.5Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut events = Vec::new();
        let mut leaves = Vec::new();
        let mut prev = GENESIS.to_string();
        for position in 1..=5i64 {
            let mine = position % 2 == 1;
            let complaint = if mine { "c-1" } else { "c-2" };
            let payload = json!({"n": position, "text": "Lampu jalan mati"});
            let metadata = json!({"actor_id": "u-1"});
            let sequence = if mine { position / 2 + 1 } else { position / 2 };
            let p = if mine {
                prev.clone()
            } else {
                GENESIS.to_string()
            };
            let content = EventContent {
                complaint,
                sequence,
                event_type: "Noted",
                event_version: "1",
                payload: &payload,
                metadata: &metadata,
            };
            let hash = chain::event_hash(&content, &p);
            leaves.push(chain::leaf(position, t, &hash));
            if mine {
                prev = hash.clone();
                events.push(BundledEvent {
                    position,
                    sequence,
                    event_type: "Noted".into(),
                    event_version: "1".into(),
                    payload,
                    metadata,
                    recorded_at: chain::timestamp(t),
                    prev_hash: p,
                    hash,
                    leaf_index: position as u64 - 1,
                    proof: Vec::new(),
                });
            }
        }
        for e in &mut events {
            e.proof = inclusion_proof(e.leaf_index as usize, &leaves)
                .iter()
                .map(hex::encode)
                .collect();
        }
        Bundle {
            format: FORMAT.into(),
            complaint_id: "c-1".into(),
            exported_at: t,
            checkpoint: signer().sign(5, root(&leaves), t),
            events,
            signature: String::new(),
        }
        .seal(&signer())
    }

    #[test]
    fn a_sealed_bundle_verifies_offline() {
        let verified = Bundle::verify(&bundle(), &signer().verifier()).unwrap();
        assert_eq!(verified.events, 3);
        assert_eq!(verified.tree_size, 5);
    }

    #[test]
    fn every_edited_byte_fails() {
        let bytes = bundle();
        let verifier = signer().verifier();
        for i in 0..bytes.len() {
            // A digit becomes another digit, anything else a space or an 'a':
            // edits that keep the JSON readable are the ones worth trying.
            let replacement = match bytes[i] {
                b'0' => b'1',
                b'1'..=b'9' => b'0',
                b' ' => b'a',
                _ => b' ',
            };
            let mut edited = bytes.clone();
            edited[i] = replacement;
            assert!(
                Bundle::verify(&edited, &verifier).is_err(),
                "byte {i} edited to {:?} still verifies",
                replacement as char
            );
        }
        let mut longer = bytes.clone();
        longer.push(b'\n');
        assert!(Bundle::verify(&longer, &verifier).is_err());
        let mut spaced = bytes.clone();
        spaced.insert(bytes.len() - 1, b' ');
        assert!(Bundle::verify(&spaced, &verifier).is_err());
    }

    #[test]
    fn the_file_is_canonical_json_with_or_without_its_final_newline() {
        let bytes = bundle();
        assert_eq!(bytes.last(), Some(&b'\n'));
        assert!(!bytes[..bytes.len() - 1].contains(&b'\n'));
        let verifier = signer().verifier();
        assert!(Bundle::verify(&bytes[..bytes.len() - 1], &verifier).is_ok());
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.contains("\"recordedAt\":\"2026-11-30T01:00:00.500000Z\""));
    }

    #[test]
    fn a_bundle_written_with_a_shorter_recorded_at_still_verifies() {
        // Before recordedAt was spelled as hashed, chrono's shortest form went out.
        let text = String::from_utf8(bundle()).unwrap();
        let mut old: Bundle = serde_json::from_str(&text).unwrap();
        for e in &mut old.events {
            e.recorded_at = "2026-11-30T01:00:00.5Z".into();
        }
        let bytes = old.seal(&signer());
        assert!(Bundle::verify(&bytes, &signer().verifier()).is_ok());
        // Another instant is another leaf.
        let mut moved: Bundle = serde_json::from_str(&text).unwrap();
        moved.events[0].recorded_at = "2026-11-30T01:00:00.6Z".into();
        assert!(Bundle::verify(&moved.seal(&signer()), &signer().verifier()).is_err());
        // The same instant in spellings aduan never wrote is refused.
        for spelling in [
            "2026-11-30T01:00:00.5+00:00",
            "2026-11-30T01:00:00.5000000Z",
        ] {
            let mut odd: Bundle = serde_json::from_str(&text).unwrap();
            for e in &mut odd.events {
                e.recorded_at = spelling.into();
            }
            let refused = Bundle::verify(&odd.seal(&signer()), &signer().verifier());
            assert!(refused.is_err(), "{spelling}");
        }
    }

    #[test]
    fn another_key_fails() {
        let other = LogSigner {
            key: SigningKey::from_bytes(&[4u8; 32]),
            ..signer()
        };
        assert_eq!(
            Bundle::verify(&bundle(), &other.verifier()),
            Err(BundleError::BadSignature)
        );
    }
}
