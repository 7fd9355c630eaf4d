//! Busy times from the therapist's own calendar (`BUSY_CALENDAR_URLS`),
//! through the real router with a real SQLite file: a time her calendar
//! holds is never offered (buffer included), a time that became busy after
//! the form was opened is refused when it is sent, and a calendar that
//! cannot be read keeps its last good copy and says so on the dashboard
//! and in `/healthz`, without ever showing its secret address. Calendars
//! are read from a file and over HTTP from a server on loopback.

mod common;

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use common::booking_app::{JANE, TestApp, filled};
use common::test_secrets;
use practice_site::booking::settings::Secrets;

fn at(slot: &str) -> DateTime<Utc> {
    DateTime::from_timestamp(slot.parse().unwrap(), 0).unwrap()
}

fn stamp(instant: DateTime<Utc>) -> String {
    instant.format("%Y%m%dT%H%M%SZ").to_string()
}

/// A calendar of `events`, each (start, end) in UTC, as an EHR exports it
/// (with a title that must never be kept).
fn calendar(events: &[(DateTime<Utc>, DateTime<Utc>)]) -> String {
    let mut text = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//EHR//EN\r\n");
    for (i, (start, end)) in events.iter().enumerate() {
        text.push_str(&format!(
            "BEGIN:VEVENT\r\nUID:session-{i}\r\nDTSTART:{}\r\nDTEND:{}\r\nSUMMARY:Session with a client\r\nEND:VEVENT\r\n",
            stamp(*start),
            stamp(*end)
        ));
    }
    text.push_str("END:VCALENDAR\r\n");
    text
}

async fn app_reading(urls: String) -> TestApp {
    TestApp::with_secrets(Secrets {
        busy_calendar_urls: Some(urls),
        ..test_secrets()
    })
    .await
}

/// Fetches her calendars now, off the async threads, as the server does.
async fn refresh(app: &TestApp) {
    let booking = Arc::clone(&app.booking);
    tokio::task::spawn_blocking(move || booking.refresh_busy_calendars())
        .await
        .unwrap();
}

/// An app reading her calendar from a file, empty for now and fetched:
/// the folder (kept alive), the file to write events to, and the app.
async fn app_with_an_empty_calendar_file() -> (tempfile::TempDir, std::path::PathBuf, TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ehr.ics");
    std::fs::write(&file, calendar(&[])).unwrap();
    let app = app_reading(format!("file://{}", file.display())).await;
    refresh(&app).await;
    (dir, file, app)
}

async fn offered(app: &TestApp) -> Vec<String> {
    app.open_form().await.1
}

#[tokio::test]
async fn her_calendar_blocks_its_times_and_a_time_busy_since_the_form_opened_is_refused() {
    let (_dir, file, app) = app_with_an_empty_calendar_file().await;
    let (token, before) = app.open_form().await;
    assert!(
        before.len() >= 4,
        "the shipped hours offer times: {before:?}"
    );

    // A session over the second time, and one ending 10 minutes before the
    // third (inside the 15-minute buffer). A recurring series and all-day
    // events are read the same way (unit tests in src/booking/calendar.rs).
    let second = at(&before[1]);
    let third = at(&before[2]);
    std::fs::write(
        &file,
        calendar(&[
            (second, second + Duration::minutes(50)),
            (third - Duration::minutes(40), third - Duration::minutes(10)),
        ]),
    )
    .unwrap();
    refresh(&app).await;
    let after = offered(&app).await;
    assert!(!after.contains(&before[1]), "a busy time is offered");
    assert!(
        !after.contains(&before[2]),
        "a time inside the buffer is offered"
    );
    assert!(after.contains(&before[0]) && after.contains(&before[3]));

    // The first time becomes busy after the client opened the form.
    let first = at(&before[0]);
    std::fs::write(
        &file,
        calendar(&[
            (first, first + Duration::minutes(50)),
            (second, second + Duration::minutes(50)),
        ]),
    )
    .unwrap();
    refresh(&app).await;
    app.clock.advance(Duration::seconds(20));
    let reply = app
        .post("/consultation", &filled(&JANE, &before[0], &token))
        .await;
    assert_eq!(reply.status, 409, "{}", reply.body);
    assert!(reply.body.contains("that time was just taken"));
    assert!(
        reply.body.contains(JANE.email),
        "the client's input is kept"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM consultations").await, 0);
}

/// A one-request-at-a-time HTTP server on loopback answering each request
/// with what `answer` holds then: (status line, body).
fn serve(answer: Arc<Mutex<(&'static str, String)>>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let (status, body) = answer.lock().unwrap().clone();
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: text/calendar\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

#[tokio::test]
async fn a_calendar_that_cannot_be_read_keeps_its_last_copy_and_says_so_without_its_address() {
    let answer = Arc::new(Mutex::new(("200 OK", calendar(&[]))));
    let port = serve(Arc::clone(&answer));
    let secret = "private-feed-7c1e9a";
    let app = app_reading(format!("http://127.0.0.1:{port}/{secret}/basic.ics")).await;
    let before = {
        refresh(&app).await;
        offered(&app).await
    };
    let busy = at(&before[1]);
    answer.lock().unwrap().1 = calendar(&[(busy, busy + Duration::minutes(50))]);
    refresh(&app).await;
    assert!(!offered(&app).await.contains(&before[1]));

    // The calendar server fails: the last good copy keeps blocking.
    *answer.lock().unwrap() = ("503 Service Unavailable", String::new());
    refresh(&app).await;
    assert!(!offered(&app).await.contains(&before[1]));

    let health = app.get("/healthz").await;
    let json: serde_json::Value = serde_json::from_str(&health.body).unwrap();
    assert_eq!(json["status"], "degraded");
    let calendar = &json["calendars"][0];
    assert_eq!(
        calendar["name"],
        "calendar 1 (127.0.0.1:".to_string() + &port.to_string() + ")"
    );
    assert_eq!(calendar["error"], "the server answered 503");
    assert_eq!(calendar["busy_times"], 1);
    assert!(calendar["fetched_at"].is_string());
    assert!(!health.body.contains(secret), "{}", health.body);

    let cookie = app.login().await;
    let dashboard = app.get_with_cookie("/admin", Some(&cookie)).await;
    assert!(
        dashboard
            .body
            .contains("could not be read (the server answered 503)"),
        "{}",
        dashboard.body
    );
    assert!(dashboard.body.contains("keeps blocking times"));
    assert!(!dashboard.body.contains(secret));
    assert!(!dashboard.body.contains("Session with a client"));
}

#[test]
fn addresses_that_cannot_be_calendars_are_refused_at_start() {
    let refused = |urls: &str| {
        Secrets::from_lookup(|name| (name == "BUSY_CALENDAR_URLS").then(|| urls.to_string()))
            .unwrap_err()
            .join("; ")
    };
    assert!(refused("webcal://ehr.example/feed.ics").contains("write https://"));
    assert!(refused("calendar.ics").contains("is not a URL"));
    let fine = Secrets::from_lookup(|name| {
        (name == "BUSY_CALENDAR_URLS")
            .then(|| "https://ehr.example/a.ics file:///srv/b.ics".to_string())
    })
    .unwrap();
    assert!(fine.busy_calendar_urls.is_some());
}

#[tokio::test]
async fn bookings_that_no_longer_fit_her_days_or_her_calendar_are_listed_for_her() {
    let (_dir, file, app) = app_with_an_empty_calendar_file().await;
    let (_, first) = app.book_as(&JANE, 0).await;
    let (_, second) = app.book_as(&JANE, 3).await;
    let cookie = app.login().await;
    let dashboard = || async { app.get_with_cookie("/admin", Some(&cookie)).await.body };
    assert!(!dashboard().await.contains("no longer fit"));

    // A session lands over the first booking in her calendar.
    let at_first = at(&first);
    std::fs::write(
        &file,
        calendar(&[(at_first, at_first + Duration::minutes(50))]),
    )
    .unwrap();
    refresh(&app).await;
    let page = dashboard().await;
    assert!(
        page.contains("1 booking no longer fits your times."),
        "{page}"
    );
    assert!(page.contains("over a time busy in your calendar"));

    // She blocks the second booking's day in site.toml.
    let day = at(&second)
        .with_timezone(&chrono_tz::America::Los_Angeles)
        .format("%Y-%m-%d")
        .to_string();
    let copy = common::ContentCopy::new();
    copy.edit(
        "site.toml",
        "blocked_dates = [",
        &format!("blocked_dates = [\"{day}\", "),
    );
    let site = practice_site::site::Site::load(&copy.sources()).unwrap();
    app.booking.update_setup(site.config().unwrap());
    let page = dashboard().await;
    assert!(
        page.contains("2 bookings no longer fit your times."),
        "{page}"
    );
    assert!(page.contains("on a day now blocked in site.toml"));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM consultations WHERE status = 'booked'")
            .await,
        2,
        "they stay booked until she acts"
    );
}
