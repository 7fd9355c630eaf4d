//! HTTP errors. Handlers return [`HttpError`]; one middleware turns every
//! error response (ours, or axum's own such as 405) into the site's calm
//! error page, rendered when the site was built. Details go to the log only.

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{AppState, respond};

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("not found")]
    NotFound,
    /// Something failed on our side; the text is logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl HttpError {
    pub fn status_code(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        if let Self::Internal(detail) = &self {
            tracing::error!(%detail, "request failed");
        }
        // The body is filled in by `render_error_pages`.
        self.status_code().into_response()
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
    let is_bare_error = (status.is_client_error() || status.is_server_error())
        && !response.headers().contains_key(header::CONTENT_TYPE);
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
        if !page.headers().contains_key(name) {
            page.headers_mut().insert(name.clone(), value.clone());
        }
    }
    page
}
