//! A stream of bookings against the real server, killed with SIGKILL in the
//! middle and restarted: every booking whose confirmation the client saw is
//! there exactly once, and every email is delivered. SMTP cannot confirm a
//! delivery atomically with our database, so the one email being sent at the
//! instant of the kill may go out a second time after the restart; it then
//! carries the same Message-ID, which mail systems show once. No other email
//! is ever repeated, and none is lost.
//! `CRASH_BOOKINGS` sets how many are attempted (default 24; the long run in
//! SECURITY.md uses more).

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::ContentCopy;
use common::process::{Server, http, open_many_slots};
use common::smtp::SmtpServer;
use scraper::{Html, Selector};

fn form_token_and_slots(body: &str) -> (String, Vec<String>) {
    let html = Html::parse_document(body);
    let values = |css: &str| -> Vec<String> {
        let selector = Selector::parse(css).unwrap();
        html.select(&selector)
            .filter_map(|e| e.value().attr("value").map(str::to_string))
            .collect()
    };
    (
        values("input[name=token]")[0].clone(),
        values("input[name=slot]"),
    )
}

fn encode(fields: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(fields).unwrap()
}

#[test]
fn a_killed_server_loses_no_confirmed_booking_and_no_email() {
    let bookings: usize = std::env::var("CRASH_BOOKINGS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(24);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let smtp = runtime.block_on(SmtpServer::start(0));
    let copy = ContentCopy::new();
    open_many_slots(&copy);
    let database = copy.root().join("practice.db");
    let env = vec![
        ("SMTP_URL", format!("smtp://127.0.0.1:{}", smtp.port)),
        (
            "SECRET_KEY",
            "a signing key that is long enough for tests".to_string(),
        ),
        ("TRUST_PROXY", "1".to_string()),
    ];
    let content = copy.root().join("content");
    let mut server = Server::start(&content, &database, &env);
    let port = server.port;

    // Each client opens the form from its own address (TRUST_PROXY), then,
    // past the minimum fill time, sends it for its own time.
    let forms: Vec<(String, String)> = (0..bookings)
        .map(|i| {
            let address = format!("10.9.{}.{}", i / 200, i % 200 + 1);
            let page = http(
                port,
                "GET",
                "/consultation",
                &[("X-Forwarded-For", &address)],
                "",
            )
            .unwrap();
            let (token, slots) = form_token_and_slots(&page.body);
            assert!(slots.len() > bookings, "enough open times");
            (token, slots[i].clone())
        })
        .collect();
    std::thread::sleep(Duration::from_millis(3_200));

    let confirmed: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let next = Arc::new(AtomicUsize::new(0));
    let forms = Arc::new(forms);
    let posters: Vec<_> = (0..4)
        .map(|_| {
            let (confirmed, next, forms) = (confirmed.clone(), next.clone(), forms.clone());
            std::thread::spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some((token, slot)) = forms.get(i) else {
                        return;
                    };
                    let address = format!("10.9.{}.{}", i / 200, i % 200 + 1);
                    let email = format!("client{i}@example.org");
                    let body = encode(&[
                        ("token", token),
                        ("slot", slot),
                        ("name", "Sam Client"),
                        ("email", &email),
                        ("phone", ""),
                        ("contact", "email"),
                        ("topic", "not-sure"),
                        ("note", ""),
                        ("consent", "yes"),
                        ("website", ""),
                    ]);
                    let headers = [
                        ("X-Forwarded-For", address.as_str()),
                        ("Content-Type", "application/x-www-form-urlencoded"),
                    ];
                    // After the kill, posts fail: those clients saw no confirmation.
                    if let Some(reply) = http(port, "POST", "/consultation", &headers, &body)
                        && reply.status == 303
                    {
                        let location = reply.header("location").unwrap().to_string();
                        confirmed.lock().unwrap().push((slot.clone(), location));
                    }
                }
            })
        })
        .collect();
    // Kill in the middle of the stream, with bookings and mail in flight.
    let deadline = Instant::now() + Duration::from_secs(60);
    while confirmed.lock().unwrap().len() < bookings / 2 {
        assert!(Instant::now() < deadline, "bookings stalled");
        std::thread::sleep(Duration::from_millis(2));
    }
    server.kill();
    for poster in posters {
        poster.join().unwrap();
    }
    let confirmed = confirmed.lock().unwrap().clone();
    assert!(confirmed.len() >= bookings / 2);

    // Restart on the same database: every confirmed booking is there, once.
    let server = Server::start(&content, &database, &env);
    for (slot, location) in &confirmed {
        let path = location.split('?').next().unwrap();
        let page = http(server.port, "GET", path, &[], "").unwrap();
        assert_eq!(
            page.status, 200,
            "the confirmation link of {slot} still works"
        );
    }
    let booked: Vec<i64> = runtime.block_on(async {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", database.display()))
            .await
            .unwrap();
        let rows =
            sqlx::query_scalar("SELECT starts_at FROM consultations WHERE status = 'booked'")
                .fetch_all(&pool)
                .await
                .unwrap();
        pool.close().await;
        rows
    });
    let mut per_start: HashMap<i64, usize> = HashMap::new();
    for start in &booked {
        *per_start.entry(*start).or_default() += 1;
    }
    for (slot, _) in &confirmed {
        assert_eq!(
            per_start.get(&slot.parse::<i64>().unwrap()),
            Some(&1),
            "booking at {slot}"
        );
    }

    // The outbox sends the therapist's notice and the client's confirmation
    // of every booking in the database, each exactly once.
    let expected = booked.len() * 2;
    let deadline = Instant::now() + Duration::from_secs(60);
    let distinct = |smtp: &SmtpServer| {
        smtp.messages()
            .iter()
            .filter_map(|m| {
                m.data
                    .lines()
                    .find(|l| l.to_ascii_lowercase().starts_with("message-id:"))
                    .map(str::to_string)
            })
            .collect::<HashSet<_>>()
            .len()
    };
    while distinct(&smtp) < expected {
        assert!(
            Instant::now() < deadline,
            "{} of {expected} emails arrived",
            smtp.messages().len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    let messages = smtp.messages();
    let ids: Vec<String> = messages
        .iter()
        .map(|m| {
            m.data
                .lines()
                .find(|l| l.to_ascii_lowercase().starts_with("message-id:"))
                .unwrap()
                .to_string()
        })
        .collect();
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), expected, "every email arrived");
    // The outbox sends one mail at a time: at most the one in flight at the
    // kill can be repeated, and only with its own Message-ID.
    assert!(
        ids.len() - unique.len() <= 1,
        "{} emails were repeated",
        ids.len() - unique.len()
    );
    drop(server);
}
