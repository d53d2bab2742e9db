//! Bearer JWTs: who is acting. HS256 with the server's secret.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use aduan_domain::{Actor, Role};

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

#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl JwtKeys {
    pub fn hs256(secret: &[u8]) -> Self {
        JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
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
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AuthError::Invalid(e.to_string()))
    }

    /// The actor of an `Authorization` header value.
    pub fn actor_from_header(&self, header: Option<&str>) -> Result<Actor, AuthError> {
        let token = header
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(AuthError::Missing)?;
        self.verify(token)
    }

    pub fn verify(&self, token: &str) -> Result<Actor, AuthError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 30;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|e| AuthError::Invalid(e.to_string()))?;
        actor_from_claims(data.claims)
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

/// The development signing secret: from ADUAN_JWT_SECRET when set, else kept in
/// the data directory, generated on first use. Never compiled in.
/// The HS256 signing secret: ADUAN_JWT_SECRET if set, otherwise the development
/// secret kept in the database (generated on first use).
pub async fn load_or_create_secret(
    log: &dyn aduan_store::EventLog,
    from_env: Option<&str>,
) -> anyhow::Result<(Vec<u8>, SecretSource)> {
    if let Some(secret) = from_env.filter(|s| !s.is_empty()) {
        anyhow::ensure!(
            secret.len() >= 32,
            "ADUAN_JWT_SECRET must be at least 32 characters"
        );
        return Ok((secret.as_bytes().to_vec(), SecretSource::Environment));
    }
    let fresh = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let (secret, generated) = log.setting_or_insert(DEV_SECRET_KEY, &fresh).await?;
    let source = if generated {
        SecretSource::Generated
    } else {
        SecretSource::Stored
    };
    Ok((secret.into_bytes(), source))
}

const DEV_SECRET_KEY: &str = "jwt_dev_secret";

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

    #[test]
    fn minted_tokens_verify_and_carry_the_actor() {
        let keys = JwtKeys::hs256(b"0123456789abcdef0123456789abcdef");
        let actor = Actor::new("officer-7", Role::OpdOfficer, Some("DPU"));
        let token = keys.mint(&actor, chrono::Duration::hours(1)).unwrap();
        assert_eq!(
            keys.actor_from_header(Some(&format!("Bearer {token}"))),
            Ok(actor)
        );
    }

    #[test]
    fn wrong_secret_expired_and_missing_are_refused() {
        let keys = JwtKeys::hs256(b"0123456789abcdef0123456789abcdef");
        let other = JwtKeys::hs256(b"fedcba9876543210fedcba9876543210");
        let actor = Actor::new("a", Role::Agent, None);
        let token = other.mint(&actor, chrono::Duration::hours(1)).unwrap();
        assert!(matches!(keys.verify(&token), Err(AuthError::Invalid(_))));
        let expired = keys.mint(&actor, chrono::Duration::hours(-1)).unwrap();
        assert!(matches!(keys.verify(&expired), Err(AuthError::Invalid(_))));
        assert_eq!(keys.actor_from_header(None), Err(AuthError::Missing));
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
