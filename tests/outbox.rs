//! Mail: the outbox delivers over a real SMTP conversation with a small
//! server on loopback, keeps mail queued while the server is down, retries
//! with backoff, and sends each message once.

mod common;

use chrono::Duration;
use common::booking_app::{JANE, NowSeconds, TestApp, outbox, outbox_to, text};
use common::smtp::SmtpServer;
use practice_site::booking::notify::Delivery;

/// A loopback port with nothing listening on it.
async fn closed_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

/// Undoes quoted-printable soft breaks and `=XX` escapes well enough to search.
fn unquote(text: &str) -> String {
    let joined = text.replace("=\r\n", "");
    let mut out = String::new();
    let mut rest = joined.as_str();
    while let Some(i) = rest.find('=') {
        out.push_str(&rest[..i]);
        let code = rest
            .get(i + 1..i + 3)
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match code {
            Some(byte) => {
                out.push(byte as char);
                rest = &rest[i + 3..];
            }
            None => {
                out.push('=');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn the_outbox_survives_an_smtp_outage_and_delivers_each_mail_once() {
    let app = TestApp::new().await;
    // Far enough ahead for a reminder: three mails queued with the booking.
    let (reply, _) = app.book_as(&JANE, 8).await;
    assert_eq!(reply.status, 303);
    let private = reply.headers["location"]
        .to_str()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE status = 'pending'")
            .await,
        3
    );

    // The server is down: nothing is lost, each due mail is tried once and rescheduled.
    let port = closed_port().await;
    let outbox = outbox(&app, port);
    let first = outbox.run_once().await.unwrap();
    assert_eq!(
        first,
        Delivery {
            sent: 0,
            retrying: 2,
            given_up: 0
        }
    );
    let now = app.clock.now_seconds();
    let (attempts, next, error): (i64, i64, String) = sqlx::query_as(
        "SELECT attempts, next_attempt_at, last_error FROM outbox WHERE kind = 'confirmation'",
    )
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert_eq!(attempts, 1);
    assert_eq!(next, now + 60, "first retry a minute later");
    assert_eq!(error, "could not connect to the mail server");
    assert!(!error.contains("jane"), "errors name no one");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE status = 'pending'")
            .await,
        3
    );
    // Not due yet: a second run sends nothing and counts no attempt.
    assert_eq!(outbox.run_once().await.unwrap(), Delivery::default());

    // The server comes up; time passes to the retry.
    let server = SmtpServer::start(port).await;
    app.clock.advance(Duration::minutes(2));
    let second = outbox.run_once().await.unwrap();
    assert_eq!(
        second,
        Delivery {
            sent: 2,
            retrying: 0,
            given_up: 0
        }
    );
    let messages = server.messages();
    assert_eq!(messages.len(), 2);

    let therapist = messages
        .iter()
        .find(|m| m.to == ["hello@example.com"])
        .expect("the therapist's notice");
    let text = unquote(&therapist.data);
    assert!(text.contains("Subject: New consultation on"), "{text}");
    assert!(text.contains("/admin/consultations/1"));
    for private in [JANE.name, "Jane", JANE.email, JANE.note, "Couples"] {
        assert!(
            !text.contains(private),
            "{private} in the therapist's email"
        );
    }

    let client = messages
        .iter()
        .find(|m| m.to == [JANE.email])
        .expect("the client's confirmation");
    assert_eq!(client.from, "hello@example.com");
    let text = unquote(&client.data);
    assert!(text.contains("Pacific Time"), "{text}");
    assert!(text.contains(&private), "the private link");
    assert!(text.contains("988") && text.contains("911"));
    assert!(text.contains("text/calendar"));
    assert!(text.contains("consultation.ics"));
    assert!(
        text.contains("BEGIN:VCALENDAR") || text.contains("QkVHSU46VkNBTEVOREFS"),
        "the .ics is attached"
    );
    assert!(!text.contains(JANE.note), "the note is never emailed");

    // Sent means sent once: another run sends nothing.
    assert_eq!(outbox.run_once().await.unwrap(), Delivery::default());
    assert_eq!(server.messages().len(), 2);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM outbox WHERE status = 'sent' AND body = '' AND recipient = ''"
        )
        .await,
        2,
        "sent mail is marked and its text forgotten"
    );

    // The reminder goes out a day before, once.
    let reminder_due: i64 =
        sqlx::query_scalar("SELECT next_attempt_at FROM outbox WHERE kind = 'reminder'")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    app.clock
        .set(chrono::DateTime::from_timestamp(reminder_due, 0).unwrap());
    assert_eq!(outbox.run_once().await.unwrap().sent, 1);
    assert_eq!(outbox.run_once().await.unwrap().sent, 0);
    let messages = server.messages();
    assert_eq!(messages.len(), 3);
    assert!(unquote(&messages[2].data).contains("Subject: Reminder: your consultation tomorrow"));
}

#[tokio::test]
async fn a_mail_is_given_up_after_a_day_of_failures_and_shown_as_failed() {
    let app = TestApp::new().await;
    app.book_as(&JANE, 0).await;
    let outbox = outbox(&app, closed_port().await);
    let mut given_up = 0;
    for _ in 0..practice_site::booking::notify::MAX_ATTEMPTS {
        given_up += outbox.run_once().await.unwrap().given_up;
        app.clock.advance(Duration::hours(7));
    }
    assert_eq!(given_up, 2);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE status = 'failed'")
            .await,
        2
    );
    let cookie = app.login().await;
    let dashboard = app.get_with_cookie("/admin", Some(&cookie)).await;
    assert!(
        dashboard.body.contains("Email is off"),
        "this app has no mailer configured"
    );
}

/// A mail server that refuses the site's login, past every retry: the
/// dashboard says which message failed, why, and what to do.
#[tokio::test]
async fn the_dashboard_shows_each_email_and_a_banner_when_one_finally_failed() {
    let app = TestApp::new().await;
    app.book_as(&JANE, 0).await;
    let server = SmtpServer::start_with_login("site", "right password").await;
    let outbox = outbox_to(
        &app,
        &format!("smtp://site:wrong@127.0.0.1:{}", server.port),
    );
    let cookie = app.login().await;
    let email_rows = |body: &str| {
        text(
            &scraper::Html::parse_document(body),
            "#mail-heading + div tbody tr",
        )
    };

    outbox.run_once().await.unwrap();
    let dashboard = app.get_with_cookie("/admin", Some(&cookie)).await.body;
    let rows = email_rows(&dashboard);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(
        rows.iter()
            .all(|r| r.contains("Waiting: the mail server refused the login")),
        "{rows:?}"
    );
    assert!(!dashboard.contains("could not be sent"));

    for _ in 0..practice_site::booking::notify::MAX_ATTEMPTS {
        app.clock.advance(Duration::hours(7));
        outbox.run_once().await.unwrap();
    }
    assert!(server.messages().is_empty());
    // Days later: a new session.
    let cookie = app.login().await;
    let dashboard = app.get_with_cookie("/admin", Some(&cookie)).await.body;
    let rows = email_rows(&dashboard);
    assert!(
        rows.iter()
            .any(|r| r.contains("Confirmation (to the client)")),
        "{rows:?}"
    );
    assert!(
        rows.iter()
            .all(|r| r.contains("Failed after 12 tries: the mail server refused the login")),
        "{rows:?}"
    );
    assert!(
        dashboard.contains("2 emails could not be sent</strong>"),
        "{dashboard}"
    );
    // Nothing of the client in the list: no address.
    assert!(rows.iter().all(|r| !r.contains(JANE.email)));
}
