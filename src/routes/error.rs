//! HTTP errors. Handlers return [`HttpError`]; one middleware turns every
//! error response (ours, or axum's own such as 405) into the site's calm
//! error page, rendered when the site was built. Details go to the log only.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{AppState, respond};
use crate::booking::store::StoreError;

/// When a client turned away by a busy server may try again, in seconds.
const BUSY_RETRY_AFTER: u64 = 5;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// A form that cannot be read at all.
    #[error("bad request")]
    BadRequest,
    /// A form without a valid token (CSRF), or an admin page without a session.
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    /// A body over the form limit.
    #[error("payload too large")]
    PayloadTooLarge,
    /// Too many posts from one address; try again after this many seconds.
    #[error("too many requests")]
    TooManyRequests(u64),
    /// Too many requests at once: the server is busy.
    #[error("service unavailable")]
    Busy,
    /// Something failed on our side; the text is logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl HttpError {
    pub fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest => StatusCode::BAD_REQUEST,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Busy => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<StoreError> for HttpError {
    /// Store errors name tables and constraints, never what a client typed.
    fn from(err: StoreError) -> Self {
        Self::Internal(err.to_string())
    }
}

impl From<askama::Error> for HttpError {
    fn from(err: askama::Error) -> Self {
        Self::Internal(format!("template: {err}"))
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        if let Self::Internal(detail) = &self {
            tracing::error!(%detail, "request failed");
        }
        // The body is filled in by `render_error_pages`.
        let mut response = self.status_code().into_response();
        let retry_after = match self {
            Self::TooManyRequests(seconds) => Some(seconds),
            Self::Busy => Some(BUSY_RETRY_AFTER),
            _ => None,
        };
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// Gives every bare error response the site's error page.
pub async fn render_error_pages(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let request_headers = request.headers().clone();
    let is_head = request.method() == Method::HEAD;
    let response = next.run(request).await;
    let status = response.status();
    // The body limit layer answers 413 in plain text; it gets our page too.
    let plain_too_large = status == StatusCode::PAYLOAD_TOO_LARGE
        && response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|t| t.as_bytes().starts_with(b"text/plain"));
    let is_bare_error = (status.is_client_error() || status.is_server_error())
        && (!response.headers().contains_key(header::CONTENT_TYPE) || plain_too_large);
    if !is_bare_error {
        return response;
    }
    let site = state.site.current();
    let mut page = respond(site.error_page(status), &request_headers);
    *page.status_mut() = status;
    if is_head {
        *page.body_mut() = axum::body::Body::empty();
    }
    // Keep what the original response said about the error (e.g. `Allow` on 405).
    for (name, value) in response.headers() {
        if !page.headers().contains_key(name) && name != header::CONTENT_LENGTH {
            page.headers_mut().insert(name.clone(), value.clone());
        }
    }
    page
}
