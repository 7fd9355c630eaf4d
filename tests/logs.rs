//! Nothing a client typed reaches the log, even at TRACE level: names,
//! emails, notes and private links stay out of it; bookings are logged by id.
//! (Its own test binary: it installs the global log subscriber.)

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use chrono::Duration;
use common::booking_app::{Client, TestApp, outbox};
use common::smtp::SmtpServer;

/// Collects everything logged.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn nothing_a_client_typed_reaches_the_log() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // Global (this binary runs only this test), so every thread and task is
    // captured and no callsite is cached as uninteresting before it is set.
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let app = TestApp::new().await;
    let client = Client {
        name: "Zebulon Quartermaine",
        email: "zebulon.q@example.org",
        note: "Unmistakable note text 7731",
    };
    // Wrong input first, then a booking, its pages, a move and a cancellation.
    let (token, slots) = app.open_form().await;
    app.clock.advance(Duration::seconds(10));
    app.post(
        "/consultation",
        &[
            ("token", &token),
            ("name", client.name),
            ("email", "zebulon.q@@bad"),
            ("note", client.note),
        ],
    )
    .await;
    let (reply, _) = app.book_as(&client, 8).await;
    let location = reply.headers["location"].to_str().unwrap().to_string();
    let private = location.split('?').next().unwrap().to_string();
    let link_token = private.trim_start_matches("/booking/").to_string();
    app.get(&location).await;
    app.get(&format!("{private}/calendar.ics")).await;
    let cookie = app.login().await;
    app.get_with_cookie("/admin", Some(&cookie)).await;
    app.get_with_cookie("/admin/consultations/1", Some(&cookie))
        .await;
    app.get_with_cookie("/admin/export.csv", Some(&cookie))
        .await;
    // The calendar feed, before and after it gets a new address.
    let feed_tokens = [feed_token(&app, &cookie).await, {
        let csrf = app.admin_token("/admin", &cookie).await;
        app.post_from(
            common::booking_app::peer(1),
            "/admin/feed-address",
            &[("token", &csrf)],
            Some(&cookie),
        )
        .await;
        feed_token(&app, &cookie).await
    }];
    assert_ne!(feed_tokens[0], feed_tokens[1]);
    let server = SmtpServer::start(0).await;
    outbox(&app, server.port).run_once().await.unwrap();
    let cancel_token = app.cancel_token(&private).await;
    app.post(&format!("{private}/cancel"), &[("token", &cancel_token)])
        .await;
    assert!(!slots.is_empty());

    let log = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.contains("consultation booked"),
        "the log was captured:\n{log}"
    );
    assert!(log.contains("booking=1"), "bookings are logged by id");
    for typed in [
        client.name,
        "Zebulon",
        "Quartermaine",
        client.email,
        "zebulon.q",
        client.note,
        // Not the note's number alone: four digits can appear in a latency.
        "note text 7731",
        link_token.as_str(),
        feed_tokens[0].as_str(),
        feed_tokens[1].as_str(),
        // Credentials: the admin password and the session token.
        common::ADMIN_PASSWORD,
        cookie.trim_start_matches("admin_session="),
    ] {
        assert!(!log.contains(typed), "{typed:?} was logged:\n{log}");
    }
}

/// The secret in the dashboard's calendar address, after fetching the feed
/// (old addresses answer 404, and that is fetched too).
async fn feed_token(app: &TestApp, cookie: &str) -> String {
    let dashboard = app.get_with_cookie("/admin", Some(cookie)).await;
    let url = common::booking_app::text(
        &scraper::Html::parse_document(&dashboard.body),
        ".booking-link code",
    )[0]
    .clone();
    let path = url.strip_prefix("https://www.example.com").unwrap();
    assert_eq!(app.get(path).await.status, 200);
    path.trim_start_matches("/admin/feed/")
        .trim_end_matches(".ics")
        .to_string()
}
