//! The server's front door. A GET or HEAD for a page or file the current
//! site has prepared is answered straight from the site, with the headers
//! the router would send; anything else goes through the router and all its
//! layers. None of those layers has work to do for such a lookup (no body to
//! limit or wait for, no error to render, nothing that could panic or take
//! long), and skipping them halves the cost of serving a page.
//!
//! The answer itself is [`super::prepared`], the same function the
//! router's fallback calls, so the two paths cannot disagree.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use futures_util::future::{Either, Ready, ready};
use tower::Service;

use super::AppState;
use crate::site::SiteHandle;

/// The application as the server runs it: [`super::app`], with the
/// prepared pages answered before routing.
#[derive(Clone)]
pub struct PreparedFirst {
    /// `None` in the preview, whose pages carry the latest build's problems.
    site: Option<Arc<SiteHandle>>,
    router: Router,
}

impl PreparedFirst {
    pub fn new(state: AppState) -> Self {
        let site = (!state.preview).then(|| Arc::clone(&state.site));
        Self {
            site,
            router: super::app(state),
        }
    }

    /// The answer to `request` if it asks for a prepared page or file.
    fn answer<B>(&self, request: &Request<B>) -> Option<Response> {
        let site = self.site.as_ref()?.load();
        super::prepared(
            &site,
            request.method(),
            request.uri().path(),
            request.headers(),
        )
    }
}

impl Service<Request<Body>> for PreparedFirst {
    type Response = Response;
    type Error = Infallible;
    type Future =
        Either<Ready<Result<Response, Infallible>>, <Router as Service<Request<Body>>>::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Service::<Request<Body>>::poll_ready(&mut self.router, cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        match self.answer(&request) {
            Some(response) => Either::Left(ready(Ok(response))),
            None => Either::Right(self.router.call(request)),
        }
    }
}
