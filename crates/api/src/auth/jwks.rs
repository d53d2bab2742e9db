//! Public keys of a city's identity provider, from a JWKS file or URL. Keys are
//! loaded at start (a server that cannot load them does not start); a token that
//! names a key we do not have makes us fetch the set again, at most once a minute,
//! so the provider can rotate keys without a restart and a flood of made-up key
//! ids cannot turn into a flood of fetches.

use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey};
use tokio::sync::{Mutex, RwLock};

/// How often an unknown key id may cause a fetch.
const REFETCH_EVERY: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    #[error("reading the JWKS at {0}: {1}")]
    Fetch(String, String),
    #[error("the JWKS at {0} is not a JSON Web Key Set: {1}")]
    Parse(String, String),
    #[error("the JWKS at {0} has no RS256 or ES256 (P-256) signing key")]
    NoUsableKey(String),
}

/// One usable key: its id, the one algorithm it verifies, the key.
#[derive(Clone)]
struct Key {
    kid: Option<String>,
    algorithm: Algorithm,
    key: DecodingKey,
}

pub struct KeySet {
    source: String,
    http: Option<reqwest::Client>,
    keys: RwLock<Vec<Key>>,
    /// When an unknown key id last made us fetch (not counting the start).
    refetched: Mutex<Option<Instant>>,
}

impl KeySet {
    /// Loads the keys from `source`: an `http://` or `https://` URL, else a file path.
    #[allow(
        clippy::expect_used,
        reason = "rustls initialises without system libraries; a failure here is a broken build"
    )]
    pub async fn load(source: &str) -> Result<KeySet, JwksError> {
        let http = is_url(source).then(|| {
            reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("an HTTP client with a timeout")
        });
        let set = KeySet {
            source: source.to_string(),
            http,
            keys: RwLock::new(Vec::new()),
            refetched: Mutex::new(None),
        };
        let keys = set.fetch().await?;
        *set.keys.write().await = keys;
        Ok(set)
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    pub async fn key_count(&self) -> usize {
        self.keys.read().await.len()
    }

    /// The key for a token's `kid` and `alg`; fetches the set again when the
    /// key id is unknown and the last such fetch is a minute old.
    pub async fn key(&self, kid: Option<&str>, algorithm: Algorithm) -> Option<DecodingKey> {
        if let Some(key) = self.find(kid, algorithm).await {
            return Some(key);
        }
        let mut refetched = self.refetched.lock().await;
        // Someone else may have fetched while we waited for the lock.
        if let Some(key) = self.find(kid, algorithm).await {
            return Some(key);
        }
        if refetched.is_some_and(|at| at.elapsed() < REFETCH_EVERY) {
            return None;
        }
        *refetched = Some(Instant::now());
        match self.fetch().await {
            Ok(keys) => *self.keys.write().await = keys,
            Err(e) => {
                tracing::warn!(error = %e, "could not refresh the JWKS; keeping the keys we have")
            }
        }
        self.find(kid, algorithm).await
    }

    async fn find(&self, kid: Option<&str>, algorithm: Algorithm) -> Option<DecodingKey> {
        let keys = self.keys.read().await;
        let found = match kid {
            Some(kid) => keys.iter().find(|k| k.kid.as_deref() == Some(kid)),
            // Without a key id, only an unambiguous set will do.
            None if keys.len() == 1 => keys.first(),
            None => None,
        };
        found
            .filter(|k| k.algorithm == algorithm)
            .map(|k| k.key.clone())
    }

    async fn fetch(&self) -> Result<Vec<Key>, JwksError> {
        let fetch_error = |e: String| JwksError::Fetch(self.source.clone(), e);
        let text = match &self.http {
            Some(http) => http
                .get(&self.source)
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
                .map_err(|e| fetch_error(e.to_string()))?
                .text()
                .await
                .map_err(|e| fetch_error(e.to_string()))?,
            None => tokio::fs::read_to_string(&self.source)
                .await
                .map_err(|e| fetch_error(e.to_string()))?,
        };
        // Each key on its own: a provider may publish keys of kinds we cannot
        // read (other curves, encryption algorithms); they must not hide the rest.
        let set: RawSet = serde_json::from_str(&text)
            .map_err(|e| JwksError::Parse(self.source.clone(), e.to_string()))?;
        let keys: Vec<Key> = set
            .keys
            .into_iter()
            .filter_map(|k| serde_json::from_value::<Jwk>(k).ok())
            .filter_map(|k| usable(&k))
            .collect();
        if keys.is_empty() {
            return Err(JwksError::NoUsableKey(self.source.clone()));
        }
        Ok(keys)
    }
}

#[derive(serde::Deserialize)]
struct RawSet {
    keys: Vec<serde_json::Value>,
}

fn is_url(source: &str) -> bool {
    source.starts_with("http://") || source.starts_with("https://")
}

/// The key, if it is an RSA or P-256 signing key whose declared algorithm (if
/// any) is the one its type implies. Everything else is skipped: an encryption
/// key, another curve, a symmetric key (which would let anyone holding the
/// public set sign tokens).
fn usable(jwk: &Jwk) -> Option<Key> {
    let algorithm = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
            Algorithm::ES256
        }
        _ => return None,
    };
    let declared_fits = match jwk.common.key_algorithm {
        None => true,
        Some(KeyAlgorithm::RS256) => algorithm == Algorithm::RS256,
        Some(KeyAlgorithm::ES256) => algorithm == Algorithm::ES256,
        Some(_) => false,
    };
    if !declared_fits {
        return None;
    }
    if matches!(
        jwk.common.public_key_use,
        Some(jsonwebtoken::jwk::PublicKeyUse::Encryption)
    ) {
        return None;
    }
    let key = DecodingKey::from_jwk(jwk).ok()?;
    Some(Key {
        kid: jwk.common.key_id.clone(),
        algorithm,
        key,
    })
}
