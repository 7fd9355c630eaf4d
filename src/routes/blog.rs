//! The blog: `/blog` (the newest articles; older ones on `/blog/page/<n>`)
//! and `/blog/<slug>`.

use axum::Router;
use axum::routing::get;

use super::{AppState, serve};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/blog", get(serve))
        .route("/blog/{slug}", get(serve))
        .route("/blog/page/{number}", get(serve))
}
