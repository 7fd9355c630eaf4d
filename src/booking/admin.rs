//! The therapist's login: an argon2 password hash from the environment, and
//! a session cookie, the only cookie this site ever sets.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::Duration;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "admin_session";
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

/// The `Set-Cookie` value for a new session. `secure` adds `Secure`.
pub fn session_cookie(token: &str, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={token}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age={}{}",
        SESSION_LENGTH.num_seconds(),
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that ends a session in the browser.
pub fn expired_cookie(secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}=; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=0{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The session token in a `Cookie` header, if any.
pub fn session_token(cookie_header: &str) -> Option<&str> {
    cookie_header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
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

    #[test]
    fn the_cookie_is_locked_down() {
        let cookie = session_cookie("abc", true);
        for part in [
            "admin_session=abc",
            "Path=/admin",
            "HttpOnly",
            "SameSite=Strict",
            "Secure",
        ] {
            assert!(cookie.contains(part), "{cookie}");
        }
        assert!(!session_cookie("abc", false).contains("Secure"));
        assert_eq!(session_token("a=b; admin_session=xyz; c=d"), Some("xyz"));
        assert_eq!(session_token("admin_session="), None);
        assert_eq!(session_token("other=1"), None);
    }
}
