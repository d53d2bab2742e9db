//! Signing as the Standard Webhooks specification does (standardwebhooks.com):
//! the secret is `whsec_` and base64 of its bytes; the signed content is
//! `<webhook-id>.<webhook-timestamp>.<body>`; `webhook-signature` is `v1,` and
//! base64 of HMAC-SHA256 over it. A receiver checks with any Standard Webhooks
//! library, or with `verify` below.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

const PREFIX: &str = "whsec_";

/// A new secret: 32 bytes from the system's random source (two v4 UUIDs' 244
/// random bits, as the server's other secrets).
pub fn new_secret() -> String {
    let mut bytes = Vec::with_capacity(32);
    bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    format!("{PREFIX}{}", STANDARD.encode(bytes))
}

fn key(secret: &str) -> Option<Vec<u8>> {
    STANDARD
        .decode(secret.strip_prefix(PREFIX).unwrap_or(secret))
        .ok()
}

fn mac(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Option<Hmac<Sha256>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(&key(secret)?).ok()?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    Some(mac)
}

/// The `webhook-signature` header's value.
#[allow(
    clippy::expect_used,
    reason = "HMAC accepts keys of any length, and new_secret makes every secret"
)]
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    let mac = mac(secret, id, timestamp, body).expect("secrets are made by new_secret");
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The `webhook-signature` header's value signed with each of `secrets`
/// (space-separated, as the specification allows while a secret is rotated).
pub fn sign_all(secrets: &[&str], id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets
        .iter()
        .map(|secret| sign(secret, id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `header` (space-separated `v1,<base64>` signatures) holds a valid
/// signature of the message; constant-time in the signature.
pub fn verify(secret: &str, id: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
    header.split(' ').any(|candidate| {
        let Some(sig) = candidate.strip_prefix("v1,") else {
            return false;
        };
        let (Ok(sig), Some(mac)) = (STANDARD.decode(sig), mac(secret, id, timestamp, body)) else {
            return false;
        };
        mac.verify_slice(&sig).is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example of the Standard Webhooks specification's reference libraries.
    #[test]
    fn signs_as_the_specification_example() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        let sig = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert!(verify(
            secret,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            body,
            &sig
        ));
    }

    #[test]
    fn any_change_breaks_the_signature() {
        let secret = new_secret();
        let sig = sign(&secret, "a:1", 100, b"{}");
        assert!(verify(
            &secret,
            "a:1",
            100,
            b"{}",
            &format!("v1,bogus {sig}")
        ));
        assert!(!verify(&secret, "a:2", 100, b"{}", &sig));
        assert!(!verify(&secret, "a:1", 101, b"{}", &sig));
        assert!(!verify(&secret, "a:1", 100, b"{ }", &sig));
        assert!(!verify(&new_secret(), "a:1", 100, b"{}", &sig));
    }

    #[test]
    fn while_a_secret_is_rotated_both_sign_and_each_verifies() {
        let (new, old) = (new_secret(), new_secret());
        let header = sign_all(&[&new, &old], "a:1", 100, b"{}");
        assert_eq!(header.split(' ').count(), 2);
        assert!(verify(&new, "a:1", 100, b"{}", &header));
        assert!(verify(&old, "a:1", 100, b"{}", &header));
        assert!(!verify(&new_secret(), "a:1", 100, b"{}", &header));
    }

    #[test]
    fn secrets_differ_and_carry_32_bytes() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert_eq!(key(&a).unwrap().len(), 32);
    }
}
