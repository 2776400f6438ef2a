//! argon2id password hashes and the password policy.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};

/// Hashes on a blocking thread: argon2id is deliberately slow.
pub async fn hash(password: &str) -> anyhow::Result<String> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("password hash: {e}"))
    })
    .await?
}

/// Verifies on a blocking thread. An unknown account is checked against a fixed hash so that the answer
/// takes as long as for a known one and reveals nothing.
pub async fn verify(password: &str, hash: Option<&str>) -> bool {
    const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$1yFy9yUuZ5q0NeRZD5z5Tg9wNwO6PvjDs6bo7wfbBmQ";
    let password = password.to_owned();
    let known = hash.is_some();
    let hash = hash.unwrap_or(DUMMY).to_owned();
    tokio::task::spawn_blocking(move || {
        let Ok(parsed) = PasswordHash::new(&hash) else {
            return false;
        };
        Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok() && known
    })
    .await
    .unwrap_or(false)
}

/// The policy every new password meets: 8 to 64 characters with letters and digits, not an ID number's
/// tail or a run like 000000.
pub fn check_policy(password: &str, id_number: &str) -> Result<(), &'static str> {
    let len = password.chars().count();
    if !(8..=64).contains(&len) {
        return Err("密码长度应为 8 到 64 位");
    }
    if !password.chars().any(|c| c.is_ascii_alphabetic()) || !password.chars().any(|c| c.is_ascii_digit()) {
        return Err("密码须同时包含字母和数字");
    }
    if !id_number.is_empty() && id_number.len() >= 6 && password.contains(&id_number[id_number.len() - 6..]) {
        return Err("密码不能包含身份证号后六位");
    }
    Ok(())
}

/// A random one-time code an admin hands to a user: 10 characters without look-alikes.
pub fn one_time_code() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..10).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect()
}

/// A random URL-safe token (sessions, reset links) and the hash stored in its place.
pub fn new_token() -> (String, String) {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

pub fn token_hash(token: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}
