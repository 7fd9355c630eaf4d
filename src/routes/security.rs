//! Headers that make every response safer to show: the page may load only
//! what this site serves (no third party can be reached, and injected script
//! could not run), is never framed, and tells other sites nothing about
//! which page a reader was on.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::site::{SECURITY_HEADERS, STRICT_TRANSPORT_SECURITY};

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
    static SET: std::sync::LazyLock<Vec<(HeaderName, HeaderValue)>> =
        std::sync::LazyLock::new(|| {
            SECURITY_HEADERS
                .iter()
                .map(|(name, value)| {
                    (
                        HeaderName::from_static(name),
                        HeaderValue::from_static(value),
                    )
                })
                .collect()
        });
    // A handler that chose stricter values (private booking pages send no
    // referrer at all) keeps them.
    for (name, value) in SET.iter() {
        headers.entry(name).or_insert_with(|| value.clone());
    }
    if over_https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(STRICT_TRANSPORT_SECURITY),
        );
    }
}
