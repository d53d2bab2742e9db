//! The server's own keys and their rotation without downtime (docs/operations.md,
//! "Rotating secrets"): the attachment link key, the audit signing key and the
//! development token secret. Each is a ring kept in `server_settings`, newest
//! first: the newest signs, and the ones before it still verify until the time
//! they retire. A rotation is a compare-and-set of the ring, so two at once
//! cannot lose one; every process re-reads the ring within `REFRESH`, so a
//! rotation on one process reaches the others without a restart.

pub mod cli;

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use aduan_store::EventLog;

/// How long a process signs with a ring it read before reading it again.
pub const REFRESH: Duration = Duration::from_secs(5);

/// The longest overlap a rotation may ask for: a week.
pub const MAX_OVERLAP_HOURS: i64 = 168;

/// The audit key ring's row: `aduan export` carries it, so a moved log
/// keeps verifying the checkpoints its earlier keys signed.
pub const AUDIT_RING: &str = "keyring.audit";

/// Which key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KeyKind {
    /// The HMAC key of attachment download links.
    Attachments,
    /// The Ed25519 key that signs audit checkpoints.
    Audit,
    /// The HS256 secret of the server's own tokens (`aduan token`), when
    /// ADUAN_JWT_SECRET is not set.
    DevToken,
}

impl KeyKind {
    /// The ring's row in `server_settings`.
    fn setting(self) -> &'static str {
        match self {
            KeyKind::Attachments => "keyring.attachments",
            KeyKind::Audit => AUDIT_RING,
            KeyKind::DevToken => "keyring.dev_token",
        }
    }

    /// The single secret kept before rings existed: the ring's first key, so
    /// links, tokens and checkpoints made before an upgrade keep verifying.
    pub(crate) fn legacy(self) -> &'static str {
        match self {
            KeyKind::Attachments => "attachment_link_key",
            KeyKind::Audit => "audit_dev_key",
            KeyKind::DevToken => "jwt_dev_secret",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Attachments => "attachments",
            KeyKind::Audit => "audit",
            KeyKind::DevToken => "dev-token",
        }
    }
}

/// One key of a ring. Secrets never leave the database except to sign.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredKey {
    /// Shown in logs and answers: the audit key's C2SP key id, or the first
    /// four bytes of a secret's SHA-256 (which tell nothing of the secret).
    pub id: String,
    /// The secret (an HMAC key, a token secret, the audit development key's
    /// seed); none for an audit key held in a file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// The audit key's verifier key (`name+id+base64`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verifier_key: Option<String>,
    /// When it began to sign (none: before rings existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    /// When it stops verifying (none: it is the signing key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retires: Option<DateTime<Utc>>,
    /// Who rotated it in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotated_by: Option<String>,
}

impl std::fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKey")
            .field("id", &self.id)
            .field("since", &self.since)
            .field("retires", &self.retires)
            .finish_non_exhaustive()
    }
}

impl StoredKey {
    /// A secret key, named by its hash.
    pub fn secret(secret: String) -> StoredKey {
        let digest = Sha256::digest(format!("aduan key id\n{secret}"));
        StoredKey {
            id: hex::encode(&digest[..4]),
            secret: Some(secret),
            verifier_key: None,
            since: None,
            retires: None,
            rotated_by: None,
        }
    }

    /// Whether it still verifies at `now`.
    pub fn valid_at(&self, now: DateTime<Utc>) -> bool {
        self.retires.is_none_or(|r| now <= r)
    }
}

/// A ring: the signing key first, then the retiring and retired ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ring {
    pub keys: Vec<StoredKey>,
}

impl Ring {
    #[allow(
        clippy::expect_used,
        reason = "a ring is made with a key and only grows"
    )]
    pub fn current(&self) -> &StoredKey {
        self.keys.first().expect("a ring has a key")
    }

    /// The keys that verify at `now`, the signing one first.
    pub fn valid_at(&self, now: DateTime<Utc>) -> impl Iterator<Item = &StoredKey> {
        self.keys.iter().filter(move |k| k.valid_at(now))
    }

    /// The secrets that verify at `now`.
    pub fn secrets_at(&self, now: DateTime<Utc>) -> Vec<&[u8]> {
        self.valid_at(now)
            .filter_map(|k| k.secret.as_deref().map(str::as_bytes))
            .collect()
    }

    /// The ring after `new` is rotated in at `now`: the keys still verifying
    /// retire at `now + overlap` at the latest. Retired secrets are dropped
    /// (nothing they made is accepted any more); `keep_retired` keeps them (the
    /// audit keys, with which old checkpoints keep verifying).
    pub fn rotated(
        &self,
        mut new: StoredKey,
        now: DateTime<Utc>,
        overlap: chrono::Duration,
        keep_retired: bool,
    ) -> Ring {
        let until = now + overlap;
        new.since = Some(now);
        new.retires = None;
        let mut keys = vec![new];
        for key in &self.keys {
            let mut key = key.clone();
            key.retires = Some(key.retires.map_or(until, |r| r.min(until)));
            if key.retires.is_some_and(|r| r < now) {
                // A retired key signs nothing more: its secret goes.
                key.secret = None;
            }
            if keep_retired || key.valid_at(now) {
                keys.push(key);
            }
        }
        Ring { keys }
    }
}

/// The development token ring, as the GraphQL schema holds it (none: tokens
/// are signed with ADUAN_JWT_SECRET or checked against a JWKS).
#[derive(Clone)]
pub struct TokenRing(pub Option<Arc<KeyRing>>);

/// A ring as a process holds it: read from the database, read again when it
/// is older than `REFRESH`.
pub struct KeyRing {
    kind: KeyKind,
    log: Arc<dyn EventLog>,
    /// What was stored on first use (the ring's first key).
    genesis: String,
    held: RwLock<(Instant, Arc<Ring>)>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// Why a rotation is refused.
#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] aduan_store::StoreError),
}

impl KeyRing {
    /// The ring of `kind`; on first use it is made of the secret kept before
    /// rings existed (the audit ring: of `first`, the key this process has).
    pub async fn open(
        kind: KeyKind,
        log: Arc<dyn EventLog>,
        first: Option<StoredKey>,
    ) -> anyhow::Result<Arc<KeyRing>> {
        let first = match first {
            Some(key) => key,
            None => {
                anyhow::ensure!(kind != KeyKind::Audit, "the audit ring starts with its key");
                let (secret, _) =
                    crate::settings::stored_secret(log.as_ref(), kind.legacy()).await?;
                StoredKey::secret(secret)
            }
        };
        let genesis = serde_json::to_string(&Ring { keys: vec![first] })?;
        let (stored, _) = log.setting_or_insert(kind.setting(), &genesis).await?;
        let ring: Ring = serde_json::from_str(&stored).map_err(|e| {
            anyhow::anyhow!("the stored {} key ring is unreadable: {e}", kind.as_str())
        })?;
        Ok(Arc::new(KeyRing {
            kind,
            log,
            genesis,
            held: RwLock::new((Instant::now(), Arc::new(ring))),
        }))
    }

    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The ring as last read (for signing where nothing may wait).
    pub fn held(&self) -> Arc<Ring> {
        self.held
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .1
            .clone()
    }

    /// The ring, read again if the one held is older than `REFRESH`; if the
    /// database does not answer, the one held (it was right a moment ago).
    pub async fn fresh(&self) -> Arc<Ring> {
        if self.claim_refresh() {
            match self.read().await {
                Ok((_, ring)) => self.hold(ring),
                Err(e) => {
                    tracing::warn!(key = self.kind.as_str(), error = %e, "cannot re-read a key ring")
                }
            }
        }
        self.held()
    }

    /// Whether the ring held is stale; if so, it counts as read now, so that
    /// of the requests arriving meanwhile one reads it and the others go on.
    fn claim_refresh(&self) -> bool {
        // Every request checks: a read lock, and the write lock only when stale.
        if self
            .held
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .0
            .elapsed()
            < REFRESH
        {
            return false;
        }
        let mut held = self.held.write().unwrap_or_else(|p| p.into_inner());
        if held.0.elapsed() < REFRESH {
            return false;
        }
        held.0 = Instant::now();
        true
    }

    /// The ring held, for signing where nothing may wait (an attachment link
    /// made while a case is read); a stale one is read again in the
    /// background, for the next signature.
    pub fn held_refreshing(self: &Arc<Self>) -> Arc<Ring> {
        let stale = self
            .held
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .0
            .elapsed()
            >= REFRESH;
        if stale {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                let ring = self.clone();
                runtime.spawn(async move { ring.fresh().await });
            }
        }
        self.held()
    }

    async fn read(&self) -> Result<(String, Ring), RotateError> {
        let (stored, _) = self
            .log
            .setting_or_insert(self.kind.setting(), &self.genesis)
            .await?;
        let ring = serde_json::from_str(&stored)
            .map_err(|e| RotateError::Invalid(format!("the stored key ring is unreadable: {e}")))?;
        Ok((stored, ring))
    }

    fn hold(&self, ring: Ring) {
        *self.held.write().unwrap_or_else(|p| p.into_inner()) = (Instant::now(), Arc::new(ring));
    }

    /// Rotates `new` in: it signs from now on, and the key it replaces keeps
    /// verifying for `overlap_hours` (0 to `MAX_OVERLAP_HOURS`; 0 for a key
    /// that leaked). Returns the ring as stored.
    pub async fn rotate(
        &self,
        mut new: StoredKey,
        overlap: chrono::Duration,
        by: &str,
    ) -> Result<Ring, RotateError> {
        if overlap < chrono::Duration::zero()
            || overlap > chrono::Duration::hours(MAX_OVERLAP_HOURS)
        {
            return Err(RotateError::Invalid(format!(
                "the overlap must be 0 to {MAX_OVERLAP_HOURS} hours"
            )));
        }
        new.rotated_by = Some(by.to_string());
        for _ in 0..8 {
            let (stored, ring) = self.read().await?;
            if ring.keys.iter().any(|k| k.id == new.id) {
                return Err(RotateError::Invalid(format!(
                    "key {} is in the ring already",
                    new.id
                )));
            }
            let next = ring.rotated(
                new.clone(),
                Utc::now(),
                overlap,
                self.kind == KeyKind::Audit,
            );
            let text =
                serde_json::to_string(&next).map_err(|e| RotateError::Invalid(e.to_string()))?;
            if self
                .log
                .replace_setting(self.kind.setting(), &stored, &text)
                .await?
            {
                tracing::info!(
                    key = self.kind.as_str(),
                    id = %next.current().id,
                    overlap_hours = overlap.num_hours(),
                    by,
                    "rotated a key"
                );
                self.hold(next.clone());
                return Ok(next);
            }
        }
        Err(RotateError::Invalid(
            "the ring kept changing under this rotation; try again".into(),
        ))
    }
}

/// Stores the audit ring an export carried (`aduan import`): the keys of the
/// moved log, with any key a process here has added already after them.
pub async fn import_audit_ring(log: &dyn EventLog, carried: &str) -> anyhow::Result<()> {
    let mut ring: Ring = serde_json::from_str(carried)
        .map_err(|e| anyhow::anyhow!("the export's audit key ring is unreadable: {e}"))?;
    anyhow::ensure!(
        !ring.keys.is_empty(),
        "the export's audit key ring is empty"
    );
    let text = serde_json::to_string(&ring)?;
    let (stored, _) = log.setting_or_insert(AUDIT_RING, &text).await?;
    if stored == text {
        return Ok(());
    }
    let here: Ring = serde_json::from_str(&stored)?;
    for key in here.keys {
        if !ring.keys.iter().any(|k| k.id == key.id) {
            ring.keys.push(key);
        }
    }
    let merged = serde_json::to_string(&ring)?;
    anyhow::ensure!(
        log.replace_setting(AUDIT_RING, &stored, &merged).await?,
        "the audit key ring changed during the import; import again into an empty database"
    );
    Ok(())
}

/// A fresh secret: 244 random bits, as the server's other secrets.
pub fn new_secret() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_rotated_key_retires_after_the_overlap_and_then_leaves_the_ring() {
        let first = StoredKey::secret("one".into());
        let ring = Ring {
            keys: vec![first.clone()],
        };
        let now = at("2026-12-01T00:00:00Z");
        let ring = ring.rotated(
            StoredKey::secret("two".into()),
            now,
            chrono::Duration::hours(24),
            false,
        );
        assert_eq!(ring.current().secret.as_deref(), Some("two"));
        assert_eq!(ring.secrets_at(now), [b"two".as_slice(), b"one"]);
        let later = at("2026-12-01T23:59:59Z");
        assert_eq!(ring.secrets_at(later).len(), 2, "within the overlap");
        let after = at("2026-12-02T00:00:01Z");
        assert_eq!(ring.secrets_at(after), [b"two".as_slice()]);
        // A leaked key: the one before retires at once, and the one retiring
        // is not given a longer life.
        let ring = ring.rotated(
            StoredKey::secret("three".into()),
            later,
            chrono::Duration::zero(),
            false,
        );
        let next = later + chrono::Duration::seconds(1);
        assert_eq!(ring.secrets_at(next), [b"three".as_slice()]);
        assert_eq!(ring.keys.len(), 3, "retiring now, not yet gone");
        let ring = ring.rotated(
            StoredKey::secret("four".into()),
            after,
            chrono::Duration::hours(24),
            false,
        );
        assert_eq!(ring.keys.len(), 2, "retired secrets are dropped");
        assert_ne!(first.id, StoredKey::secret("two".into()).id);
        assert!(
            !format!("{:?}", ring).contains("four"),
            "no secret in Debug"
        );
    }

    #[test]
    fn audit_keys_stay_in_the_ring_after_they_retire() {
        let ring = Ring {
            keys: vec![StoredKey::secret("one".into())],
        };
        let now = at("2026-12-01T00:00:00Z");
        let ring = ring.rotated(
            StoredKey::secret("two".into()),
            now,
            chrono::Duration::zero(),
            true,
        );
        let ring = ring.rotated(
            StoredKey::secret("three".into()),
            now + chrono::Duration::days(30),
            chrono::Duration::zero(),
            true,
        );
        assert_eq!(ring.keys.len(), 3);
        assert_eq!(ring.keys[2].retires, Some(now));
        assert_eq!(
            ring.keys[2].secret, None,
            "a retired key's secret is dropped"
        );
        assert!(ring.keys[1].secret.is_some(), "retired, but only now");
    }
}
