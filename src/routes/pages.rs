//! The practice's pages: `/` and `/<slug>` (services, about, consultation, privacy).

use axum::Router;
use axum::routing::get;

use super::{AppState, serve};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(serve))
        .route("/{slug}", get(serve))
}
