//! Tracking codes: what lets the holder follow and rate one case without an
//! account. A code is the complaint's id followed by 160 bits of HMAC over it
//! under the server's key, so the server can hand the same code out again when
//! a submission is retried with its `commandId`, and no one without the key can
//! make one. Only a hash of the code is stored (in the submission event).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::aggregate::Case;

/// Bytes of MAC in a code: 160 bits, above the 128 the city asks for.
const MAC_BYTES: usize = 20;
const ID_BYTES: usize = 16;

/// The server's secret for making codes.
#[derive(Clone)]
pub struct TrackingKey(Vec<u8>);

impl TrackingKey {
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        TrackingKey(secret.into())
    }

    /// The code of `complaint_id`; `None` for an id that is not a UUID (ids from
    /// other systems, which get no code).
    #[allow(clippy::expect_used, reason = "HMAC accepts keys of any length")]
    pub fn code_for(&self, complaint_id: &str) -> Option<String> {
        let id = uuid::Uuid::parse_str(complaint_id).ok()?;
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key");
        mac.update(id.as_bytes());
        let tag = mac.finalize().into_bytes();
        let mut raw = id.as_bytes().to_vec();
        raw.extend_from_slice(&tag[..MAC_BYTES]);
        Some(URL_SAFE_NO_PAD.encode(raw))
    }
}

impl std::fmt::Debug for TrackingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TrackingKey(..)")
    }
}

/// The complaint a code claims to be for (not yet proof that it is).
pub fn complaint_id_of(code: &str) -> Option<String> {
    let raw = URL_SAFE_NO_PAD.decode(code.trim()).ok()?;
    if raw.len() != ID_BYTES + MAC_BYTES {
        return None;
    }
    let id = uuid::Uuid::from_slice(&raw[..ID_BYTES]).ok()?;
    Some(id.to_string())
}

/// What the submission event keeps of a code.
pub fn hash(code: &str) -> String {
    hex::encode(Sha256::digest(code.trim().as_bytes()))
}

/// Whether `code` is the case's tracking code.
pub fn matches(case: &Case, code: &str) -> bool {
    case.tracking_code_hash
        .as_deref()
        .is_some_and(|stored| stored == hash(code))
}

/// A pseudonym for a signed-in reporter's account, so projections can list a
/// citizen's own cases without holding account ids.
pub fn reporter_ref(subject: &str) -> String {
    hex::encode(Sha256::digest(format!("reporter:{subject}").as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "6f1c7c2e-8d0a-4e57-9a53-0c6c8f1f2a10";

    #[test]
    fn a_code_names_its_complaint_and_is_the_same_every_time() {
        let key = TrackingKey::new(b"k".to_vec());
        let code = key.code_for(ID).unwrap();
        assert_eq!(code, key.code_for(ID).unwrap());
        assert_eq!(complaint_id_of(&code).as_deref(), Some(ID));
        assert_eq!(code.len(), 48);
    }

    #[test]
    fn codes_differ_by_key_and_garbage_names_nothing() {
        let a = TrackingKey::new(b"a".to_vec()).code_for(ID).unwrap();
        let b = TrackingKey::new(b"b".to_vec()).code_for(ID).unwrap();
        assert_ne!(a, b);
        assert_ne!(hash(&a), hash(&b));
        assert_eq!(complaint_id_of("not a code"), None);
        assert_eq!(complaint_id_of(&a[..40]), None);
        assert_eq!(TrackingKey::new(b"a".to_vec()).code_for("TICKET-7"), None);
    }

    #[test]
    fn reporter_refs_are_stable_and_distinct() {
        assert_eq!(reporter_ref("warga-1"), reporter_ref("warga-1"));
        assert_ne!(reporter_ref("warga-1"), reporter_ref("warga-2"));
        assert_eq!(reporter_ref("warga-1").len(), 64);
    }
}
