//! Rotating the server's own keys over GraphQL (`rotateServerKey`), as
//! `aduan keys rotate` does on the command line: the new key signs from now
//! on, the old one verifies for the overlap. The answer shows key ids and
//! times, never a secret.

use std::sync::Arc;

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use aduan_domain::access::Operation;

use super::access::guard;
use super::error::{gql_error, invalid_input, store_error};
use crate::attachments::Attachments;
use crate::audit::{Audit, KeySource};
use crate::error_code::ClientCode;
use crate::keys::{KeyKind, KeyRing, RotateError, StoredKey, TokenRing, MAX_OVERLAP_HOURS};

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ServerKey {
    /// The HMAC key of attachment download links.
    AttachmentLinks,
    /// The development key that signs audit checkpoints (a key file is
    /// rotated with `aduan keys rotate audit --new-key`).
    Audit,
    /// The HS256 secret of the server's own tokens (without ADUAN_JWT_SECRET).
    DevToken,
}

#[derive(InputObject)]
pub struct RotateServerKeyInput {
    pub key: ServerKey,
    /// Hours the old key keeps verifying (0 to 168; 0 for a key that leaked).
    /// Default: attachment links, their lifetime (links already handed out
    /// stay valid until they expire); the others, 24.
    pub overlap_hours: Option<i32>,
}

/// A key of a ring, by its id.
#[derive(SimpleObject)]
pub struct ServerKeyVersion {
    /// The audit key's C2SP key id, or the first bytes of a secret's SHA-256.
    pub key_id: String,
    /// When it began to sign (null: before keys were rotated).
    pub since: Option<DateTime<Utc>>,
    /// When it stops verifying (null: it signs now).
    pub retires: Option<DateTime<Utc>>,
    pub rotated_by: Option<String>,
}

impl From<&StoredKey> for ServerKeyVersion {
    fn from(k: &StoredKey) -> Self {
        ServerKeyVersion {
            key_id: k.id.clone(),
            since: k.since,
            retires: k.retires,
            rotated_by: k.rotated_by.clone(),
        }
    }
}

/// The ring after a rotation: the new key first.
#[derive(SimpleObject)]
pub struct RotatedServerKey {
    pub key: ServerKey,
    pub keys: Vec<ServerKeyVersion>,
}

#[derive(Default)]
pub struct KeyMutation;

#[Object]
impl KeyMutation {
    /// Rotates one of the server's keys without downtime: the new key signs
    /// from now on (every process within seconds), and the old one still
    /// verifies what it signed for the overlap.
    async fn rotate_server_key(
        &self,
        ctx: &Context<'_>,
        input: RotateServerKeyInput,
    ) -> Result<RotatedServerKey> {
        let (actor, _) = guard(ctx, Operation::RotateServerKeys)?;
        let hours = input.overlap_hours.map(i64::from);
        if hours.is_some_and(|h| !(0..=MAX_OVERLAP_HOURS).contains(&h)) {
            return Err(invalid_input(
                "overlapHours",
                &format!("0 to {MAX_OVERLAP_HOURS} hours"),
            ));
        }
        let hours = |default: chrono::Duration| hours.map_or(default, chrono::Duration::hours);
        let (ring, new, overlap): (Arc<KeyRing>, StoredKey, chrono::Duration) = match input.key {
            ServerKey::AttachmentLinks => {
                let attachments = data::<Arc<Attachments>>(ctx)?;
                let ttl = chrono::Duration::from_std(attachments.link_ttl())
                    .unwrap_or(chrono::Duration::hours(1));
                let new = StoredKey::secret(crate::keys::new_secret());
                (attachments.keys().clone(), new, hours(ttl))
            }
            ServerKey::Audit => {
                let audit = data::<Arc<Audit>>(ctx)?;
                if let KeySource::File(_) = audit.source {
                    return Err(invalid_input(
                        "key",
                        "the audit key is a file (ADUAN_AUDIT_KEY): rotate it with \
                         `aduan keys rotate audit --new-key FILE` (docs/operations.md)",
                    ));
                }
                let new = crate::audit::new_dev_key(audit.origin());
                (
                    audit.ring().clone(),
                    new,
                    hours(chrono::Duration::hours(24)),
                )
            }
            ServerKey::DevToken => {
                let Some(ring) = data::<TokenRing>(ctx)?.0.clone() else {
                    return Err(invalid_input(
                        "key",
                        "tokens are not signed with the development secret here \
                         (ADUAN_JWT_SECRET or ADUAN_JWKS is set)",
                    ));
                };
                let new = StoredKey::secret(crate::keys::new_secret());
                (ring, new, hours(chrono::Duration::hours(24)))
            }
        };
        let rotated = ring
            .rotate(new, overlap, &actor.id)
            .await
            .map_err(|e| match e {
                RotateError::Invalid(m) => invalid_input("key", &m),
                RotateError::Store(e) => store_error(e),
            })?;
        Ok(RotatedServerKey {
            key: input.key,
            keys: rotated.keys.iter().map(Into::into).collect(),
        })
    }
}

fn data<'a, T: Send + Sync + 'static>(ctx: &Context<'a>) -> Result<&'a T> {
    ctx.data::<T>()
        .map_err(|_| gql_error(ClientCode::Unavailable, "keys are not configured here"))
}

impl From<KeyKind> for ServerKey {
    fn from(k: KeyKind) -> Self {
        match k {
            KeyKind::Attachments => ServerKey::AttachmentLinks,
            KeyKind::Audit => ServerKey::Audit,
            KeyKind::DevToken => ServerKey::DevToken,
        }
    }
}
