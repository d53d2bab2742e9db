//! The audit trail in the server (docs/audit.md): the key that signs its
//! checkpoints, the elected follower that seals new events into the Merkle
//! tree and signs a checkpoint on a timer, and the public key at
//! `/.well-known/aduan-audit-key`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use axum::extract::State;
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePublicKey};
use ed25519_dalek::SigningKey;
use sha2::{Digest, Sha256};

use aduan_audit::checkpoint::{LogSigner, NoteVerifier};
use aduan_audit::keyring::{TrustedKey, TrustedKeys};
use aduan_store::audit::{self, Checkpoint};
use aduan_store::Follower;
use aduan_store::{EventLog, StoreError};
use chrono::{DateTime, Utc};

use crate::keys::{KeyKind, KeyRing, Ring, StoredKey};
use crate::state::AppState;

/// The election's (and follower's) name.
pub const NAME: &str = "audit";

/// Where the signing key comes from.
#[derive(Debug, Clone, clap::Args)]
pub struct AuditArgs {
    /// The Ed25519 private key (PKCS#8 PEM, as `openssl genpkey -algorithm
    /// ed25519` writes it) that signs the audit checkpoints. Unset: a
    /// development key kept in the database, which proves nothing against
    /// whoever can rewrite the database (docs/audit.md).
    #[arg(long, env = "ADUAN_AUDIT_KEY", global = true)]
    pub audit_key: Option<PathBuf>,
    /// The log's name in its checkpoints (and the key's name): the city's own,
    /// such as `aduan.bandung.go.id/audit`.
    #[arg(
        long,
        env = "ADUAN_AUDIT_ORIGIN",
        default_value = "aduan.local/audit",
        global = true
    )]
    pub audit_origin: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    File(PathBuf),
    /// The development key, derived from a secret kept in the database.
    Database,
}

/// The Ed25519 key of a development secret.
fn seed_key(secret: &str) -> SigningKey {
    let seed: [u8; 32] = Sha256::digest(format!("aduan audit key\n{secret}")).into();
    SigningKey::from_bytes(&seed)
}

/// A ring entry for `key` under the log's name; `secret`: its development seed.
pub fn ring_entry(key: &SigningKey, origin: &str, secret: Option<String>) -> StoredKey {
    let verifier = NoteVerifier::new(origin, key.verifying_key());
    StoredKey {
        id: hex::encode(verifier.key_id()),
        secret,
        verifier_key: Some(verifier.encode()),
        since: None,
        retires: None,
        rotated_by: None,
    }
}

/// A new development key for the ring (a rotation without a key file).
pub fn new_dev_key(origin: &str) -> StoredKey {
    let secret = crate::keys::new_secret();
    ring_entry(&seed_key(&secret), origin, Some(secret))
}

/// A key file's entry for the ring (`aduan keys rotate audit --new-key`).
pub fn file_entry(path: &Path, origin: &str) -> anyhow::Result<StoredKey> {
    Ok(ring_entry(&read_key(path)?, origin, None))
}

fn read_key(path: &Path) -> anyhow::Result<SigningKey> {
    let pem = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read the audit key {}: {e}", path.display()))?;
    SigningKey::from_pkcs8_pem(&pem).map_err(|e| {
        anyhow::anyhow!(
            "the audit key {} is not an Ed25519 PKCS#8 PEM private key: {e}",
            path.display()
        )
    })
}

/// The public keys as `/.well-known/aduan-audit-key` serves them: the signing
/// key's fields at the top (as before any rotation), and under `keys` every
/// key of the log with when it began to sign and when it retired.
pub fn key_document(ring: &Ring, origin: &str) -> serde_json::Value {
    use serde_json::json;
    let verifiers: Vec<(NoteVerifier, &StoredKey)> = ring
        .keys
        .iter()
        .filter_map(|k| Some((NoteVerifier::parse(k.verifier_key.as_deref()?).ok()?, k)))
        .collect();
    let described = |v: &NoteVerifier| {
        json!({
            "keyName": v.name,
            "keyId": hex::encode(v.key_id()),
            "publicKey": STANDARD.encode(v.key.as_bytes()),
            "verifierKey": v.encode(),
        })
    };
    let mut doc = match verifiers.first() {
        Some((v, _)) => {
            let mut d = described(v);
            d["publicKeyPem"] = json!(v
                .key
                .to_public_key_pem(Default::default())
                .unwrap_or_default());
            d
        }
        None => json!({}),
    };
    doc["algorithm"] = json!("Ed25519");
    doc["origin"] = json!(origin);
    doc["keys"] = verifiers
        .iter()
        .map(|(v, k)| {
            let mut d = described(v);
            d["since"] = json!(k.since);
            d["retires"] = json!(k.retires);
            d
        })
        .collect();
    doc["checkpointFormat"] =
        json!("C2SP signed note, tlog-checkpoint (https://c2sp.org/tlog-checkpoint)");
    doc["leaf"] =
        json!("SHA-256(0x00 || canonical JSON {hash, position, recordedAt}), RFC 6962 tree");
    doc
}

/// The keys of a ring that verify checkpoints, each with its retirement.
pub fn trusted_keys(ring: &Ring) -> TrustedKeys {
    TrustedKeys(
        ring.keys
            .iter()
            .filter_map(|k| {
                Some(TrustedKey {
                    verifier: NoteVerifier::parse(k.verifier_key.as_deref()?).ok()?,
                    retired: k.retires,
                })
            })
            .collect(),
    )
}

/// Reads the keys to trust from a file or a string: a verifier key
/// (`name+id+base64`), or the `/.well-known/aduan-audit-key` JSON document
/// (every key it lists, each up to its retirement).
pub fn parse_verifier(text_or_path: &str) -> anyhow::Result<TrustedKeys> {
    let text = match std::fs::read_to_string(text_or_path) {
        Ok(text) => text,
        Err(_) => text_or_path.to_string(),
    };
    let text = text.trim();
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(text) else {
        return Ok(TrustedKeys::single(NoteVerifier::parse(text)?));
    };
    let Some(listed) = doc["keys"].as_array() else {
        let vkey = doc["verifierKey"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("the key document has no verifierKey"))?;
        return Ok(TrustedKeys::single(NoteVerifier::parse(vkey)?));
    };
    let keys = listed
        .iter()
        .map(|k| {
            let vkey = k["verifierKey"]
                .as_str()
                .ok_or_else(|| anyhow::anyhow!("a listed key has no verifierKey"))?;
            let retired = match k["retires"].as_str() {
                Some(t) => Some(t.parse::<DateTime<Utc>>()?),
                None => None,
            };
            Ok(TrustedKey {
                verifier: NoteVerifier::parse(vkey)?,
                retired,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    anyhow::ensure!(!keys.is_empty(), "the key document lists no key");
    Ok(TrustedKeys(keys))
}

/// The checkpointer: seals and signs on a timer (as the elected process), or
/// when asked (`signAuditCheckpoint`, `aduan audit checkpoint`).
pub struct Audit {
    log: Arc<dyn EventLog>,
    origin: String,
    /// The key from ADUAN_AUDIT_KEY; none: the ring's development key.
    file_key: Option<SigningKey>,
    ring: Arc<KeyRing>,
    pub source: KeySource,
    every: Duration,
    last: Mutex<Option<Instant>>,
}

impl Audit {
    /// The log's keys, from the key file or the database's development key.
    /// A key file must be one of the log's keys: a new one is rotated in with
    /// `aduan keys rotate audit --new-key`, so old checkpoints keep verifying
    /// and the rotation is on record.
    pub async fn open(
        args: &AuditArgs,
        log: Arc<dyn EventLog>,
        every: Duration,
    ) -> anyhow::Result<Audit> {
        let origin = args.audit_origin.clone();
        let (file_key, first, source) = match &args.audit_key {
            Some(path) => {
                let key = read_key(path)?;
                let entry = ring_entry(&key, &origin, None);
                (Some(key), entry, KeySource::File(path.clone()))
            }
            None => {
                let legacy = KeyKind::Audit.legacy();
                let (secret, _) = crate::settings::stored_secret(log.as_ref(), legacy).await?;
                let entry = ring_entry(&seed_key(&secret), &origin, Some(secret));
                (None, entry, KeySource::Database)
            }
        };
        let id = first.id.clone();
        let ring = KeyRing::open(KeyKind::Audit, log.clone(), Some(first)).await?;
        let held = ring.held();
        match &source {
            KeySource::File(path) => anyhow::ensure!(
                held.keys.iter().any(|k| k.id == id),
                "the audit key {} (key id {id}) is not one of this log's keys (`aduan keys \
                 list`); rotate it in with `aduan keys rotate audit --new-key {}`",
                path.display(),
                path.display()
            ),
            KeySource::Database => anyhow::ensure!(
                held.current().secret.is_some(),
                "this log's audit key (key id {}) is held in a file: set ADUAN_AUDIT_KEY",
                held.current().id
            ),
        }
        Ok(Audit {
            log,
            origin,
            file_key,
            ring,
            source,
            every,
            last: Mutex::new(None),
        })
    }

    pub fn ring(&self) -> &Arc<KeyRing> {
        &self.ring
    }

    /// What signs now: the key file while the ring has not retired it, or the
    /// ring's development key.
    pub async fn signer(&self) -> Result<LogSigner, StoreError> {
        let ring = self.ring.fresh().await;
        let key = match &self.file_key {
            Some(key) => {
                let id = ring_entry(key, &self.origin, None).id;
                let now = Utc::now();
                if !ring.keys.iter().any(|k| k.id == id && k.valid_at(now)) {
                    return Err(StoreError::Other(format!(
                        "the audit key file's key {id} is retired: set ADUAN_AUDIT_KEY to the \
                         file rotated in (`aduan keys list`)"
                    )));
                }
                key.clone()
            }
            None => seed_key(ring.current().secret.as_deref().ok_or_else(|| {
                StoreError::Other(
                    "this log's audit key is now held in a file: set ADUAN_AUDIT_KEY".into(),
                )
            })?),
        };
        Ok(LogSigner {
            origin: self.origin.clone(),
            name: self.origin.clone(),
            key,
        })
    }

    /// Every key the log's checkpoints may be signed with.
    pub async fn trusted(&self) -> TrustedKeys {
        trusted_keys(&*self.ring.fresh().await)
    }

    /// The `/.well-known/aduan-audit-key` document.
    pub async fn document(&self) -> serde_json::Value {
        key_document(&*self.ring.fresh().await, &self.origin)
    }

    /// The key of the log whose signature `note` carries.
    pub async fn signed_by(&self, note: &str) -> Option<NoteVerifier> {
        self.trusted()
            .await
            .0
            .into_iter()
            .map(|k| k.verifier)
            .find(|v| TrustedKeys::single(v.clone()).open(note).is_ok())
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Seals what has settled and signs a checkpoint if the tree grew.
    pub async fn checkpoint(&self) -> Result<Option<Checkpoint>, StoreError> {
        let started = Instant::now();
        let result = match self.signer().await {
            Ok(signer) => audit::checkpoint(self.log.as_ref(), &signer).await,
            Err(e) => Err(e),
        };
        match &result {
            Ok(Some(c)) => {
                metrics::gauge!(crate::metrics::AUDIT_TREE_SIZE).set(c.tree_size as f64);
                metrics::gauge!(crate::metrics::AUDIT_CHECKPOINT_TIME)
                    .set(c.signed_at.timestamp() as f64);
                tracing::debug!(size = c.tree_size, took = ?started.elapsed(), "audit checkpoint");
            }
            Ok(None) => {}
            Err(e) => {
                metrics::counter!(crate::metrics::AUDIT_CHECKPOINT_FAILURES).increment(1);
                tracing::error!(error = %e, "audit checkpoint failed");
            }
        }
        result
    }

    fn due(&self) -> bool {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_some_and(|at| at.elapsed() < self.every) {
            return false;
        }
        *last = Some(Instant::now());
        true
    }
}

#[async_trait]
impl Follower for Audit {
    fn name(&self) -> &str {
        NAME
    }

    /// Called whenever the log may have moved; signs at most once per interval.
    /// A failure is logged and counted, and tried again next interval.
    async fn catch_up(&self) -> Result<usize, StoreError> {
        if self.due() {
            let _ = self.checkpoint().await;
        }
        Ok(0)
    }
}

/// `GET /.well-known/aduan-audit-key`.
pub async fn well_known_key(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(state.audit.document().await)
}
