//! `jijiao cert …`: check a certificate's signature offline (a PDF, the QR code's URL, the bare proof)
//! against a tenant's published keys, or online against the database by its number; print and rotate
//! the signing keys.

use std::path::Path;

use serde_json::Value;

use super::{Certificate, ProofCheck, check_proof};
use crate::db::{Db, q};
use crate::keys::{self, PublicKey};

/// The proof (compact JWS) in a verification URL (`…&proof=<jws>`), a PDF that carries the URL, or the
/// bare proof itself.
pub fn extract_proof(input: &[u8]) -> Option<String> {
    let is_token_char = |c: &u8| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.');
    let marker = b"proof=";
    if let Some(at) = input.windows(marker.len()).position(|w| w == marker) {
        let token: Vec<u8> = input[at + marker.len()..].iter().take_while(|c| is_token_char(c)).copied().collect();
        return String::from_utf8(token).ok().filter(|t| t.split('.').count() == 3);
    }
    let text = std::str::from_utf8(input).ok()?.trim();
    (text.split('.').count() == 3 && text.bytes().all(|c| is_token_char(&c))).then(|| text.to_owned())
}

/// Reads a JWK set (what `GET /t/<code>/api/v1/keys` and `jijiao cert public-key` print).
pub fn read_keys(path: &Path) -> anyhow::Result<Vec<PublicKey>> {
    let jwks: Value = serde_json::from_slice(&std::fs::read(path)?)?;
    let keys: Vec<PublicKey> =
        jwks.get("keys").and_then(Value::as_array).map(|k| k.iter().filter_map(PublicKey::from_jwk).collect()).unwrap_or_default();
    if keys.is_empty() {
        anyhow::bail!("{} holds no Ed25519 keys (expected a JWK set)", path.display());
    }
    Ok(keys)
}

/// What `jijiao cert verify` prints for a checked proof; `true` when it is valid.
fn report(check: &ProofCheck, claims: Option<&Value>) -> bool {
    match check {
        ProofCheck::Valid => println!("valid signature"),
        ProofCheck::Mismatch => println!("genuine signature, but the certificate record now says something else"),
        ProofCheck::Invalid(reason) => println!("INVALID: {reason}"),
    }
    if let Some(claims) = claims {
        let field = |k: &str| claims.get(k).map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned)).unwrap_or_default();
        let hours = |k: &str| claims.get(k).and_then(Value::as_i64).map(crate::hours::format_hours).unwrap_or_default();
        println!(
            "tenant\t{}\nnumber\t{}\nkind\t{}\nyear\t{}\nname\t{}\nunit\t{}",
            field("iss"),
            field("num"),
            field("kind"),
            field("year"),
            field("name"),
            field("unit")
        );
        println!("public hours\t{}\nprofessional hours\t{}", hours("pub"), hours("pro"));
    }
    *check == ProofCheck::Valid
}

/// Offline: the proof in `input` (a file, a URL or the proof) against the keys in `keys_file`.
pub fn verify_offline(input: &str, keys_file: &Path) -> anyhow::Result<bool> {
    let keys = read_keys(keys_file)?;
    let bytes = match std::fs::read(input) {
        Ok(bytes) => bytes,
        Err(_) => input.as_bytes().to_vec(),
    };
    let Some(proof) = extract_proof(&bytes) else {
        anyhow::bail!("no signed proof found in {input:?} (expected a certificate PDF, its verification URL or the proof)");
    };
    let (check, claims) = check_proof(&proof, &keys, None);
    Ok(report(&check, claims.as_ref()))
}

/// Online: a certificate by its number, its stored proof against the tenant's keys and its record.
pub async fn verify_number(db: &Db, tenant: &str, number: &str) -> anyhow::Result<bool> {
    let certificate: Option<Certificate> = db
        .opt(q(format!("{} WHERE c.tenant_id = $1 AND c.number = $2", super::select())).bind(tenant).bind(number.trim().to_uppercase()))
        .await?;
    let Some(certificate) = certificate else { anyhow::bail!("no certificate {number} in tenant {tenant}") };
    println!("status\t{}", certificate.status);
    let Some(proof) = &certificate.proof else { anyhow::bail!("certificate {number} carries no signature") };
    let keys = keys::public_keys(db, tenant, keys::CERTIFICATES).await?;
    let (check, claims) = check_proof(proof, &keys, Some((&certificate, tenant)));
    Ok(report(&check, claims.as_ref()) && certificate.status == super::CertificateStatus::Valid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_proof_in_urls_pdfs_and_alone() {
        assert_eq!(extract_proof(b"http://x/t/hunan/verify?number=HN1&proof=aa.bb.cc").as_deref(), Some("aa.bb.cc"));
        assert_eq!(extract_proof(b"%PDF-1.7 ... /Keywords (http://x/verify?number=1&proof=a-b.c_d.e) ...").as_deref(), Some("a-b.c_d.e"));
        assert_eq!(extract_proof(b"  aa.bb.cc\n").as_deref(), Some("aa.bb.cc"));
        assert_eq!(extract_proof(b"HN2026ABC"), None);
    }
}
