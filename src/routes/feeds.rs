//! For machines: `/sitemap.xml`, `/feed.xml` (Atom) and `/robots.txt`.

use axum::Router;
use axum::routing::get;

use super::{AppState, serve};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sitemap.xml", get(serve))
        .route("/feed.xml", get(serve))
        .route("/robots.txt", get(serve))
}
