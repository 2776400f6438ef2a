//! A certificate as an Open Badges 3.0 `OpenBadgeCredential`: a W3C Verifiable Credential (data model
//! 2.0) the holder can keep in any wallet, none of the seed systems offered a portable credential.
//! It is secured with a Data Integrity proof, cryptosuite `eddsa-jcs-2022`: Ed25519 over the SHA-256 of
//! the JCS-canonical (RFC 8785) proof options and document. The issuer is a `did:key` of the tenant's
//! certificate key, so a verifier needs nothing but the credential.

use chrono::SecondsFormat;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::Certificate;
use crate::error::AppError;
use crate::hours;
use crate::state::AppState;
use crate::tenancy::TenantSettings;

const VC_CONTEXT: &str = "https://www.w3.org/ns/credentials/v2";
const OB_CONTEXT: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json";

/// `did:key` of an Ed25519 public key: multicodec 0xed01, base58btc multibase.
pub fn did_key(public: &ed25519_dalek::VerifyingKey) -> String {
    let mut bytes = vec![0xed, 0x01];
    bytes.extend_from_slice(public.as_bytes());
    format!("did:key:z{}", bs58::encode(bytes).into_string())
}

/// The public key a `did:key` names, if it is an Ed25519 one.
pub fn key_of_did(did: &str) -> Option<ed25519_dalek::VerifyingKey> {
    let encoded = did.strip_prefix("did:key:z")?.split('#').next()?;
    let bytes = bs58::decode(encoded).into_vec().ok()?;
    let key: [u8; 32] = bytes.strip_prefix(&[0xed, 0x01])?.try_into().ok()?;
    ed25519_dalek::VerifyingKey::from_bytes(&key).ok()
}

/// JSON Canonicalization Scheme (RFC 8785) for the values we produce: object members sorted by their
/// UTF-16 code units, no whitespace. Numbers are integers here (hours travel as strings), whose JCS
/// form is serde_json's.
pub fn jcs(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            let inner: Vec<String> = members.iter().map(|(k, v)| format!("{}:{}", Value::String((*k).clone()), jcs(v))).collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(items) => format!("[{}]", items.iter().map(jcs).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}

/// `SHA-256(JCS(proof options)) ‖ SHA-256(JCS(document))`: what eddsa-jcs-2022 signs.
fn hash_data(proof_options: &Value, document: &Value) -> Vec<u8> {
    let mut data = Sha256::digest(jcs(proof_options).as_bytes()).to_vec();
    data.extend_from_slice(&Sha256::digest(jcs(document).as_bytes()));
    data
}

/// The credential for a valid certificate, signed with the tenant's current certificate key.
pub async fn credential(state: &AppState, settings: &TenantSettings, origin: &str, certificate: &Certificate) -> Result<Value, AppError> {
    let key = crate::keys::current(&state.db, &settings.code, crate::keys::CERTIFICATES).await?;
    let did = did_key(&key.public().key);
    let base = format!("{}/t/{}", origin.trim_end_matches('/'), settings.code);
    let kind_name = certificate.kind_name(settings);
    let h = |hundredths: i64| hours::format_hours(hundredths);
    let document = json!({
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": format!("{base}/verify?number={}", certificate.number),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": kind_name,
        "issuer": {"id": did, "type": ["Profile"], "name": super::issuer(settings), "url": format!("{base}/")},
        "validFrom": certificate.issued_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [{"type": "IdentityObject", "identityType": "name", "hashed": false, "identityHash": certificate.person_name}],
            "achievement": {
                "id": format!("{base}/achievements/{}", certificate.kind),
                "type": ["Achievement"],
                "achievementType": "Certificate",
                "name": kind_name,
                "description": format!("{} {} 年度继续教育", settings.name, certificate.year),
                "criteria": {"narrative": format!("按{}继续教育学时规定，经平台核验学时后颁发。", settings.province)},
            },
            "result": [
                {"type": ["Result"], "value": h(certificate.public_hours), "resultDescription": format!("{}学时", settings.words.public)},
                {"type": ["Result"], "value": h(certificate.professional_hours), "resultDescription": format!("{}学时", settings.words.professional)},
            ],
            "activityEndDate": format!("{}-12-31T23:59:59+08:00", certificate.year),
        },
        "evidence": [{"type": ["Evidence"], "id": format!("{base}/verify?number={}", certificate.number), "name": format!("证书编号 {}", certificate.number)}],
    });
    let mut proof = json!({
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "created": chrono::Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
        "verificationMethod": format!("{did}#{}", did.trim_start_matches("did:key:")),
        "proofPurpose": "assertionMethod",
    });
    let signature = key.sign_bytes(&hash_data(&proof, &document));
    proof["proofValue"] = json!(format!("z{}", bs58::encode(signature).into_string()));
    let mut credential = document;
    if let Value::Object(proof_members) = &mut proof {
        // The proof carries the document's context only while signing (eddsa-jcs-2022 §3.3.1).
        proof_members.remove("@context");
    }
    credential["proof"] = proof;
    Ok(credential)
}

/// Checks a credential's eddsa-jcs-2022 proof against the `did:key` in its verification method.
pub fn verify(credential: &Value) -> Result<(), &'static str> {
    let mut document = credential.clone();
    let proof = document.as_object_mut().and_then(|d| d.remove("proof")).ok_or("no proof")?;
    let proof_value = proof.get("proofValue").and_then(Value::as_str).ok_or("no proofValue")?;
    let signature =
        bs58::decode(proof_value.strip_prefix('z').ok_or("proofValue is not base58btc")?).into_vec().map_err(|_| "bad proofValue")?;
    let signature = ed25519_dalek::Signature::from_slice(&signature).map_err(|_| "bad signature length")?;
    let method = proof.get("verificationMethod").and_then(Value::as_str).ok_or("no verificationMethod")?;
    let key = key_of_did(method).ok_or("verificationMethod is not an Ed25519 did:key")?;
    let mut options = proof.clone();
    if let Value::Object(members) = &mut options {
        members.remove("proofValue");
        if let Some(context) = document.get("@context") {
            members.insert("@context".into(), context.clone());
        }
    }
    key.verify_strict(&hash_data(&options, &document), &signature).map_err(|_| "the proof does not match the credential")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jcs_sorts_members_and_drops_whitespace() {
        let value = json!({"b": [1, {"z": "中", "a": null}], "a": true, "\u{fb03}": 3, "€": 1, "\u{1d11e}": 2});
        // UTF-16 order: € (0x20AC) < U+1D11E (surrogates 0xD834…) < U+FB03, unlike code point order.
        assert_eq!(jcs(&value), "{\"a\":true,\"b\":[1,{\"a\":null,\"z\":\"中\"}],\"€\":1,\"\u{1d11e}\":2,\"\u{fb03}\":3}");
    }

    #[test]
    fn did_key_round_trip() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[3; 32]).verifying_key();
        let did = did_key(&key);
        assert!(did.starts_with("did:key:z6Mk"), "{did}");
        assert_eq!(key_of_did(&format!("{did}#x")), Some(key));
    }
}
