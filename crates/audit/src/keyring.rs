//! The keys a log's checkpoints are signed with over its life. A rotation
//! gives the log a new key (same name, the log's origin; a new key id) and
//! retires the old one at a stated time: a checkpoint verifies if a key of
//! the ring signed it, and, for a retired key, at a time up to its retirement.
//! Checkpoints signed before a rotation keep verifying with the key that
//! signed them; a retired key cannot sign a checkpoint that verifies later.

use chrono::{DateTime, Utc};

use super::checkpoint::{NoteError, NoteVerifier, TreeHead};

/// A verifier key and when it stopped signing (`None`: it still signs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKey {
    pub verifier: NoteVerifier,
    pub retired: Option<DateTime<Utc>>,
}

/// The log's keys, the one signing now first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKeys(pub Vec<TrustedKey>);

impl TrustedKeys {
    /// One key, never retired (an auditor's `--key`).
    pub fn single(verifier: NoteVerifier) -> Self {
        TrustedKeys(vec![TrustedKey {
            verifier,
            retired: None,
        }])
    }

    /// Reads a note signed by one of the keys, at a time that key signed.
    pub fn open(&self, note: &str) -> Result<TreeHead, NoteError> {
        let mut refusal = None;
        for key in &self.0 {
            match TreeHead::open(note, &key.verifier) {
                Ok(head) => match key.retired {
                    Some(retired) if head.time > retired => {
                        refusal = Some(NoteError::Retired(key.verifier.encode(), retired))
                    }
                    _ => return Ok(head),
                },
                Err(NoteError::NotSignedBy(_)) => {}
                Err(e) => refusal = Some(e),
            }
        }
        Err(refusal.unwrap_or_else(|| {
            NoteError::NotSignedBy(
                self.0
                    .iter()
                    .map(|k| k.verifier.encode())
                    .collect::<Vec<_>>()
                    .join(" or "),
            )
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn head(time: &str) -> TreeHead {
        TreeHead {
            origin: "aduan.example.go.id/audit".into(),
            size: 10,
            root: [3u8; 32],
            time: at(time),
        }
    }

    #[test]
    fn old_checkpoints_verify_with_the_old_key_until_it_retires_and_new_ones_with_the_new() {
        let name = "aduan.example.go.id/audit";
        let (old, new) = (
            SigningKey::from_bytes(&[1u8; 32]),
            SigningKey::from_bytes(&[2u8; 32]),
        );
        let ring = TrustedKeys(vec![
            TrustedKey {
                verifier: NoteVerifier::new(name, new.verifying_key()),
                retired: None,
            },
            TrustedKey {
                verifier: NoteVerifier::new(name, old.verifying_key()),
                retired: Some(at("2026-12-01T00:00:00Z")),
            },
        ]);
        let before = head("2026-11-30T00:00:00Z");
        assert_eq!(ring.open(&before.sign(name, &old)), Ok(before.clone()));
        let after = head("2026-12-02T00:00:00Z");
        assert_eq!(ring.open(&after.sign(name, &new)), Ok(after.clone()));
        assert!(matches!(
            ring.open(&after.sign(name, &old)),
            Err(NoteError::Retired(..))
        ));
        let stranger = SigningKey::from_bytes(&[9u8; 32]);
        assert!(matches!(
            ring.open(&after.sign(name, &stranger)),
            Err(NoteError::NotSignedBy(_))
        ));
    }
}
