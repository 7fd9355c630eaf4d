//! HTTP: the URL table, read top-down, and the state handlers share.
//! Content handlers only look things up in the current [`Site`]; nothing is
//! parsed or rendered per request. The booking and admin pages change with
//! every booking, so they are rendered per request (`booking`, `admin`).

pub mod admin;
mod assets;
mod blog;
pub mod booking;
pub mod client;
mod compress;
mod conditional;
mod editor;
pub mod error;
mod feeds;
mod health;
mod images;
mod pages;
mod prepared;
mod preview;
mod security;
pub mod session;
pub mod times;
pub mod views;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

use tokio::sync::{Semaphore, watch};

use crate::booking::Booking;
use crate::editor::Editor;
use crate::live::{BuildStatus, Reloader};
use crate::site::{Resource, Site, SiteHandle};
pub use error::HttpError;
pub use prepared::PreparedFirst;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub site: Arc<SiteHandle>,
    pub booking: Arc<Booking>,
    /// The proxy trusted and whether the site is https.
    pub network: client::Network,
    /// The therapist's preview: drafts shown, problems on every page.
    pub preview: bool,
    /// On a live server: the outcome of the latest build (the preview's
    /// panel and reloads, `/healthz`).
    pub builds: Option<watch::Receiver<BuildStatus>>,
    /// The therapist's editor, on a live server.
    pub editor: Option<Arc<Editor>>,
}

impl AppState {
    /// A fixed site, as tests and tools use it.
    pub fn new(site: Site, booking: Arc<Booking>) -> Self {
        let network = network_of(&site);
        Self {
            site: Arc::new(SiteHandle::new(site)),
            booking,
            network,
            preview: false,
            builds: None,
            editor: None,
        }
    }

    /// The site a [`Reloader`] keeps current.
    pub fn live(reloader: &Reloader, booking: Arc<Booking>) -> Self {
        let site = reloader.site();
        let network = network_of(&site.current());
        Self {
            site,
            booking,
            network,
            preview: reloader.is_preview(),
            builds: Some(reloader.status()),
            editor: None,
        }
    }

    /// Mounts the editor under `/admin/content` (a live server's).
    pub fn with_editor(mut self, editor: Arc<Editor>) -> Self {
        self.editor = Some(editor);
        self
    }

    /// Takes the client's address from `X-Forwarded-For` (`TRUST_PROXY=1`).
    pub fn trusting_proxy(mut self, trust_proxy: bool) -> Self {
        self.network.trust_proxy = trust_proxy;
        self
    }
}

/// Refuses a body over its route's limit with 413: the editor's texts may
/// be long (`editor::TEXT_FORM_LIMIT`), a photo up to 10 MB
/// (`images::UPLOAD_LIMIT`), every other body is a small form
/// (`limit`). A declared length over it is refused before reading; a body
/// without one is cut off where it passes it, and the form reading it then
/// answers 413.
async fn limit_body(State(limit): State<usize>, request: Request, next: Next) -> Response {
    let limit = allowance(request.uri().path()).0.max(limit);
    let declared = (request.headers().get(header::CONTENT_LENGTH))
        .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    }
    next.run(request.map(|body| axum::body::Body::new(http_body_util::Limited::new(body, limit))))
        .await
}

/// Answers 408 when a request is not received and answered within its
/// time: `limit`, or [`images::UPLOAD_TIME`] for a photo (10 MB takes a
/// minute over a slow home connection's upload).
async fn time_limit(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    let limit = allowance(request.uri().path()).1.max(limit);
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => StatusCode::REQUEST_TIMEOUT.into_response(),
    }
}

/// The routes that may take more than every request may: the body and the
/// time each needs at least. One table for [`limit_body`] and
/// [`time_limit`], which run before the router, so they go by the path.
fn allowance(path: &str) -> (usize, Duration) {
    if path.starts_with("/admin/content/") {
        (editor::TEXT_FORM_LIMIT, Duration::ZERO)
    } else if path == "/admin/images" {
        (images::UPLOAD_LIMIT, images::UPLOAD_TIME)
    } else {
        (0, Duration::ZERO)
    }
}

/// The network of the site as it starts: https or not, read once.
fn network_of(site: &Site) -> client::Network {
    site.config()
        .map(|config| client::Network::for_site(&config.practice.base_url))
        .unwrap_or_default()
}

/// What one request may take: time, a turn among the requests handled at
/// once, and body size.
#[derive(Debug, Clone, Copy)]
pub struct RequestLimits {
    /// A request must be received and answered within this time; a client
    /// still sending its body then is answered 408.
    pub timeout: Duration,
    /// Requests handled at once; more wait for a turn.
    pub concurrent: usize,
    /// How long a request waits for its turn before it is answered 503.
    pub queue_wait: Duration,
    /// The largest body on any route; forms have a smaller limit of their own
    /// ([`client::FORM_LIMIT`]); only the editor's photo upload takes more.
    pub body: usize,
    /// The preview's event streams open at once; one more is answered 503.
    pub preview_streams: usize,
    /// How long a preview event stream stays open without a build to
    /// announce; the browser then opens a new one by itself.
    pub preview_idle: Duration,
}

impl Default for RequestLimits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(15),
            concurrent: 512,
            queue_wait: Duration::from_secs(10),
            body: 16 * 1024,
            preview_streams: 16,
            preview_idle: Duration::from_secs(5 * 60),
        }
    }
}

/// The application: every route, the error pages and the shared layers.
pub fn app(state: AppState) -> Router {
    app_with(state, Router::new())
}

/// The application with `extra` routes under the same layers (for tests that
/// need a route the site does not have, such as one that panics).
pub fn app_with(state: AppState, extra: Router<AppState>) -> Router {
    app_with_limits(state, extra, RequestLimits::default())
}

/// The application with other limits (for tests that cannot wait 15 s).
///
/// The layers, from the outside in: the request log, the security headers,
/// the preview's problems, the error pages, then the limits (a turn, the
/// time, the body) and the panic guard. Every limit's answer (408, 413, 503)
/// and a panic's 500 are therefore the site's own page, with its headers.
pub fn app_with_limits(state: AppState, extra: Router<AppState>, limits: RequestLimits) -> Router {
    let preview = if state.preview {
        preview::router(limits.preview_streams, limits.preview_idle)
    } else {
        Router::new()
    };
    let turns = Turns {
        semaphore: Arc::new(Semaphore::new(limits.concurrent)),
        wait: limits.queue_wait,
    };
    Router::new()
        .merge(extra)
        .merge(preview)
        .merge(booking::router())
        .merge(admin::router())
        .merge(editor::router())
        .merge(images::router())
        .merge(times::router())
        .merge(pages::router())
        .merge(blog::router())
        .merge(feeds::router())
        .merge(health::router())
        .merge(assets::router())
        .fallback(serve)
        // A handler that panics answers the 500 page; the process lives on.
        .layer(CatchPanicLayer::custom(
            |_panic: Box<dyn std::any::Any + Send>| {
                tracing::error!("a request handler panicked");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            },
        ))
        .layer(axum::middleware::from_fn_with_state(
            limits.body,
            limit_body,
        ))
        .layer(axum::middleware::from_fn_with_state(
            limits.timeout,
            time_limit,
        ))
        .layer(axum::middleware::from_fn_with_state(turns, take_turn))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            error::render_error_pages,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            preview::show_problems,
        ))
        .layer(axum::middleware::from_fn(security::headers))
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

/// The turns of the requests handled at once.
#[derive(Clone)]
struct Turns {
    semaphore: Arc<Semaphore>,
    wait: Duration,
}

/// Runs the request when a turn is free; one that waited too long for its
/// turn is answered 503 (the server is busy, not the client at fault).
async fn take_turn(State(turns): State<Turns>, request: Request, next: Next) -> Response {
    let turn = tokio::time::timeout(turns.wait, Arc::clone(&turns.semaphore).acquire_owned());
    match turn.await {
        Ok(Ok(_turn)) => next.run(request).await,
        _ => {
            tracing::warn!("too many requests at once; one was answered 503");
            HttpError::Busy.into_response()
        }
    }
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
/// current site. Routes differ only in which paths they admit; the fallback
/// uses it too, so other spellings of an address find their canonical form.
async fn serve(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    let site = state.site.current();
    if let Some(response) = prepared(&site, &method, uri.path(), &headers) {
        return Ok(response);
    }
    if (method == Method::GET || method == Method::HEAD)
        && let Some(canonical) = site.canonical_redirect(uri.path())
    {
        return Ok((
            StatusCode::MOVED_PERMANENTLY,
            [(header::LOCATION, canonical.to_string())],
        )
            .into_response());
    }
    Err(HttpError::NotFound)
}

/// The one answer to a GET or HEAD for a page or file the site has
/// prepared, with every header it needs: the front door
/// ([`prepared::PreparedFirst`]) and the router's own fallback both call
/// this, so the two cannot answer differently. `None` for anything else.
pub fn prepared(site: &Site, method: &Method, path: &str, headers: &HeaderMap) -> Option<Response> {
    let is_head = match *method {
        Method::GET => false,
        Method::HEAD => true,
        _ => return None,
    };
    let resource = site.get(path)?;
    let mut response = respond(resource, headers);
    security::apply(response.headers_mut(), security::is_over_https(headers));
    // The length of the body a GET would get, and for HEAD no body.
    let length = axum::body::HttpBody::size_hint(response.body()).exact();
    if let Some(length) = length {
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    if is_head {
        *response.body_mut() = axum::body::Body::empty();
    }
    Some(response)
}

/// Turns a prepared resource into a response for this request: the coding
/// the client accepts, or 304 when its copy is current. Bodies are shared,
/// never copied.
pub fn respond(resource: &Resource, request: &HeaderMap) -> Response {
    let (coding, representation) = conditional::choose(resource, request);
    let fresh = resource.status == StatusCode::OK && conditional::is_fresh(resource, request);
    let mut response = if fresh {
        let mut response = Response::new(axum::body::Body::empty());
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        response
    } else {
        let mut response = Response::new(axum::body::Body::from(representation.body.clone()));
        *response.status_mut() = resource.status;
        let headers = response.headers_mut();
        // Room for these and the security headers, without growing.
        headers.reserve(16);
        headers.insert(header::CONTENT_TYPE, resource.content_type.clone());
        if let Some(encoding) = coding.header_value() {
            headers.insert(header::CONTENT_ENCODING, encoding);
        }
        response
    };
    let headers = response.headers_mut();
    headers.insert(header::ETAG, representation.etag.clone());
    headers.insert(header::CACHE_CONTROL, resource.cache_control.clone());
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if resource.varies_by_encoding() {
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if let Some(modified) = &resource.last_modified_header {
        headers.insert(header::LAST_MODIFIED, modified.clone());
    }
    if let Some(location) = &resource.location {
        headers.insert(header::LOCATION, location.clone());
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
