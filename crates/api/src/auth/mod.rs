//! Bearer JWTs: who is acting. RS256/ES256 tokens from a city's identity
//! provider, checked against its JWKS; HS256 with the server's secret for
//! development and the city's own bridges.

mod jwks;

use std::sync::Arc;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

pub use jwks::{JwksError, KeySet};

use aduan_domain::{Actor, Role};

use crate::keys::{KeyKind, KeyRing};

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opd: Option<String>,
    pub exp: i64,
    pub iat: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("missing bearer token")]
    Missing,
    #[error("invalid token: {0}")]
    Invalid(String),
}

/// What a token's registered claims must say besides a valid signature.
#[derive(Debug, Clone)]
pub struct ClaimRules {
    /// Clock skew tolerated on `exp` and `nbf`, in seconds.
    pub leeway_seconds: u64,
    pub issuer: Option<String>,
    pub audience: Option<String>,
}

impl Default for ClaimRules {
    fn default() -> Self {
        ClaimRules {
            leeway_seconds: 30,
            issuer: None,
            audience: None,
        }
    }
}

/// The HS256 secret: one given (ADUAN_JWT_SECRET), or the development ring
/// kept in the database, whose newest secret signs and whose rotated-out ones
/// verify until they retire (`aduan keys rotate dev-token`).
#[derive(Clone)]
enum Hs256 {
    /// Signs with the first; verifies with any (the given secret, and during a
    /// rotation the one it replaces: ADUAN_JWT_SECRET_PREVIOUS).
    Fixed(EncodingKey, Vec<DecodingKey>),
    Ring(Arc<KeyRing>),
}

/// The keys tokens are verified with: an HS256 secret, an identity provider's
/// key set, or both.
#[derive(Clone)]
pub struct JwtKeys {
    hs256: Option<Hs256>,
    jwks: Option<Arc<KeySet>>,
    rules: ClaimRules,
}

impl JwtKeys {
    pub fn hs256(secret: &[u8]) -> Self {
        JwtKeys::new(Some(secret), None, ClaimRules::default())
    }

    pub fn new(hs256: Option<&[u8]>, jwks: Option<KeySet>, rules: ClaimRules) -> Self {
        JwtKeys {
            hs256: hs256.map(|s| {
                Hs256::Fixed(
                    EncodingKey::from_secret(s),
                    vec![DecodingKey::from_secret(s)],
                )
            }),
            jwks: jwks.map(Arc::new),
            rules,
        }
    }

    /// Also accepts HS256 tokens signed with `previous`, the secret a rotation
    /// of ADUAN_JWT_SECRET replaced, while the tokens it signed run out.
    pub fn accepting_previous(mut self, previous: &[u8]) -> Self {
        if let Some(Hs256::Fixed(_, keys)) = &mut self.hs256 {
            keys.push(DecodingKey::from_secret(previous));
        }
        self
    }

    /// HS256 with the development ring.
    pub fn with_ring(ring: Arc<KeyRing>, rules: ClaimRules) -> Self {
        JwtKeys {
            hs256: Some(Hs256::Ring(ring)),
            jwks: None,
            rules,
        }
    }

    /// The development ring, when tokens are signed with it.
    pub fn ring(&self) -> Option<&Arc<KeyRing>> {
        match &self.hs256 {
            Some(Hs256::Ring(ring)) => Some(ring),
            _ => None,
        }
    }

    pub fn mint(&self, actor: &Actor, ttl: chrono::Duration) -> Result<String, AuthError> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: actor.id.clone(),
            role: actor.role.as_str().to_string(),
            opd: actor.opd.clone(),
            iat: now,
            exp: now + ttl.num_seconds(),
        };
        let encoding = match &self.hs256 {
            Some(Hs256::Fixed(encoding, _)) => encoding.clone(),
            Some(Hs256::Ring(ring)) => {
                let ring = ring.held();
                let secret = ring.current().secret.as_deref().unwrap_or_default();
                EncodingKey::from_secret(secret.as_bytes())
            }
            None => return Err(AuthError::Invalid("no HS256 secret to sign with".into())),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &encoding)
            .map_err(|e| AuthError::Invalid(e.to_string()))
    }

    /// The actor of an `Authorization` header value.
    pub async fn actor_from_header(&self, header: Option<&str>) -> Result<Actor, AuthError> {
        let token = header
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(AuthError::Missing)?;
        self.verify(token).await
    }

    /// Checks the signature with the key the header's algorithm calls for (an
    /// algorithm we hold no key for is refused, so a token cannot pick a weaker
    /// check), then expiry, not-before, issuer and audience.
    pub async fn verify(&self, token: &str) -> Result<Actor, AuthError> {
        self.verify_expiring(token).await.map(|(actor, _)| actor)
    }

    /// `verify`, with the instant after which the token is refused (its `exp`
    /// plus the leeway), for connections that outlive a request: a WebSocket
    /// ends when its token does.
    pub async fn verify_expiring(
        &self,
        token: &str,
    ) -> Result<(Actor, chrono::DateTime<chrono::Utc>), AuthError> {
        let invalid = |e: &dyn std::fmt::Display| AuthError::Invalid(e.to_string());
        let header = jsonwebtoken::decode_header(token).map_err(|e| invalid(&e))?;
        let keys = match (header.alg, &self.hs256, &self.jwks) {
            (Algorithm::HS256, Some(Hs256::Fixed(_, keys)), _) => keys.clone(),
            (Algorithm::HS256, Some(Hs256::Ring(ring)), _) => ring
                .fresh()
                .await
                .secrets_at(chrono::Utc::now())
                .into_iter()
                .map(DecodingKey::from_secret)
                .collect(),
            (alg @ (Algorithm::RS256 | Algorithm::ES256), _, Some(set)) => vec![set
                .key(header.kid.as_deref(), alg)
                .await
                .ok_or_else(|| invalid(&"no trusted key matches the token's kid and alg"))?],
            (alg, _, _) => return Err(invalid(&format!("{alg:?} tokens are not accepted"))),
        };
        let validation = self.validation(header.alg);
        // While a development secret is rotated, the new and the old verify;
        // only a signature that neither makes moves on to the next.
        let mut decoded = Err(invalid(&"no key to verify with"));
        for key in &keys {
            match jsonwebtoken::decode::<Claims>(token, key, &validation) {
                Ok(data) => {
                    decoded = Ok(data);
                    break;
                }
                Err(e) if *e.kind() == jsonwebtoken::errors::ErrorKind::InvalidSignature => {
                    decoded = Err(invalid(&e));
                }
                Err(e) => {
                    decoded = Err(invalid(&e));
                    break;
                }
            }
        }
        let data = decoded?;
        let leeway = i64::try_from(self.rules.leeway_seconds).unwrap_or(i64::MAX);
        let expires = chrono::DateTime::from_timestamp(data.claims.exp.saturating_add(leeway), 0)
            .ok_or_else(|| invalid(&"exp is out of range"))?;
        Ok((actor_from_claims(data.claims)?, expires))
    }

    /// Issuer and audience bind the provider's tokens; HS256 tokens are the
    /// server's own (minted by `aduan token` for bridges and development).
    fn validation(&self, algorithm: Algorithm) -> Validation {
        let mut validation = Validation::new(algorithm);
        validation.leeway = self.rules.leeway_seconds;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.validate_aud = false;
        if algorithm == Algorithm::HS256 {
            return validation;
        }
        if let Some(issuer) = &self.rules.issuer {
            validation.set_issuer(&[issuer]);
            validation.required_spec_claims.insert("iss".into());
        }
        if let Some(audience) = &self.rules.audience {
            validation.set_audience(&[audience]);
            validation.validate_aud = true;
            validation.required_spec_claims.insert("aud".into());
        }
        validation
    }

    /// What a log line may say about the keys in use (never key material).
    pub async fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(set) = &self.jwks {
            parts.push(format!(
                "{} key(s) from the JWKS at {}",
                set.key_count().await,
                set.source()
            ));
        }
        if self.hs256.is_some() {
            parts.push("HS256 with the server's secret".to_string());
        }
        parts.join(" and ")
    }
}

fn actor_from_claims(claims: Claims) -> Result<Actor, AuthError> {
    let role = Role::parse(&claims.role)
        .ok_or_else(|| AuthError::Invalid(format!("unknown role {:?}", claims.role)))?;
    if claims.sub.trim().is_empty() {
        return Err(AuthError::Invalid("empty subject".into()));
    }
    let opd = claims.opd.filter(|o| !o.trim().is_empty());
    match (role.is_opd_scoped(), &opd) {
        (true, None) => Err(AuthError::Invalid(format!(
            "{role} tokens must name an opd"
        ))),
        (false, Some(_)) => Err(AuthError::Invalid(format!("{role} tokens carry no opd"))),
        _ => Ok(Actor {
            id: claims.sub,
            role,
            opd,
        }),
    }
}

/// ADUAN_JWT_SECRET, if set; long enough that it cannot be guessed.
pub fn explicit_secret(from_env: Option<&str>) -> anyhow::Result<Option<Vec<u8>>> {
    secret_named("ADUAN_JWT_SECRET", from_env)
}

/// ADUAN_JWT_SECRET_PREVIOUS, if set: the secret a rotation replaced, still
/// accepted (never used to sign) until it is unset.
pub fn previous_secret(from_env: Option<&str>) -> anyhow::Result<Option<Vec<u8>>> {
    secret_named("ADUAN_JWT_SECRET_PREVIOUS", from_env)
}

fn secret_named(name: &str, from_env: Option<&str>) -> anyhow::Result<Option<Vec<u8>>> {
    let Some(secret) = from_env.filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    anyhow::ensure!(secret.len() >= 32, "{name} must be at least 32 characters");
    Ok(Some(secret.as_bytes().to_vec()))
}

/// The HS256 signing secret: ADUAN_JWT_SECRET if set, otherwise the newest
/// development secret kept in the database (generated on first use). Never
/// compiled in.
pub async fn load_or_create_secret(
    log: &Arc<dyn aduan_store::EventLog>,
    from_env: Option<&str>,
) -> anyhow::Result<(Vec<u8>, SecretSource)> {
    if let Some(secret) = explicit_secret(from_env)? {
        return Ok((secret, SecretSource::Environment));
    }
    let (ring, source) = dev_ring(log).await?;
    let secret = ring.held().current().secret.clone().unwrap_or_default();
    Ok((secret.into_bytes(), source))
}

/// The development secrets' ring, and whether its first secret was made now.
pub async fn dev_ring(
    log: &Arc<dyn aduan_store::EventLog>,
) -> anyhow::Result<(Arc<KeyRing>, SecretSource)> {
    let legacy = KeyKind::DevToken.legacy();
    let (_, generated) = crate::settings::stored_secret(log.as_ref(), legacy).await?;
    let ring = KeyRing::open(KeyKind::DevToken, log.clone(), None).await?;
    let source = if generated {
        SecretSource::Generated
    } else {
        SecretSource::Stored
    };
    Ok((ring, source))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    Environment,
    /// The development secret, generated earlier and kept in the database.
    Stored,
    /// The development secret, generated just now.
    Generated,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn minted_tokens_verify_and_carry_the_actor() {
        let keys = JwtKeys::hs256(b"0123456789abcdef0123456789abcdef");
        let actor = Actor::new("officer-7", Role::OpdOfficer, Some("DPU"));
        let token = keys.mint(&actor, chrono::Duration::hours(1)).unwrap();
        assert_eq!(
            keys.actor_from_header(Some(&format!("Bearer {token}")))
                .await,
            Ok(actor)
        );
    }

    #[tokio::test]
    async fn wrong_secret_expired_and_missing_are_refused() {
        let keys = JwtKeys::hs256(b"0123456789abcdef0123456789abcdef");
        let other = JwtKeys::hs256(b"fedcba9876543210fedcba9876543210");
        let actor = Actor::new("a", Role::Agent, None);
        let token = other.mint(&actor, chrono::Duration::hours(1)).unwrap();
        assert!(matches!(
            keys.verify(&token).await,
            Err(AuthError::Invalid(_))
        ));
        let expired = keys.mint(&actor, chrono::Duration::hours(-1)).unwrap();
        assert!(matches!(
            keys.verify(&expired).await,
            Err(AuthError::Invalid(_))
        ));
        assert_eq!(keys.actor_from_header(None).await, Err(AuthError::Missing));
    }

    #[tokio::test]
    async fn the_previous_secret_verifies_but_never_signs() {
        let old = JwtKeys::hs256(b"0123456789abcdef0123456789abcdef");
        let rotated = JwtKeys::hs256(b"fedcba9876543210fedcba9876543210")
            .accepting_previous(b"0123456789abcdef0123456789abcdef");
        let stranger = JwtKeys::hs256(b"abcdefabcdefabcdefabcdefabcdefab");
        let actor = Actor::new("a", Role::Agent, None);
        let from_old = old.mint(&actor, chrono::Duration::hours(1)).unwrap();
        assert_eq!(rotated.verify(&from_old).await, Ok(actor.clone()));
        let from_rotated = rotated.mint(&actor, chrono::Duration::hours(1)).unwrap();
        assert!(
            old.verify(&from_rotated).await.is_err(),
            "signed with the new secret"
        );
        let from_stranger = stranger.mint(&actor, chrono::Duration::hours(1)).unwrap();
        assert!(rotated.verify(&from_stranger).await.is_err());
        assert!(previous_secret(Some("short")).is_err());
        assert_eq!(previous_secret(Some("")).unwrap(), None);
    }

    #[test]
    fn opd_roles_need_an_opd_and_others_must_not_have_one() {
        let claims = |role: &str, opd: Option<&str>| Claims {
            sub: "x".into(),
            role: role.into(),
            opd: opd.map(str::to_string),
            exp: 0,
            iat: 0,
        };
        assert!(actor_from_claims(claims("OPD_ADMIN", None)).is_err());
        assert!(actor_from_claims(claims("AGENT", Some("DPU"))).is_err());
        assert!(actor_from_claims(claims("WIZARD", None)).is_err());
        assert!(actor_from_claims(claims("OPD_OFFICER", Some("DPU"))).is_ok());
    }
}

/// RS256 and ES256 against a JWKS file, with keys made in the test.
#[cfg(test)]
mod provider_tests {
    use super::*;
    use aduan_testkit::keys::{claims, JwksFile, TestKey};
    use serde_json::{json, Value};

    const ISSUER: &str = "https://sso.makassarkota.example/realms/aduan";
    const AUDIENCE: &str = "aduan-api";

    struct Provider {
        rsa: TestKey,
        ec: TestKey,
        keys: JwtKeys,
        _file: JwksFile,
    }

    async fn provider(leeway_seconds: u64, secret: Option<&[u8]>) -> Provider {
        let rsa = TestKey::rs256("rsa-1");
        let ec = TestKey::es256("ec-1");
        let file = JwksFile::write(&[&rsa, &ec]);
        let set = KeySet::load(&file.path).await.unwrap();
        let rules = ClaimRules {
            leeway_seconds,
            issuer: Some(ISSUER.into()),
            audience: Some(AUDIENCE.into()),
        };
        Provider {
            rsa,
            ec,
            keys: JwtKeys::new(secret, Some(set), rules),
            _file: file,
        }
    }

    fn officer() -> Value {
        claims("petugas-7", "OPD_OFFICER", Some("DPU"), ISSUER, AUDIENCE)
    }

    fn with(mut claims: Value, key: &str, value: Value) -> Value {
        claims[key] = value;
        claims
    }

    fn refused(result: Result<Actor, AuthError>) -> bool {
        matches!(result, Err(AuthError::Invalid(_)))
    }

    #[tokio::test]
    async fn rs256_and_es256_tokens_from_the_provider_are_accepted() {
        let p = provider(30, None).await;
        let expected = Actor::new("petugas-7", Role::OpdOfficer, Some("DPU"));
        for key in [&p.rsa, &p.ec] {
            assert_eq!(
                p.keys.verify(&key.sign(&officer())).await,
                Ok(expected.clone())
            );
        }
    }

    #[tokio::test]
    async fn claims_that_do_not_hold_are_refused() {
        let p = provider(30, None).await;
        let now = chrono::Utc::now().timestamp();
        let mut no_exp = officer();
        no_exp.as_object_mut().unwrap().remove("exp");
        for bad in [
            with(officer(), "exp", json!(now - 120)),
            with(officer(), "nbf", json!(now + 120)),
            with(officer(), "iss", json!("https://evil.example/")),
            with(officer(), "aud", json!("another-app")),
            no_exp,
        ] {
            assert!(refused(p.keys.verify(&p.rsa.sign(&bad)).await), "{bad}");
        }
    }

    #[tokio::test]
    async fn unknown_keys_and_other_algorithms_are_refused() {
        let p = provider(30, None).await;
        // A key the provider never published, even under a published kid.
        let stranger = TestKey::es256("ec-1");
        assert!(refused(p.keys.verify(&stranger.sign(&officer())).await));
        let unknown = TestKey::es256("ec-9");
        assert!(refused(p.keys.verify(&unknown.sign(&officer())).await));
        // An RS256 token naming the EC key's id: the key's algorithm decides.
        let mut confused = TestKey::rs256("ec-1");
        confused.kid = "ec-1".into();
        assert!(refused(p.keys.verify(&confused.sign(&officer())).await));
        // HS256 signed with the public key's bytes (algorithm confusion), and
        // `alg: none`: no HS256 secret is configured, and none is never accepted.
        let public = p.rsa.jwk["n"].as_str().unwrap().as_bytes().to_vec();
        let hs = JwtKeys::hs256(&public)
            .mint(
                &Actor::new("x", Role::Agent, None),
                chrono::Duration::hours(1),
            )
            .unwrap();
        assert!(refused(p.keys.verify(&hs).await));
        let none = format!(
            "{}.{}.",
            base64url(&json!({"alg": "none", "typ": "JWT"})),
            base64url(&officer())
        );
        assert!(refused(p.keys.verify(&none).await));
    }

    #[tokio::test]
    async fn leeway_is_configurable() {
        let expired_10s_ago = with(officer(), "exp", json!(chrono::Utc::now().timestamp() - 10));
        let lenient = provider(30, None).await;
        assert!(lenient
            .keys
            .verify(&lenient.ec.sign(&expired_10s_ago))
            .await
            .is_ok());
        let strict = provider(0, None).await;
        assert!(refused(
            strict.keys.verify(&strict.ec.sign(&expired_10s_ago)).await
        ));
    }

    #[tokio::test]
    async fn hs256_beside_a_provider_only_with_an_explicit_secret() {
        let secret = b"0123456789abcdef0123456789abcdef";
        let bridge = JwtKeys::hs256(secret)
            .mint(
                &Actor::new("bridge", Role::System, None),
                chrono::Duration::hours(1),
            )
            .unwrap();
        let without = provider(30, None).await;
        assert!(refused(without.keys.verify(&bridge).await));
        let with_secret = provider(30, Some(secret)).await;
        assert!(with_secret.keys.verify(&bridge).await.is_ok());
        // Other secrets still fail.
        let forged = JwtKeys::hs256(b"fedcba9876543210fedcba9876543210")
            .mint(
                &Actor::new("bridge", Role::System, None),
                chrono::Duration::hours(1),
            )
            .unwrap();
        assert!(refused(with_secret.keys.verify(&forged).await));
    }

    fn base64url(value: &Value) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
    }
}
