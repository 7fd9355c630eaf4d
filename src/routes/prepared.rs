//! The server's front door. A GET or HEAD for a page or file the current
//! site has prepared is answered straight from the site, with the headers
//! the router would send; anything else goes through the router and all its
//! layers. None of those layers has work to do for such a lookup (no body to
//! limit or wait for, no error to render, nothing that could panic or take
//! long), and skipping them halves the cost of serving a page.
//!
//! `tests/site.rs` checks that, for every prepared path, this answers
//! exactly what the router answers.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, header};
use axum::response::Response;
use futures_util::future::{Either, Ready, ready};
use tower::Service;

use super::{AppState, respond, security};
use crate::site::SiteHandle;
use crate::site::export::RENDERED_PER_REQUEST;

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
        let site = state.preview.is_none().then(|| Arc::clone(&state.site));
        Self {
            site,
            router: super::app(state),
        }
    }

    /// The answer to `request` if it asks for a prepared page or file.
    fn answer<B>(&self, request: &Request<B>) -> Option<Response> {
        let is_head = match *request.method() {
            Method::GET => false,
            Method::HEAD => true,
            _ => return None,
        };
        let path = request.uri().path();
        if RENDERED_PER_REQUEST.contains(&path) {
            return None;
        }
        let site = self.site.as_ref()?.load();
        let resource = site.get(path)?;
        let headers = request.headers();
        let mut response = respond(resource, headers);
        security::apply(response.headers_mut(), security::is_over_https(headers));
        // As the router does: the length of the body a GET would get, and
        // for HEAD no body.
        let length = axum::body::HttpBody::size_hint(response.body()).exact();
        if let Some(length) = length {
            response
                .headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(length));
        }
        if is_head {
            *response.body_mut() = Body::empty();
        }
        Some(response)
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
