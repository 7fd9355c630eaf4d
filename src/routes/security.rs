//! Headers that make every response safer to show: the page may load only
//! what this site serves (no third party can be reached, and injected script
//! could not run), is never framed, and tells other sites nothing about
//! which page a reader was on.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// Everything from this site only; no inline script, no plugins, no framing,
/// forms post only here.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

const PERMISSIONS_POLICY: &str = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=(), interest-cohort=()";
const HSTS: &str = "max-age=31536000; includeSubDomains";

pub async fn headers(request: Request, next: Next) -> Response {
    let over_https = is_over_https(request.headers());
    let mut response = next.run(request).await;
    apply(response.headers_mut(), over_https);
    response
}

/// Whether the request reached the reader over https. The server speaks
/// plain HTTP behind a TLS proxy; HSTS only means something on a response
/// that reached the reader over https.
pub fn is_over_https(request: &HeaderMap) -> bool {
    request
        .get("x-forwarded-proto")
        .is_some_and(|proto| proto.as_bytes().eq_ignore_ascii_case(b"https"))
}

/// Adds the security headers to a response's `headers`.
pub fn apply(headers: &mut HeaderMap, over_https: bool) {
    static SET: std::sync::LazyLock<[(HeaderName, HeaderValue); 6]> =
        std::sync::LazyLock::new(|| {
            [
                (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                (header::REFERRER_POLICY, "same-origin"),
                (header::X_FRAME_OPTIONS, "DENY"),
                (
                    HeaderName::from_static("permissions-policy"),
                    PERMISSIONS_POLICY,
                ),
                (
                    HeaderName::from_static("cross-origin-opener-policy"),
                    "same-origin",
                ),
            ]
            .map(|(name, value)| (name, HeaderValue::from_static(value)))
        });
    // A handler that chose stricter values (private booking pages send no
    // referrer at all) keeps them.
    for (name, value) in SET.iter() {
        headers.entry(name).or_insert_with(|| value.clone());
    }
    if over_https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
}
