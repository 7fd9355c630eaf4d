//! Compression of the public pages rendered per request (the booking form,
//! a client's private page and its change form). Everything else is
//! compressed once when the site is built (`site::resource`); these change
//! with every request, so they are compressed as they leave, in the coding
//! the client accepts.
//!
//! The therapist's admin pages are left uncompressed on purpose: they hold a
//! session-bound token next to text any visitor can choose (a booking's
//! name or note), which is what a compression side channel (BREACH) needs.
//! The public pages carry no such secret: the booking form's token is not
//! tied to anyone, and a private page shows only what its own client typed.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::conditional::{Coding, accepted_codings, quality_of};
use crate::site::resource::{MIN_COMPRESSIBLE, brotli, gzip};

/// The largest page these routes render is well under this.
const MAX_PAGE: usize = 1024 * 1024;

/// Middleware: compresses an HTML response with gzip (or brotli) when the
/// request accepts one, and says that the answer varies by `Accept-Encoding`.
pub async fn pages(request: Request, next: Next) -> Response {
    let coding = preferred(request.headers());
    let response = next.run(request).await;
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"text/html"));
    if !is_html || response.headers().contains_key(header::CONTENT_ENCODING) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    parts
        .headers
        .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    let Ok(body) = axum::body::to_bytes(body, MAX_PAGE).await else {
        tracing::error!("a page rendered per request could not be read for compression");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let compressed = match coding {
        _ if body.len() < MIN_COMPRESSIBLE => None,
        Coding::Brotli => Some(brotli(&body)),
        Coding::Gzip => Some(gzip(&body)),
        Coding::Identity => None,
    };
    match (compressed, coding.header_value()) {
        (Some(compressed), Some(encoding)) if compressed.len() < body.len() => {
            parts.headers.insert(header::CONTENT_ENCODING, encoding);
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, Body::from(compressed))
        }
        _ => Response::from_parts(parts, Body::from(body)),
    }
}

/// gzip when the client takes it, else brotli, else none. Every browser
/// takes both; gzip wins here because these bodies are made per request:
/// on the 22 KB booking page it costs about 0.2 ms against 1.3 ms for
/// brotli (this crate's, at quality 5) and sends 4.5 KB instead of 4.1 KB,
/// both well inside the first round trip.
fn preferred(headers: &HeaderMap) -> Coding {
    let accepted = accepted_codings(headers);
    if quality_of(&accepted, "gzip").max(quality_of(&accepted, "x-gzip")) > 0.0 {
        Coding::Gzip
    } else if quality_of(&accepted, "br") > 0.0 {
        Coding::Brotli
    } else {
        Coding::Identity
    }
}
