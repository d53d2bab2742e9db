//! Signed checkpoints: the log's Merkle tree head, signed with Ed25519, written
//! as a C2SP signed note in the tlog-checkpoint format (the format of the Go
//! checksum database and of transparency logs), so an auditor can check one
//! with standard tools as well as with `aduan audit`:
//!
//! ```text
//! <origin>
//! <tree size>
//! <base64 root hash>
//! time <RFC 3339 UTC>
//!
//! — <key name> <base64(key id (4 bytes) || Ed25519 signature (64 bytes))>
//! ```
//!
//! The signature covers the text above the blank line, final newline included.
//! The key id is the first four bytes of SHA-256(name || "\n" || 0x01 ||
//! public key); a verifier key is written `<name>+<hex key id>+<base64(0x01 ||
//! public key)>`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};
use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};
use sha2::{Digest, Sha256};

use super::merkle::Hash;

/// The signature algorithm byte of Ed25519 keys in signed notes.
const ED25519: u8 = 0x01;

/// A tree head: what a checkpoint says about the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeHead {
    /// Names the log (a city's own origin, e.g. `aduan.kota-bandung.go.id/audit`).
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    pub time: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("not a signed checkpoint: {0}")]
    Malformed(String),
    #[error("no signature by key {0}")]
    NotSignedBy(String),
    #[error("the signature by key {0} does not verify")]
    BadSignature(String),
    #[error("not a verifier key: {0}")]
    BadKey(String),
    #[error("signed by key {0} after it was retired at {1}")]
    Retired(String, DateTime<Utc>),
}

/// A named Ed25519 verifier key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    pub name: String,
    pub key: VerifyingKey,
}

impl NoteVerifier {
    pub fn new(name: &str, key: VerifyingKey) -> Self {
        NoteVerifier {
            name: name.to_string(),
            key,
        }
    }

    pub fn key_id(&self) -> [u8; 4] {
        let mut h = Sha256::new();
        h.update(self.name.as_bytes());
        h.update(b"\n");
        h.update([ED25519]);
        h.update(self.key.as_bytes());
        let digest = h.finalize();
        [digest[0], digest[1], digest[2], digest[3]]
    }

    /// `<name>+<hex key id>+<base64(0x01 || key)>`.
    pub fn encode(&self) -> String {
        let mut raw = vec![ED25519];
        raw.extend_from_slice(self.key.as_bytes());
        format!(
            "{}+{}+{}",
            self.name,
            hex::encode(self.key_id()),
            STANDARD.encode(raw)
        )
    }

    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let bad = |why: &str| NoteError::BadKey(why.to_string());
        // Names hold no '+' (C2SP signed-note); base64 keys may.
        let mut parts = text.trim().splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("expected <name>+<key id>+<key>"));
        };
        let raw = STANDARD.decode(key).map_err(|_| bad("key is not base64"))?;
        let Some((&ED25519, key)) = raw.split_first() else {
            return Err(bad("not an Ed25519 key"));
        };
        let key: [u8; 32] = key.try_into().map_err(|_| bad("wrong key length"))?;
        let key = VerifyingKey::from_bytes(&key).map_err(|_| bad("not a valid Ed25519 point"))?;
        let verifier = NoteVerifier::new(name, key);
        if hex::encode(verifier.key_id()) != id {
            return Err(bad("key id does not match the key"));
        }
        Ok(verifier)
    }
}

/// What signs a log's checkpoints: its origin line and a named Ed25519 key.
pub struct LogSigner {
    pub origin: String,
    pub name: String,
    pub key: SigningKey,
}

impl LogSigner {
    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier::new(&self.name, self.key.verifying_key())
    }

    /// The signed note for the tree of `size` leaves with `root`, at `time`.
    pub fn sign(&self, size: u64, root: Hash, time: DateTime<Utc>) -> String {
        TreeHead {
            origin: self.origin.clone(),
            size,
            root,
            time,
        }
        .sign(&self.name, &self.key)
    }
}

impl TreeHead {
    /// The signed text of the note.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\ntime {}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root),
            self.time.to_rfc3339_opts(SecondsFormat::Micros, true)
        )
    }

    /// The whole note, signed by `key` under `name`.
    pub fn sign(&self, name: &str, key: &SigningKey) -> String {
        let body = self.body();
        let verifier = NoteVerifier::new(name, key.verifying_key());
        let mut signature = verifier.key_id().to_vec();
        signature.extend_from_slice(&key.sign(body.as_bytes()).to_bytes());
        format!("{body}\n\u{2014} {name} {}\n", STANDARD.encode(signature))
    }

    /// Reads a note and checks its signature by `verifier`.
    pub fn open(note: &str, verifier: &NoteVerifier) -> Result<TreeHead, NoteError> {
        let malformed = |why: &str| NoteError::Malformed(why.to_string());
        let (body, signatures) = note
            .split_once("\n\n")
            .ok_or_else(|| malformed("no blank line before the signatures"))?;
        let body = format!("{body}\n");
        let wanted = verifier.key_id();
        let mut found = None;
        for line in signatures.lines() {
            let Some(rest) = line.strip_prefix("\u{2014} ") else {
                return Err(malformed("a signature line must start with an em dash"));
            };
            let (name, sig) = rest
                .split_once(' ')
                .ok_or_else(|| malformed("a signature line needs a name and a signature"))?;
            let raw = STANDARD
                .decode(sig)
                .map_err(|_| malformed("a signature is not base64"))?;
            if name == verifier.name && raw.len() == 68 && raw[..4] == wanted {
                found = Some(raw);
            }
        }
        let raw = found.ok_or_else(|| NoteError::NotSignedBy(verifier.encode()))?;
        let signature = ed25519_dalek::Signature::from_slice(&raw[4..])
            .map_err(|_| NoteError::BadSignature(verifier.name.clone()))?;
        verifier
            .key
            .verify(body.as_bytes(), &signature)
            .map_err(|_| NoteError::BadSignature(verifier.name.clone()))?;
        Self::parse_body(&body)
    }

    fn parse_body(body: &str) -> Result<TreeHead, NoteError> {
        let malformed = |why: &str| NoteError::Malformed(why.to_string());
        let lines: Vec<&str> = body.lines().collect();
        let [origin, size, root, time] = lines[..] else {
            return Err(malformed("expected origin, size, root and time"));
        };
        let size = size
            .parse()
            .map_err(|_| malformed("the tree size is not a number"))?;
        let root: Hash = STANDARD
            .decode(root)
            .ok()
            .and_then(|r| r.try_into().ok())
            .ok_or_else(|| malformed("the root is not a base64 SHA-256 hash"))?;
        let time = time
            .strip_prefix("time ")
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .ok_or_else(|| malformed("no time line"))?
            .with_timezone(&Utc);
        Ok(TreeHead {
            origin: origin.to_string(),
            size,
            root,
            time,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7u8; 32])
    }

    fn head() -> TreeHead {
        TreeHead {
            origin: "aduan.example.go.id/audit".into(),
            size: 1_000_000,
            root: [9u8; 32],
            time: DateTime::parse_from_rfc3339("2026-11-30T02:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
        }
    }

    #[test]
    fn a_signed_note_opens_with_its_key_and_reads_back() {
        let note = head().sign("aduan.example.go.id", &key());
        let verifier = NoteVerifier::new("aduan.example.go.id", key().verifying_key());
        assert_eq!(TreeHead::open(&note, &verifier).unwrap(), head());
        assert!(note.starts_with("aduan.example.go.id/audit\n1000000\n"));
        // The encoded verifier key reads back to the same key, whatever its
        // base64 holds.
        for seed in 0..64u8 {
            let v = NoteVerifier::new("k", SigningKey::from_bytes(&[seed; 32]).verifying_key());
            assert_eq!(NoteVerifier::parse(&v.encode()).unwrap(), v);
        }
    }

    #[test]
    fn any_edit_of_a_note_is_refused() {
        let note = head().sign("k", &key());
        let verifier = NoteVerifier::new("k", key().verifying_key());
        for i in 0..note.len() {
            if !note.is_char_boundary(i) || !note.is_char_boundary(i + 1) {
                continue;
            }
            let mut edited = note.clone();
            let c = edited.as_bytes()[i];
            let replacement = if c == b'0' { "1" } else { "0" };
            edited.replace_range(i..i + 1, replacement);
            assert!(TreeHead::open(&edited, &verifier).is_err(), "byte {i}");
        }
    }

    #[test]
    fn another_key_or_name_is_refused() {
        let note = head().sign("k", &key());
        let other = SigningKey::from_bytes(&[8u8; 32]);
        assert!(matches!(
            TreeHead::open(&note, &NoteVerifier::new("k", other.verifying_key())),
            Err(NoteError::NotSignedBy(_))
        ));
        assert!(matches!(
            TreeHead::open(&note, &NoteVerifier::new("j", key().verifying_key())),
            Err(NoteError::NotSignedBy(_))
        ));
        assert!(NoteVerifier::parse("k+00000000+AQ==").is_err());
    }
}
