//! The admin session cookie, the only cookie this site ever sets: written
//! and read with the `cookie` crate, never by hand.
//!
//! `HttpOnly` (no script reads it), `SameSite=Strict` (no other site's page
//! sends it), `Path=/admin` (the public pages never see it), and `Secure`
//! when the site's address is https or the proxy in front says the request
//! came over https ([`Network::secure`]). The value is a random token; the
//! database keeps only its hash.

use axum::http::{HeaderMap, HeaderValue, header};
use cookie::{Cookie, SameSite};

use super::client::Network;
use crate::booking::admin::SESSION_LENGTH;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "admin_session";

/// The cookie with every attribute but its value and age.
fn locked_down(value: &str, max_age_seconds: i64, secure: bool) -> String {
    Cookie::build((SESSION_COOKIE, value))
        .path("/admin")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .max_age(cookie::time::Duration::seconds(max_age_seconds))
        .build()
        .to_string()
}

/// The `Set-Cookie` value for a new session. `secure` adds `Secure`.
pub fn session_cookie(token: &str, secure: bool) -> String {
    locked_down(token, SESSION_LENGTH.num_seconds(), secure)
}

/// The `Set-Cookie` value that ends a session in the browser.
pub fn expired_cookie(secure: bool) -> String {
    locked_down("", 0, secure)
}

/// Adds `cookie` (a `Set-Cookie` value) to a response's headers.
pub fn set(headers: &mut HeaderMap, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        headers.insert(header::SET_COOKIE, value);
    }
}

/// The session token in a request's `Cookie` headers, if any.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == SESSION_COOKIE)
        .map(|cookie| cookie.value().trim().to_string())
        .filter(|value| !value.is_empty())
}

impl Network {
    /// Whether the session cookie gets `Secure`: always when the site's
    /// public address is https, and when a proxy says the request came over
    /// https.
    pub fn secure(&self, headers: &HeaderMap) -> bool {
        self.https
            || headers
                .get("x-forwarded-proto")
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cookies(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static(value));
        headers
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
            "Max-Age=43200",
        ] {
            assert!(cookie.contains(part), "{cookie}");
        }
        assert!(!session_cookie("abc", false).contains("Secure"));
        let expired = expired_cookie(false);
        for part in ["admin_session=;", "Path=/admin", "HttpOnly", "Max-Age=0"] {
            assert!(expired.contains(part), "{expired}");
        }
        assert_eq!(
            session_token(&cookies("a=b; admin_session=xyz; c=d")).as_deref(),
            Some("xyz")
        );
        assert_eq!(session_token(&cookies("admin_session=")), None);
        assert_eq!(session_token(&cookies("other=1")), None);
    }

    #[test]
    fn secure_follows_the_site_or_the_proxy() {
        let plain = Network::default();
        let mut proxied = HeaderMap::new();
        assert!(!plain.secure(&proxied));
        proxied.insert("x-forwarded-proto", HeaderValue::from_static("HTTPS"));
        assert!(plain.secure(&proxied));
        let https = Network {
            https: true,
            ..Network::default()
        };
        assert!(https.secure(&HeaderMap::new()));
    }
}
