//! The therapist's preview (`serve --preview`): a script that reloads the
//! page when the site is rebuilt, and a panel on every page listing what
//! keeps her latest change from being published (errors) and the writing
//! advice `check` would give (warnings). Never mounted otherwise.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use askama::Template;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use futures_util::stream;
use tokio::sync::Semaphore;
use tokio_stream::StreamExt as _;
use tokio_stream::wrappers::WatchStream;

use super::AppState;
use crate::diagnostic::Diagnostics;

const RELOAD_JS: &str = include_str!("../../templates/preview/reload.js");

/// The preview's routes; at most `streams` event streams open at once, each
/// closed after `idle` without a build.
pub fn router(streams: usize, idle: Duration) -> Router<AppState> {
    let streams = Streams {
        open: Arc::new(Semaphore::new(streams)),
        idle,
    };
    Router::new()
        .route("/_preview/reload.js", get(reload_js))
        .route("/_preview/events", get(events).layer(Extension(streams)))
}

/// The event streams' limits. A stream is a connection held open for as
/// long as the page is, so without a cap any page (or any client that
/// reaches the preview) could hold connections without end; and one the
/// browser forgot (a tab asleep, a laptop shut) would be held until the
/// next build. Closing an idle stream costs nothing: `EventSource`
/// reconnects by itself and the page compares the build it is told with the
/// one it saw.
#[derive(Clone)]
struct Streams {
    open: Arc<Semaphore>,
    idle: Duration,
}

async fn reload_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        RELOAD_JS,
    )
        .into_response()
}

/// One event now and one per build, carrying the build's generation; the
/// stream ends after [`Streams::idle`] without a build, and beyond
/// [`Streams::open`] streams the answer is 503.
async fn events(State(state): State<AppState>, Extension(streams): Extension<Streams>) -> Response {
    let Some(status) = state.builds.clone().filter(|_| state.preview) else {
        return super::HttpError::NotFound.into_response();
    };
    let Ok(place) = Arc::clone(&streams.open).try_acquire_owned() else {
        tracing::warn!("too many preview event streams at once; one was answered 503");
        return super::HttpError::Busy.into_response();
    };
    let idle = streams.idle;
    // The place is held by the stream, so it is given back when the stream
    // ends or the client goes away.
    let stream = stream::unfold(
        (WatchStream::new(status), place),
        move |(mut builds, place)| async move {
            let status = tokio::time::timeout(idle, builds.next()).await.ok()??;
            let problems = status.problems.as_ref().map_or(0, |p| p.len());
            let event = Event::default().data(format!("{}:{problems}", status.generation));
            Some((Ok::<_, Infallible>(event), (builds, place)))
        },
    );
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

#[derive(Template)]
#[template(path = "preview/problems.html")]
struct ProblemsPanel {
    /// (`path:line`, message) of each error, then of each piece of advice.
    errors: Vec<(String, String)>,
    advice: Vec<(String, String)>,
}

/// Puts the problems and advice of the latest build at the top of every HTML page.
pub async fn show_problems(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(status) = (state.builds.as_ref())
        .filter(|_| state.preview)
        .map(|status| status.borrow().clone())
    else {
        return next.run(request).await;
    };
    if status.problems.is_none() && status.warnings.is_empty() {
        return next.run(request).await;
    }
    // An uncompressed body, so the panel can be inserted.
    request.headers_mut().remove(header::ACCEPT_ENCODING);
    let response = next.run(request).await;
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"text/html"));
    if !is_html {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return super::HttpError::Internal("preview body".into()).into_response();
    };
    let page = String::from_utf8_lossy(&bytes);
    let panel = render_panel(status.problems.as_deref(), &status.warnings);
    let page = page.replacen(
        "<main id=\"main\">",
        &format!("<main id=\"main\">\n{panel}"),
        1,
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::ETAG);
    parts
        .headers
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Response::from_parts(parts, axum::body::Body::from(page))
}

fn render_panel(problems: Option<&Diagnostics>, warnings: &Diagnostics) -> String {
    let listed = |found: &Diagnostics, errors: bool| {
        found
            .iter()
            .filter(|p| p.is_error() == errors)
            .map(|p| {
                (
                    format!("{}:{}", p.path.display(), p.line),
                    p.message.clone(),
                )
            })
            .collect()
    };
    ProblemsPanel {
        errors: problems.map_or_else(Vec::new, |problems| listed(problems, true)),
        advice: listed(warnings, false),
    }
    .render()
    .unwrap_or_else(|err| format!("<p>The problems could not be shown: {err}</p>"))
}
