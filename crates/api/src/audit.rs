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
use aduan_store::audit::{self, Checkpoint};
use aduan_store::Follower;
use aduan_store::{EventLog, StoreError};

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

/// The log's signer, from the key file or the database's development key.
pub async fn signer(
    args: &AuditArgs,
    log: &dyn EventLog,
) -> anyhow::Result<(LogSigner, KeySource)> {
    let (key, source) = match &args.audit_key {
        Some(path) => (read_key(path)?, KeySource::File(path.clone())),
        None => {
            let (secret, _) = crate::settings::stored_secret(log, "audit_dev_key").await?;
            let seed: [u8; 32] = Sha256::digest(format!("aduan audit key\n{secret}")).into();
            (SigningKey::from_bytes(&seed), KeySource::Database)
        }
    };
    let signer = LogSigner {
        origin: args.audit_origin.clone(),
        name: args.audit_origin.clone(),
        key,
    };
    Ok((signer, source))
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

/// The public key as `/.well-known/aduan-audit-key` serves it.
pub fn key_document(verifier: &NoteVerifier, origin: &str) -> serde_json::Value {
    serde_json::json!({
        "algorithm": "Ed25519",
        "origin": origin,
        "keyName": verifier.name,
        "keyId": hex::encode(verifier.key_id()),
        "publicKey": STANDARD.encode(verifier.key.as_bytes()),
        "publicKeyPem": verifier
            .key
            .to_public_key_pem(Default::default())
            .unwrap_or_default(),
        "verifierKey": verifier.encode(),
        "checkpointFormat": "C2SP signed note, tlog-checkpoint (https://c2sp.org/tlog-checkpoint)",
        "leaf": "SHA-256(0x00 || canonical JSON {hash, position, recordedAt}), RFC 6962 tree",
    })
}

/// Reads a verifier key from a file or a string: the `verifierKey` form
/// (`name+id+base64`) or the `/.well-known/aduan-audit-key` JSON document.
pub fn parse_verifier(text_or_path: &str) -> anyhow::Result<NoteVerifier> {
    let text = match std::fs::read_to_string(text_or_path) {
        Ok(text) => text,
        Err(_) => text_or_path.to_string(),
    };
    let text = text.trim();
    let vkey = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(doc) => doc["verifierKey"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("the key document has no verifierKey"))?
            .to_string(),
        Err(_) => text.to_string(),
    };
    Ok(NoteVerifier::parse(&vkey)?)
}

/// The checkpointer: seals and signs on a timer (as the elected process), or
/// when asked (`signAuditCheckpoint`, `aduan audit checkpoint`).
pub struct Audit {
    log: Arc<dyn EventLog>,
    signer: LogSigner,
    pub source: KeySource,
    every: Duration,
    last: Mutex<Option<Instant>>,
}

impl Audit {
    pub fn new(
        log: Arc<dyn EventLog>,
        signer: LogSigner,
        source: KeySource,
        every: Duration,
    ) -> Self {
        Audit {
            log,
            signer,
            source,
            every,
            last: Mutex::new(None),
        }
    }

    pub fn verifier(&self) -> NoteVerifier {
        self.signer.verifier()
    }

    pub fn signer(&self) -> &LogSigner {
        &self.signer
    }

    pub fn origin(&self) -> &str {
        &self.signer.origin
    }

    /// Seals what has settled and signs a checkpoint if the tree grew.
    pub async fn checkpoint(&self) -> Result<Option<Checkpoint>, StoreError> {
        let started = Instant::now();
        let result = audit::checkpoint(self.log.as_ref(), &self.signer).await;
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
    Json(key_document(&state.audit.verifier(), state.audit.origin()))
}
