//! `GET /healthz`: whether this server can do its work, for a monitor (an
//! uptime checker, the proxy, a person with `curl`). A small JSON body with
//! nothing personal in it: the site's build, whether the database can be
//! written, how the mail queue stands, and how the fetches of her busy
//! calendars went (each named by its host only). 503 when the database
//! cannot be written, since bookings would then fail; 200 otherwise, with
//! `"status": "degraded"` while the latest edit failed to build and the
//! last good site serves, or a calendar's latest fetch failed. Never cached; only POSTs are rate limited, so a monitor is not.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use super::AppState;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new().route("/healthz", get(health))
}

async fn health(State(state): State<AppState>) -> Response {
    let booking = &state.booking;
    let now = booking.now();
    let writable = booking.database_writable().await;
    let mail = booking.mail_counts().await.ok();
    let build = state.builds.as_ref().map(|b| b.borrow().clone());
    let failed_build = build.as_ref().is_some_and(|b| b.problems.is_some());
    let calendars = booking.calendar_statuses();
    // A calendar that cannot be read may hide a new session of hers.
    let stale_calendar = calendars.iter().any(|c| c.error.is_some());
    let (status, code) = match (writable, failed_build || stale_calendar) {
        (false, _) => ("unavailable", StatusCode::SERVICE_UNAVAILABLE),
        (true, true) => ("degraded", StatusCode::OK),
        (true, false) => ("ok", StatusCode::OK),
    };
    let body = json!({
        "status": status,
        "site": build.map(|b| json!({
            "generation": b.generation,
            "built_at": b.built_at.to_rfc3339(),
            "latest_build_failed": failed_build,
        })),
        "database": { "writable": writable },
        "calendars": calendars.iter().map(|c| json!({
            "name": c.name,
            "fetched_at": c.fetched_at.map(|at| at.to_rfc3339()),
            "error": c.error,
            "busy_times": c.busy_times,
        })).collect::<Vec<_>>(),
        "outbox": mail.map(|m| json!({
            "waiting": m.waiting,
            "failed": m.failed,
            "oldest_waiting_seconds": m.oldest_waiting.map(|at| (now - at).num_seconds().max(0)),
        })),
    });
    (
        code,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body.to_string(),
    )
        .into_response()
}
