//! A booking-ready app on a real database (SQLite, or PostgreSQL with
//! `TEST_STORE=postgres`), with a clock the test moves.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, header};
use chrono::{DateTime, Duration, Utc};
use practice_site::booking::Booking;
use practice_site::booking::notify::{Mailer, Outbox, SmtpSettings};
use practice_site::booking::settings::Secrets;
use practice_site::booking::store::SqlStore;
use practice_site::clock::ManualClock;
use practice_site::{AppState, app};
use scraper::{Html, Selector};

use super::{ADMIN_PASSWORD, Reply, booking_for, shipped_site, test_secrets};

/// Monday, June 1, 2026, 8:00 AM Pacific Daylight Time.
pub fn start_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-06-01T15:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// The real router over the shipped site, with booking on a database of its
/// own and a [`ManualClock`] the test moves; the store is open for tests
/// that look inside.
pub struct TestApp {
    pub router: Router,
    pub clock: Arc<ManualClock>,
    pub booking: Arc<Booking>,
    pub store: SqlStore,
}

/// One client's form values.
pub struct Client {
    pub name: &'static str,
    pub email: &'static str,
    pub note: &'static str,
}

/// The usual client.
pub const JANE: Client = Client {
    name: "Jane Quinn-Doe",
    email: "jane.quinn@example.org",
    note: "Evenings are easier for my partner and me.",
};

impl TestApp {
    /// The app with the usual test secrets (an admin password, no SMTP).
    pub async fn new() -> Self {
        Self::with_secrets(test_secrets()).await
    }

    /// The app over the shipped site with `secrets` (SMTP, a different login).
    pub async fn with_secrets(secrets: Secrets) -> Self {
        Self::with(shipped_site(), secrets).await
    }

    /// The app over `site` (a changed copy of the content) with `secrets`.
    pub async fn with(site: practice_site::site::Site, secrets: Secrets) -> Self {
        let store = SqlStore::open(&super::database::fresh_database())
            .await
            .unwrap();
        let clock = Arc::new(ManualClock::new(start_time()));
        let config = site
            .config()
            .expect("a built site has its settings")
            .clone();
        let booking = Arc::new(booking_for(&config, store.clone(), clock.clone(), &secrets));
        let router = app(AppState::new(site, booking.clone()));
        Self {
            router,
            clock,
            booking,
            store,
        }
    }

    /// Sends `request` to this app's router (see [`super::send`]).
    pub async fn send(&self, request: Request<Body>) -> Reply {
        super::send(&self.router, request).await
    }

    /// `GET path`, as a visitor without a session.
    pub async fn get(&self, path: &str) -> Reply {
        self.get_with_cookie(path, None).await
    }

    /// `GET path`, with the session `cookie` when there is one.
    pub async fn get_with_cookie(&self, path: &str, cookie: Option<&str>) -> Reply {
        let headers: Vec<(&str, &str)> = cookie.map(|c| ("cookie", c)).into_iter().collect();
        self.send(super::bare(Method::GET, path, &headers)).await
    }

    /// A form post from `peer` (the rate limit's key).
    pub async fn post_from(
        &self,
        peer: IpAddr,
        path: &str,
        fields: &[(&str, &str)],
        cookie: Option<&str>,
    ) -> Reply {
        self.send(post_request(peer, path, fields, cookie)).await
    }

    /// A form post from the therapist (peer 200), with her session `cookie`.
    pub async fn post_as_her(&self, path: &str, fields: &[(&str, &str)], cookie: &str) -> Reply {
        self.post_from(peer(200), path, fields, Some(cookie)).await
    }

    /// A form post from the usual client (peer 1), without a session.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        self.post_from(peer(1), path, fields, None).await
    }

    /// The booking page's form token and the values of its open slots.
    pub async fn open_form(&self) -> (String, Vec<String>) {
        let page = self.get("/consultation").await;
        assert_eq!(page.status, 200);
        form_token_and_slots(&page.body)
    }

    /// Books open slot `slot_index` as `client` would: opens the form, takes
    /// 20 seconds on the test clock to fill it in, and posts it.
    pub async fn book_as(&self, client: &Client, slot_index: usize) -> (Reply, String) {
        let (token, slots) = self.open_form().await;
        let slot = slots[slot_index].clone();
        self.clock.advance(Duration::seconds(20));
        let reply = self
            .post("/consultation", &filled(client, &slot, &token))
            .await;
        (reply, slot)
    }

    /// The form token of the "Cancel your consultation?" page of the
    /// booking at `private`, reached as a client would, from its link on
    /// the private page.
    pub async fn cancel_token(&self, private: &str) -> String {
        let page = Html::parse_document(&self.get(private).await.body);
        let to_cancel = format!("{private}/cancel");
        assert_eq!(
            attr(&page, &format!("a[href='{to_cancel}']"), "href").len(),
            1,
            "the private page links to the question"
        );
        let asked = Html::parse_document(&self.get(&to_cancel).await.body);
        assert_eq!(text(&asked, "h1"), ["Cancel your consultation?"]);
        attr(&asked, "form[action$='/cancel'] input[name=token]", "value")[0].clone()
    }

    /// Logs in and returns the `Cookie` header to send.
    pub async fn login(&self) -> String {
        let page = self.get("/admin/login").await;
        let token = attr(
            &Html::parse_document(&page.body),
            "input[name=token]",
            "value",
        )[0]
        .clone();
        let reply = self
            .post_from(
                peer(200),
                "/admin/login",
                &[("password", ADMIN_PASSWORD), ("token", &token)],
                None,
            )
            .await;
        assert_eq!(reply.status, 303, "{}", reply.body);
        let set_cookie = reply.headers[header::SET_COOKIE].to_str().unwrap();
        set_cookie.split(';').next().unwrap().to_string()
    }

    /// The CSRF token of an admin page.
    pub async fn admin_token(&self, path: &str, cookie: &str) -> String {
        let page = self.get_with_cookie(path, Some(cookie)).await;
        assert_eq!(page.status, 200, "{path}");
        attr(
            &Html::parse_document(&page.body),
            "input[name=token]",
            "value",
        )[0]
        .clone()
    }

    /// One number from the database (`SELECT COUNT(*) ...`).
    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(self.store.pool())
            .await
            .unwrap()
    }
}

/// An outbox over this app's store and clock that delivers to an SMTP
/// server on loopback `port` (see [`super::smtp::SmtpServer`]).
pub fn outbox(app: &TestApp, port: u16) -> Outbox {
    outbox_to(app, &format!("smtp://127.0.0.1:{port}"))
}

/// An outbox over this app's store and clock that delivers through `url`
/// (with a login in it, say).
pub fn outbox_to(app: &TestApp, url: &str) -> Outbox {
    let mailer = Mailer::new(
        &SmtpSettings {
            url: url.to_string(),
            from: "hello@example.com".into(),
        },
        "www.example.com",
    )
    .unwrap();
    Outbox::new(Arc::new(app.store.clone()), app.clock.clone(), mailer)
}

/// Seconds since the epoch on the test clock.
pub trait NowSeconds {
    fn now_seconds(&self) -> i64;
}

impl NowSeconds for ManualClock {
    fn now_seconds(&self) -> i64 {
        use practice_site::clock::Clock;
        self.now().timestamp()
    }
}

/// Client number `n`'s address on loopback, for the rate limits.
pub fn peer(n: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, n])
}

/// A form post of `fields` from `peer`, with the session `cookie` if any,
/// as the server sees it (the peer address set as a real connection would).
pub fn post_request(
    peer: IpAddr,
    path: &str,
    fields: &[(&str, &str)],
    cookie: Option<&str>,
) -> Request<Body> {
    let body = serde_urlencoded::to_string(fields).unwrap();
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    let mut request = request.body(Body::from(body)).unwrap();
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::new(peer, 40_000)));
    request
}

/// A complete, valid booking form.
pub fn filled<'a>(client: &'a Client, slot: &'a str, token: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("token", token),
        ("slot", slot),
        ("name", client.name),
        ("email", client.email),
        ("phone", ""),
        ("contact", "email"),
        ("topic", "couples"),
        ("note", client.note),
        ("consent", "yes"),
        ("website", ""),
    ]
}

/// A booking page's form token and the values of its open slots.
pub fn form_token_and_slots(page: &str) -> (String, Vec<String>) {
    let html = Html::parse_document(page);
    (
        attr(&html, "input[name=token]", "value")[0].clone(),
        attr(&html, "input[name=slot]", "value"),
    )
}

/// The attribute `name` of every element matching `css`.
pub fn attr(html: &Html, css: &str, name: &str) -> Vec<String> {
    let selector = Selector::parse(css).unwrap();
    html.select(&selector)
        .filter_map(|e| e.value().attr(name).map(str::to_string))
        .collect()
}

/// The text of every element matching `css`, with its spaces collapsed.
pub fn text(html: &Html, css: &str) -> Vec<String> {
    let selector = Selector::parse(css).unwrap();
    html.select(&selector)
        .map(|e| {
            e.text()
                .collect::<String>()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}
