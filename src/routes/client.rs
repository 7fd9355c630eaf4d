//! What the booking and admin routes share: the network in front of the
//! server ([`Network`]: whether a proxy is trusted, whether the site is
//! https), the client's address (for rate limits), the headers of private
//! pages, reading a form, and rate limiting. This is HTTP knowledge, so it
//! lives in `routes`; the booking service never sees a header.

use std::net::{IpAddr, SocketAddr};

use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{AppState, HttpError};
use crate::booking::limits::UNKNOWN_CLIENT;

/// The largest form body accepted (the booking form with a full note is
/// about 5 KiB); more is answered 413.
pub const FORM_LIMIT: usize = 8 * 1024;

/// What the routes know about how requests reach the server. Read once at
/// start, like the booking settings.
#[derive(Debug, Clone, Copy, Default)]
pub struct Network {
    /// `TRUST_PROXY=1`: take the client address from `X-Forwarded-For`
    /// (behind a proxy only: anyone can send that header).
    pub trust_proxy: bool,
    /// The site's public address is https, so cookies are always `Secure`.
    pub https: bool,
}

impl Network {
    /// The network of a site at `base_url`, trusting no proxy.
    pub fn for_site(base_url: &str) -> Self {
        Self {
            trust_proxy: false,
            https: base_url.starts_with("https://"),
        }
    }
}

/// The client's address: the TCP peer, or with `TRUST_PROXY` the last
/// address in `X-Forwarded-For` (the one the proxy saw). Used only as a
/// rate-limit key; never logged.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if state.network.trust_proxy
            && let Some(forwarded) = parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .and_then(|v| v.trim().parse::<IpAddr>().ok())
        {
            return Ok(Self(forwarded));
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(UNKNOWN_CLIENT, |ConnectInfo(addr)| addr.ip());
        Ok(Self(peer))
    }
}

/// A request within its rate limit, or 429 with the seconds to wait.
pub fn limit(check: Result<(), u64>) -> Result<(), HttpError> {
    check.map_err(HttpError::TooManyRequests)
}

/// A form body, or the right error: 413 past [`FORM_LIMIT`], else 400.
pub fn form<T>(form: Result<axum::Form<T>, FormRejection>) -> Result<T, HttpError> {
    match form {
        Ok(axum::Form(value)) => Ok(value),
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Err(HttpError::PayloadTooLarge)
        }
        Err(_) => Err(HttpError::BadRequest),
    }
}

/// Headers of every page rendered per request: never cached or framed, no
/// referrer leaves with a private link in it, nothing loaded from elsewhere.
/// Script only from this site's own files (the local-time hint beside the
/// offered times); none inline, so injected markup could run nothing.
pub fn private_headers(headers: &mut HeaderMap) {
    let set = |headers: &mut HeaderMap, name, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(headers, header::CACHE_CONTROL, "no-store");
    set(headers, header::REFERRER_POLICY, "no-referrer");
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
}

/// An HTML page with [`private_headers`].
pub fn html(status: StatusCode, body: String) -> Response {
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response();
    private_headers(response.headers_mut());
    response
}

/// A JSON answer with [`private_headers`] (for the editor's script).
pub fn json(status: StatusCode, body: serde_json::Value) -> Response {
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response();
    private_headers(response.headers_mut());
    response
}

/// A 303 See Other to `location`: the answer to every successful post.
pub fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    private_headers(response.headers_mut());
    response
}
