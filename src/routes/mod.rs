//! HTTP: the URL table, read top-down, and the state handlers share.
//! Content handlers only look things up in the current [`Site`]; nothing is
//! parsed or rendered per request. The booking and admin pages change with
//! every booking, so they are rendered per request (`booking`, `admin`).

pub mod admin;
mod assets;
mod blog;
pub mod booking;
pub mod client;
pub mod error;
mod pages;
pub mod views;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::booking::Booking;
use crate::site::{Resource, Site, SiteHandle};
pub use error::HttpError;

/// What every handler can reach. Cheap to clone (two `Arc`s).
#[derive(Clone)]
pub struct AppState {
    pub site: Arc<SiteHandle>,
    pub booking: Arc<Booking>,
}

impl AppState {
    pub fn new(site: Site, booking: Arc<Booking>) -> Self {
        Self {
            site: Arc::new(SiteHandle::new(site)),
            booking,
        }
    }
}

/// A whole request must finish within this time.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// The site takes no uploads; forms are small.
const BODY_LIMIT: usize = 16 * 1024;

/// The application: every route, the error pages and the shared layers.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(booking::router())
        .merge(admin::router())
        .merge(pages::router())
        .merge(blog::router())
        .merge(assets::router())
        .fallback(error::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            error::render_error_pages,
        ))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &axum::extract::Request| {
                tracing::debug_span!(
                    "request",
                    method = %request.method(),
                    path = %loggable_path(request.uri().path()),
                )
            }),
        )
        .with_state(state)
}

/// A path as it may be logged: never the query, and never the secret of a
/// private link or of the calendar feed.
pub fn loggable_path(path: &str) -> String {
    for prefix in ["/booking/", "/admin/feed/"] {
        if let Some(rest) = path.strip_prefix(prefix) {
            let after = rest.find('/').map_or("", |i| &rest[i..]);
            return format!("{prefix}…{after}");
        }
    }
    path.to_string()
}

/// The handler behind every page and file: a lookup of the path in the
/// current site. Routes differ only in which paths they admit.
async fn serve(State(state): State<AppState>, uri: Uri) -> Result<Response, HttpError> {
    let site = state.site.current();
    site.get(uri.path()).map(respond).ok_or(HttpError::NotFound)
}

/// Turns a prepared resource into a response; the body is shared, not copied.
pub fn respond(resource: &Resource) -> Response {
    let mut response = (
        resource.status,
        [
            (header::CONTENT_TYPE, resource.content_type.clone()),
            (header::CACHE_CONTROL, resource.cache_control.clone()),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        resource.body.clone(),
    )
        .into_response();
    if let Some(location) = &resource.location {
        response
            .headers_mut()
            .insert(header::LOCATION, location.clone());
    }
    response
}

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn private_links_are_not_logged() {
        assert_eq!(loggable_path("/booking/SECRET/cancel"), "/booking/…/cancel");
        assert_eq!(loggable_path("/booking/SECRET"), "/booking/…");
        assert_eq!(loggable_path("/admin/feed/SECRET.ics"), "/admin/feed/…");
        assert_eq!(loggable_path("/blog/kap"), "/blog/kap");
    }
}
