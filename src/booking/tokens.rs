//! Secrets the server hands out and checks, without cookies for readers:
//! signed form tokens (CSRF and minimum fill time), random private links
//! (stored only as hashes) and the calendar feed's secret address.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// What a form token is for; a token for one purpose is refused for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The public booking form.
    Booking,
    /// A client's own booking page (cancel, change the time).
    Manage,
    /// The admin login form.
    Login,
    /// Any admin form, bound to the session.
    Admin,
}

impl Purpose {
    fn tag(self) -> &'static str {
        match self {
            Self::Booking => "booking",
            Self::Manage => "manage",
            Self::Login => "login",
            Self::Admin => "admin",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not made by this server (or for another purpose or binding).
    #[error("the form token is not valid")]
    Invalid,
    /// Sent back sooner than a person could have filled the form.
    #[error("the form was sent too quickly")]
    TooFast,
    /// Older than it may be.
    #[error("the form token has expired")]
    Expired,
}

/// The server's signing key.
#[derive(Clone)]
pub struct Keys {
    secret: Vec<u8>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(..)")
    }
}

impl Keys {
    pub fn new(secret: &[u8]) -> Self {
        Self {
            secret: secret.to_vec(),
        }
    }

    fn mac(&self, parts: &[&[u8]]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.secret).expect("HMAC takes any key length");
        for part in parts {
            // Length-prefixed, so no two different part lists sign the same bytes.
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac
    }

    /// `<issued unix seconds>.<nonce>.<mac>`: signs the issue time, a nonce,
    /// the purpose and what the token is bound to (a session, a booking).
    pub fn issue(&self, purpose: Purpose, binding: &str, now: DateTime<Utc>) -> String {
        let issued = now.timestamp().to_string();
        let nonce = random_token_bytes::<12>();
        let nonce = URL_SAFE_NO_PAD.encode(nonce);
        let mac = self
            .mac(&[
                purpose.tag().as_bytes(),
                binding.as_bytes(),
                issued.as_bytes(),
                nonce.as_bytes(),
            ])
            .finalize()
            .into_bytes();
        format!("{issued}.{nonce}.{}", URL_SAFE_NO_PAD.encode(mac))
    }

    /// Checks a token's signature (in constant time), then its age.
    pub fn verify(
        &self,
        token: &str,
        purpose: Purpose,
        binding: &str,
        now: DateTime<Utc>,
        min_age: Duration,
        max_age: Duration,
    ) -> Result<(), TokenError> {
        let mut parts = token.trim().splitn(3, '.');
        let (Some(issued), Some(nonce), Some(mac)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Invalid);
        };
        let mac = URL_SAFE_NO_PAD
            .decode(mac)
            .map_err(|_| TokenError::Invalid)?;
        self.mac(&[
            purpose.tag().as_bytes(),
            binding.as_bytes(),
            issued.as_bytes(),
            nonce.as_bytes(),
        ])
        .verify_slice(&mac)
        .map_err(|_| TokenError::Invalid)?;
        let issued: i64 = issued.parse().map_err(|_| TokenError::Invalid)?;
        let issued = DateTime::from_timestamp(issued, 0).ok_or(TokenError::Invalid)?;
        let age = now - issued;
        if age < min_age {
            return Err(TokenError::TooFast);
        }
        if age > max_age {
            return Err(TokenError::Expired);
        }
        Ok(())
    }

    /// The secret part of the calendar feed's address: stable while the key
    /// and the feed's `generation` are (rotating the feed counts it up).
    pub fn feed_token(&self, generation: u64) -> String {
        URL_SAFE_NO_PAD.encode(self.feed_mac(generation).finalize().into_bytes())
    }

    /// Whether `candidate` is the feed token of `generation`, compared in
    /// constant time.
    pub fn is_feed_token(&self, candidate: &str, generation: u64) -> bool {
        URL_SAFE_NO_PAD
            .decode(candidate)
            .is_ok_and(|bytes| self.feed_mac(generation).verify_slice(&bytes).is_ok())
    }

    fn feed_mac(&self, generation: u64) -> HmacSha256 {
        // Generation 0 is the address the feed had before rotation existed.
        match generation {
            0 => self.mac(&[b"calendar-feed"]),
            n => self.mac(&[b"calendar-feed", n.to_string().as_bytes()]),
        }
    }
}

fn random_token_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

/// A new random secret for a private link or a session: 256 bits, URL-safe.
pub fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(random_token_bytes::<32>())
}

/// A new random signing key.
pub fn random_key() -> Vec<u8> {
    random_token_bytes::<32>().to_vec()
}

/// What the database keeps of a private token: its SHA-256, in hex. A copy of
/// the database does not give anyone the links.
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether a path segment could be one of our random tokens (43 URL-safe
/// characters); anything else is refused before touching the database.
pub fn looks_like_token(text: &str) -> bool {
    text.len() == 43
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap()
    }

    #[test]
    fn tokens_check_signature_purpose_binding_and_age() {
        let keys = Keys::new(b"test key");
        let token = keys.issue(Purpose::Booking, "", at(1000));
        let verify = |token: &str, purpose, binding, now| {
            keys.verify(
                token,
                purpose,
                binding,
                at(now),
                Duration::seconds(3),
                Duration::hours(1),
            )
        };
        assert_eq!(verify(&token, Purpose::Booking, "", 1003), Ok(()));
        assert_eq!(
            verify(&token, Purpose::Booking, "", 1002),
            Err(TokenError::TooFast)
        );
        assert_eq!(
            verify(&token, Purpose::Booking, "", 4601),
            Err(TokenError::Expired)
        );
        assert_eq!(
            verify(&token, Purpose::Login, "", 1003),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            verify(&token, Purpose::Booking, "x", 1003),
            Err(TokenError::Invalid)
        );
        // Changing the issue time breaks the signature.
        let forged = token.replacen("1000", "0999", 1);
        assert_eq!(
            verify(&forged, Purpose::Booking, "", 1003),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            verify("", Purpose::Booking, "", 1003),
            Err(TokenError::Invalid)
        );
        // Another key's token is refused.
        let other = Keys::new(b"other").issue(Purpose::Booking, "", at(1000));
        assert_eq!(
            verify(&other, Purpose::Booking, "", 1003),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn random_tokens_are_unique_and_hashed() {
        let a = random_token();
        assert!(looks_like_token(&a), "{a}");
        assert_ne!(a, random_token());
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
        assert!(!looks_like_token("../../etc/passwd"));
    }

    #[test]
    fn the_feed_token_is_stable_per_key_and_generation() {
        let keys = Keys::new(b"k");
        assert_eq!(keys.feed_token(0), Keys::new(b"k").feed_token(0));
        assert_ne!(keys.feed_token(0), Keys::new(b"j").feed_token(0));
        assert!(keys.is_feed_token(&keys.feed_token(0), 0));
        assert!(!keys.is_feed_token("nope", 0));
        // A rotation retires the old address.
        assert_ne!(keys.feed_token(1), keys.feed_token(0));
        assert!(!keys.is_feed_token(&keys.feed_token(0), 1));
        assert!(keys.is_feed_token(&keys.feed_token(1), 1));
    }
}
