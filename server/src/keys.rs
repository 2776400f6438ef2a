//! Signing keys per tenant (Ed25519): certificates carry a compact JWS (RFC 7515, `alg: EdDSA` per
//! RFC 8037) over their fields, and anyone holding the tenant's public keys (`GET /keys`, or
//! `jijiao cert public-key`) can check it offline. Keys are created on first use and rotated with
//! `jijiao keys rotate`; retired keys stay published so that what they signed still verifies.
//!
//! The private key lives in the database like the rest of the tenant's secrets; every server process of
//! a deployment signs with the same key.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde_json::{Value, json};

use crate::db::{Db, DbResult, q};

/// What a key signs: certificates (Ed25519) and the OpenID Connect provider's ID tokens (RSA, see [`rsa`]).
pub const CERTIFICATES: &str = "certificates";

#[derive(Clone)]
pub struct Key {
    pub kid: String,
    signing: SigningKey,
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct KeyRow {
    kid: String,
    public_key: String,
    created_at: DateTime<Utc>,
    retired_at: Option<DateTime<Utc>>,
}

/// A public key as a JWK (`kty: OKP`, `crv: Ed25519`), with the tenant and dates for people reading it.
#[derive(Debug, Clone)]
pub struct PublicKey {
    pub kid: String,
    pub key: VerifyingKey,
}

impl PublicKey {
    pub fn to_jwk(&self) -> Value {
        json!({"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": self.kid, "x": B64.encode(self.key.as_bytes())})
    }

    pub fn from_jwk(jwk: &Value) -> Option<PublicKey> {
        if jwk.get("kty")?.as_str()? != "OKP" || jwk.get("crv")?.as_str()? != "Ed25519" {
            return None;
        }
        let bytes: [u8; 32] = B64.decode(jwk.get("x")?.as_str()?).ok()?.try_into().ok()?;
        Some(PublicKey { kid: jwk.get("kid")?.as_str()?.to_owned(), key: VerifyingKey::from_bytes(&bytes).ok()? })
    }
}

impl KeyRow {
    fn public(&self) -> Option<PublicKey> {
        let bytes: [u8; 32] = B64.decode(&self.public_key).ok()?.try_into().ok()?;
        Some(PublicKey { kid: self.kid.clone(), key: VerifyingKey::from_bytes(&bytes).ok()? })
    }
}

/// A signature algorithm whose keys live in `signing_keys`: how to make a key pair and load the private
/// half. Getting the current key, creating and rotating are written once for every algorithm.
pub trait Algorithm: Sized + Send + 'static {
    /// The `algorithm` column.
    const NAME: &'static str;
    /// How many hex characters of the public key's SHA-256 make its key id.
    const KID_LEN: usize;
    /// A new key pair as stored: (public, private).
    fn generate() -> anyhow::Result<(String, String)>;
    /// The signing key from its stored private half.
    fn load(kid: String, private: &str) -> anyhow::Result<Self>;
}

/// The key that signs for `purpose` now: the newest unretired one, created when there is none.
pub async fn current_key<A: Algorithm>(db: &Db, tenant: &str, purpose: &str) -> anyhow::Result<A> {
    if let Some(key) = newest::<A>(db, tenant, purpose).await? {
        return Ok(key);
    }
    create::<A>(db, tenant, purpose).await?;
    newest::<A>(db, tenant, purpose).await?.ok_or_else(|| anyhow::anyhow!("signing key vanished"))
}

async fn newest<A: Algorithm>(db: &Db, tenant: &str, purpose: &str) -> anyhow::Result<Option<A>> {
    let row: Option<(String, String)> = db
        .opt(
            q("SELECT kid, private_key FROM signing_keys WHERE tenant_id = $1 AND purpose = $2 AND algorithm = $3 \
               AND retired_at IS NULL ORDER BY created_at DESC, kid DESC LIMIT 1")
            .bind(tenant)
            .bind(purpose)
            .bind(A::NAME),
        )
        .await?;
    row.map(|(kid, private)| A::load(kid, &private)).transpose()
}

/// A new key for `purpose`; earlier ones are retired (they still verify).
pub async fn rotate_key<A: Algorithm>(db: &Db, tenant: &str, purpose: &str) -> anyhow::Result<String> {
    db.run(
        q("UPDATE signing_keys SET retired_at = $3 WHERE tenant_id = $1 AND purpose = $2 AND retired_at IS NULL")
            .bind(tenant)
            .bind(purpose)
            .bind(Utc::now()),
    )
    .await?;
    create::<A>(db, tenant, purpose).await
}

async fn create<A: Algorithm>(db: &Db, tenant: &str, purpose: &str) -> anyhow::Result<String> {
    // Key generation can take a noticeable moment (RSA): off the async workers.
    let (public, private) = tokio::task::spawn_blocking(A::generate).await??;
    // The key id is derived from the public key, so two processes racing to create the first key
    // produce different ids and both rows are valid keys (the newest signs). Short: it travels in QR codes.
    let kid = hex::encode(sha2::Digest::finalize(sha2::Digest::chain_update(sha2::Sha256::default(), &public)))[..A::KID_LEN].to_owned();
    db.run(
        q("INSERT INTO signing_keys (tenant_id, kid, purpose, algorithm, public_key, private_key, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(tenant)
            .bind(&kid)
            .bind(purpose)
            .bind(A::NAME)
            .bind(public)
            .bind(private)
            .bind(Utc::now()),
    )
    .await?;
    Ok(kid)
}

/// A compact JWS (RFC 7515): base64url header and claims, signed by `sign` over `header.claims`.
fn compact_jws(header: &Value, claims: &Value, sign: impl FnOnce(&[u8]) -> Vec<u8>) -> String {
    let signing_input = format!("{}.{}", B64.encode(header.to_string()), B64.encode(claims.to_string()));
    let signature = sign(signing_input.as_bytes());
    format!("{signing_input}.{}", B64.encode(signature))
}

impl Algorithm for Key {
    const NAME: &'static str = "Ed25519";
    const KID_LEN: usize = 12;

    fn generate() -> anyhow::Result<(String, String)> {
        let signing = SigningKey::generate(&mut rand::rngs::OsRng);
        Ok((B64.encode(signing.verifying_key().as_bytes()), B64.encode(signing.to_bytes())))
    }

    fn load(kid: String, private: &str) -> anyhow::Result<Key> {
        let secret: [u8; 32] = B64.decode(private)?.try_into().map_err(|_| anyhow::anyhow!("signing key {kid} is malformed"))?;
        Ok(Key { kid, signing: SigningKey::from_bytes(&secret) })
    }
}

/// The Ed25519 key that signs for `purpose` now.
pub async fn current(db: &Db, tenant: &str, purpose: &str) -> anyhow::Result<Key> {
    current_key(db, tenant, purpose).await
}

/// A new Ed25519 key for `purpose`.
pub async fn rotate(db: &Db, tenant: &str, purpose: &str) -> anyhow::Result<String> {
    rotate_key::<Key>(db, tenant, purpose).await
}

/// Every key of the tenant for `purpose`, current and retired: what verifiers need.
pub async fn public_keys(db: &Db, tenant: &str, purpose: &str) -> DbResult<Vec<PublicKey>> {
    let rows: Vec<KeyRow> = db
        .all(
            q("SELECT kid, public_key, created_at, retired_at FROM signing_keys WHERE tenant_id = $1 AND purpose = $2 ORDER BY created_at, kid")
                .bind(tenant)
                .bind(purpose),
        )
        .await?;
    Ok(rows.iter().filter_map(KeyRow::public).collect())
}

/// A tenant's public keys for one purpose as a JWK set (RFC 7517).
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct JwkSet {
    /// Public keys as JWKs (`kty`, `kid`, `alg`, …): certificate keys are Ed25519 (`crv`, `x`), each with
    /// its `created_at` and `retired_at`
    #[schema(value_type = Vec<Object>)]
    pub keys: Vec<Value>,
}

/// The tenant's public keys as a JWK set, with each key's dates (extra members are allowed in JWKs).
pub async fn jwks(db: &Db, tenant: &str, purpose: &str) -> DbResult<JwkSet> {
    let rows: Vec<KeyRow> = db
        .all(
            q("SELECT kid, public_key, created_at, retired_at FROM signing_keys WHERE tenant_id = $1 AND purpose = $2 ORDER BY created_at, kid")
                .bind(tenant)
                .bind(purpose),
        )
        .await?;
    let keys: Vec<Value> = rows
        .iter()
        .filter_map(|row| {
            let mut jwk = row.public()?.to_jwk();
            jwk["created_at"] = json!(row.created_at);
            jwk["retired_at"] = json!(row.retired_at);
            Some(jwk)
        })
        .collect();
    Ok(JwkSet { keys })
}

impl Key {
    /// A compact JWS of `claims`: `header.payload.signature`, all base64url.
    pub fn sign_jws(&self, claims: &Value) -> String {
        compact_jws(&json!({"alg": "EdDSA", "kid": self.kid}), claims, |input| self.signing.sign(input).to_bytes().to_vec())
    }

    /// A raw Ed25519 signature (for Data Integrity proofs).
    pub fn sign_bytes(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }

    pub fn public(&self) -> PublicKey {
        PublicKey { kid: self.kid.clone(), key: self.signing.verifying_key() }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwsError {
    #[error("not a compact JWS")]
    Malformed,
    #[error("signed by an unknown key {0:?}")]
    UnknownKey(String),
    #[error("the signature does not match the content")]
    BadSignature,
}

/// Checks a compact JWS against `keys` (by its `kid`) and returns its claims.
pub fn verify_jws(token: &str, keys: &[PublicKey]) -> Result<Value, JwsError> {
    let mut parts = token.trim().split('.');
    let (Some(header), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(JwsError::Malformed);
    };
    let decode = |part: &str| B64.decode(part).map_err(|_| JwsError::Malformed);
    let header: Value = serde_json::from_slice(&decode(header)?).map_err(|_| JwsError::Malformed)?;
    if header.get("alg").and_then(Value::as_str) != Some("EdDSA") {
        return Err(JwsError::Malformed);
    }
    let kid = header.get("kid").and_then(Value::as_str).unwrap_or_default();
    let key = keys.iter().find(|k| k.kid == kid).ok_or_else(|| JwsError::UnknownKey(kid.to_owned()))?;
    let signature = Signature::from_slice(&decode(signature)?).map_err(|_| JwsError::Malformed)?;
    let signing_input = &token.trim()[..token.trim().rfind('.').unwrap_or(0)];
    key.key.verify(signing_input.as_bytes(), &signature).map_err(|_| JwsError::BadSignature)?;
    serde_json::from_slice(&decode(payload)?).map_err(|_| JwsError::Malformed)
}

/// RS256 keys for the OpenID Connect provider's ID tokens (`purpose = 'oidc'`, `algorithm = 'RS256'`):
/// RS256 is the one algorithm OIDC Discovery requires every provider to offer. A 2048-bit key is created
/// on first use; the private key is stored as PKCS#8 PEM, the public key as SPKI PEM. Rotation works as
/// for certificates: the new key signs, retired keys stay in the JWK set so tokens they signed verify.
pub mod rsa {
    use ::rsa::pkcs1v15::SigningKey;
    use ::rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding};
    use ::rsa::sha2::Sha256;
    use ::rsa::signature::{SignatureEncoding, Signer};
    use ::rsa::traits::PublicKeyParts;
    use ::rsa::{RsaPrivateKey, RsaPublicKey};
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use serde_json::{Value, json};

    use crate::db::{Db, q};

    pub const OIDC: &str = "oidc";

    pub struct RsaKey {
        pub kid: String,
        private: RsaPrivateKey,
    }

    impl RsaKey {
        /// A compact JWS (a JWT) of `claims` with `alg: RS256`.
        pub fn sign_jwt(&self, claims: &Value) -> String {
            let header = json!({"alg": "RS256", "typ": "JWT", "kid": self.kid});
            super::compact_jws(&header, claims, |input| SigningKey::<Sha256>::new(self.private.clone()).sign(input).to_vec())
        }
    }

    impl super::Algorithm for RsaKey {
        const NAME: &'static str = "RS256";
        const KID_LEN: usize = 16;

        /// 2048 bits; the public key as SPKI PEM, the private key as PKCS#8 PEM.
        fn generate() -> anyhow::Result<(String, String)> {
            let key = RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048)?;
            Ok((key.to_public_key().to_public_key_pem(LineEnding::LF)?, key.to_pkcs8_pem(LineEnding::LF)?.to_string()))
        }

        fn load(kid: String, private: &str) -> anyhow::Result<RsaKey> {
            Ok(RsaKey { kid, private: RsaPrivateKey::from_pkcs8_pem(private)? })
        }
    }

    /// The RSA key that signs for `purpose` now, created when there is none.
    pub async fn current(db: &Db, tenant: &str, purpose: &str) -> anyhow::Result<RsaKey> {
        super::current_key(db, tenant, purpose).await
    }

    /// A new RSA key for `purpose`; earlier ones are retired (still published).
    pub async fn rotate(db: &Db, tenant: &str, purpose: &str) -> anyhow::Result<String> {
        super::rotate_key::<RsaKey>(db, tenant, purpose).await
    }

    /// Every RSA key of the tenant for `purpose`, current and retired, as a JWK set.
    pub async fn jwks(db: &Db, tenant: &str, purpose: &str) -> anyhow::Result<super::JwkSet> {
        let rows: Vec<(String, String)> = db
            .all(
                q("SELECT kid, public_key FROM signing_keys WHERE tenant_id = $1 AND purpose = $2 AND algorithm = 'RS256' ORDER BY created_at, kid")
                    .bind(tenant)
                    .bind(purpose),
            )
            .await?;
        let keys: Vec<Value> = rows
            .iter()
            .filter_map(|(kid, pem)| {
                let key = RsaPublicKey::from_public_key_pem(pem).ok()?;
                Some(json!({"kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid,
                            "n": B64.encode(key.n().to_bytes_be()), "e": B64.encode(key.e().to_bytes_be())}))
            })
            .collect();
        Ok(super::JwkSet { keys })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jws_round_trip_and_tamper() {
        let key = Key { kid: "k1".into(), signing: SigningKey::from_bytes(&[7; 32]) };
        let token = key.sign_jws(&json!({"n": "HN2026X", "h": [3000, 6000]}));
        let keys = [key.public()];
        assert_eq!(verify_jws(&token, &keys).unwrap()["n"], "HN2026X");
        let parts: Vec<&str> = token.split('.').collect();
        let forged = format!("{}.{}.{}", parts[0], B64.encode(json!({"n": "HN2026X", "h": [9000, 6000]}).to_string()), parts[2]);
        assert_eq!(verify_jws(&forged, &keys), Err(JwsError::BadSignature));
        let other = PublicKey { kid: "k1".into(), key: SigningKey::from_bytes(&[8; 32]).verifying_key() };
        assert_eq!(verify_jws(&token, &[other]), Err(JwsError::BadSignature));
        assert_eq!(verify_jws("a.b", &keys), Err(JwsError::Malformed));
        assert!(matches!(verify_jws(&token, &[]), Err(JwsError::UnknownKey(_))));
        let jwk = keys[0].to_jwk();
        assert_eq!(PublicKey::from_jwk(&jwk).unwrap().key, keys[0].key);
    }
}
