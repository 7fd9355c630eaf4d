//! The therapist's password: an argon2 hash from the environment
//! (`ADMIN_PASSWORD_HASH`, made by `practice-site hash-password`), checked in
//! constant time, and how long a login lasts. The session cookie that
//! carries a login is HTTP, so it lives in `routes::session`.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::Duration;

/// A login lasts this long.
pub const SESSION_LENGTH: Duration = Duration::hours(12);

/// The PHC string for `password` (what `practice-site hash-password` prints).
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|err| format!("cannot hash the password: {err}"))
}

/// Checks that `phc` is an argon2 PHC string, as at start-up.
pub fn check_hash(phc: &str) -> Result<(), String> {
    let hash = PasswordHash::new(phc.trim()).map_err(|err| {
        format!("ADMIN_PASSWORD_HASH is not a PHC string ({err}); make one with `practice-site hash-password`")
    })?;
    if !hash.algorithm.as_str().starts_with("argon2") {
        return Err("ADMIN_PASSWORD_HASH must be an argon2 hash; make one with `practice-site hash-password`".into());
    }
    Ok(())
}

/// Whether `password` matches the hash (argon2 compares in constant time).
pub fn verify_password(phc: &str, password: &str) -> bool {
    PasswordHash::new(phc.trim()).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_are_salted() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        check_hash(&hash).unwrap();
        assert!(verify_password(&hash, "correct horse"));
        assert!(!verify_password(&hash, "wrong"));
        assert_ne!(hash, hash_password("correct horse").unwrap());
        assert!(check_hash("plain text").is_err());
        assert!(!verify_password("plain text", "plain text"));
    }

    /// Long and non-ASCII passwords work, and every character counts: no
    /// truncation (as bcrypt's 72 bytes would be), no character refused.
    #[test]
    fn long_and_unicode_passwords_are_whole() {
        let long: String = "correct horse battery staple ".repeat(5);
        assert!(long.len() > 128);
        let hash = hash_password(&long).unwrap();
        assert!(verify_password(&hash, &long));
        let mut last_changed = long.clone();
        last_changed.pop();
        last_changed.push('!');
        assert!(!verify_password(&hash, &last_changed));
        let unicode = "mot de passe – ünïcödé 🔑 密码";
        let hash = hash_password(unicode).unwrap();
        assert!(verify_password(&hash, unicode));
        assert!(!verify_password(&hash, "mot de passe – unicode 🔑 密码"));
    }
}
