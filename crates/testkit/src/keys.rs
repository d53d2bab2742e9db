//! Signing keys made in the test, as a city's identity provider would hold them:
//! ES256 from ring, RS256 from the `openssl` command (ring cannot generate RSA
//! keys, and a pure-Rust RSA crate would be slow to build for one test key).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Value};

/// A private key and the public JWK that goes with it.
pub struct TestKey {
    pub kid: String,
    pub algorithm: Algorithm,
    pub encoding: EncodingKey,
    pub jwk: Value,
}

impl TestKey {
    pub fn es256(kid: &str) -> TestKey {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .expect("generate a P-256 key");
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .expect("read the P-256 key back");
        // An uncompressed point: 0x04, then x and y.
        let point = pair.public_key().as_ref();
        TestKey {
            kid: kid.to_string(),
            algorithm: Algorithm::ES256,
            encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
            jwk: json!({
                "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid,
                "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
                "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
            }),
        }
    }

    pub fn rs256(kid: &str) -> TestKey {
        let pem = openssl(
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
            ],
            None,
        );
        let modulus = openssl(&["rsa", "-noout", "-modulus"], Some(&pem));
        let hex = modulus
            .trim()
            .strip_prefix("Modulus=")
            .expect("openssl prints Modulus=...");
        let n: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
            .collect();
        TestKey {
            kid: kid.to_string(),
            algorithm: Algorithm::RS256,
            encoding: EncodingKey::from_rsa_pem(pem.as_bytes()).expect("an RSA PEM key"),
            jwk: json!({
                "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
                "n": URL_SAFE_NO_PAD.encode(n),
                "e": "AQAB",
            }),
        }
    }

    /// Signs `claims` with this key, naming it in the header's `kid`.
    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.algorithm);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("sign a token")
    }
}

/// A JSON Web Key Set of these keys' public halves, after a key of a kind a
/// provider may publish but aduan cannot use (an X25519 encryption key).
pub fn jwks(keys: &[&TestKey]) -> Value {
    let foreign = json!({"kty": "OKP", "crv": "X25519", "use": "enc", "alg": "ECDH-ES", "kid": "enc-1", "x": "hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo"});
    let mut all = vec![foreign];
    all.extend(keys.iter().map(|k| k.jwk.clone()));
    json!({ "keys": all })
}

/// A JWKS written to a file of its own, removed when dropped.
pub struct JwksFile {
    dir: std::path::PathBuf,
    pub path: String,
}

impl JwksFile {
    pub fn write(keys: &[&TestKey]) -> JwksFile {
        let dir = std::env::temp_dir().join(format!("aduan-jwks-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("a directory for the JWKS");
        let path = dir.join("jwks.json");
        std::fs::write(&path, jwks(keys).to_string()).expect("write the JWKS");
        JwksFile {
            path: path.to_string_lossy().into_owned(),
            dir,
        }
    }
}

impl Drop for JwksFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Claims for `role` (and `opd`) valid from a minute ago for an hour, from
/// `issuer` for `audience`.
pub fn claims(sub: &str, role: &str, opd: Option<&str>, issuer: &str, audience: &str) -> Value {
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({
        "sub": sub, "role": role, "iss": issuer, "aud": audience,
        "iat": now, "nbf": now - 60, "exp": now + 3600,
    });
    if let Some(opd) = opd {
        claims["opd"] = json!(opd);
    }
    claims
}

fn openssl(args: &[&str], stdin: Option<&str>) -> String {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the openssl command (apt-get install openssl)");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    } else {
        drop(child.stdin.take());
    }
    let out = child.wait_with_output().expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("openssl prints text")
}
