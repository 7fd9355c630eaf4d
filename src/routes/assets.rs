//! Files from `static/`, served from memory: `/static/<path>` and the hashed
//! `/static/<name>.<hash>.<ext>` URLs the pages use. Nothing is read from
//! disk per request, so no request can reach a file outside `static/`.

use axum::Router;
use axum::routing::get;

use super::{AppState, serve};

pub fn router() -> Router<AppState> {
    Router::new().route("/static/{*path}", get(serve))
}
