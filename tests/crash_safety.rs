//! A stream of bookings against the real server, killed with SIGKILL in the
//! middle and restarted: every booking whose confirmation the client saw is
//! there exactly once, and every email is delivered. SMTP cannot confirm a
//! delivery atomically with our database, so the one email being sent at the
//! instant of a kill may go out a second time after the restart; it then
//! carries the same Message-ID, which mail systems show once. No other email
//! is ever repeated, and none is lost.
//!
//! The stream is cut into rounds; each round ends with a kill in its middle.
//! `CRASH_BOOKINGS` sets how many bookings are attempted (default 24),
//! `CRASH_KILLS` how many rounds (default 1). `scripts/crash-test` runs the
//! long version with `cargo test --release`, so against the release binary;
//! its last results are in SECURITY.md.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::booking_app::form_token_and_slots;
use common::database::booked_starts;
use common::process::{Server, http, open_many_slots, post_booking};
use common::smtp::{RECEIVING, RECORDED, SmtpServer, message_ids};
use common::{ContentCopy, eventually};
use practice_site::booking::store::Database;

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

/// Client `i`'s own address (the server trusts X-Forwarded-For here), so
/// the per-address rate limit sees many clients, as it would.
fn address(i: usize) -> String {
    format!("10.9.{}.{}", i / 200, i % 200 + 1)
}

/// A confirmation a client saw: the time it booked and its private link.
type Confirmed = Arc<Mutex<Vec<(String, String)>>>;

/// One round: clients `clients` open the form, fill it in (past the
/// minimum fill time) and send it, four at a time; the server is killed
/// once half of them have their confirmation, at a moment within `window`
/// of a mail's delivery reaching `phase` (not yet recorded by the mail
/// server, or recorded but not yet acknowledged), or of that half.
fn round(
    server: &mut Server,
    clients: std::ops::Range<usize>,
    confirmed: &Confirmed,
    smtp: &SmtpServer,
    (phase, window): (Option<u8>, Duration),
) {
    let port = server.port;
    let count = clients.len();
    let forms: Vec<(usize, String, String)> = clients
        .enumerate()
        .map(|(n, i)| {
            let page = http(
                port,
                "GET",
                "/consultation",
                &[("X-Forwarded-For", &address(i))],
                "",
            )
            .unwrap();
            let (token, slots) = form_token_and_slots(&page.body);
            assert!(slots.len() > count, "enough open times");
            (i, token, slots[n].clone())
        })
        .collect();
    // Kept: the server refuses a form sent sooner than MIN_FILL_TIME (3 s)
    // after it was given out, by its own clock; a person takes that long.
    std::thread::sleep(Duration::from_millis(3_200));

    let before = confirmed.lock().unwrap().len();
    let next = Arc::new(AtomicUsize::new(0));
    let forms = Arc::new(forms);
    let posters: Vec<_> = (0..4)
        .map(|_| {
            let (confirmed, next, forms) = (confirmed.clone(), next.clone(), forms.clone());
            std::thread::spawn(move || {
                while let Some((i, token, slot)) = forms.get(next.fetch_add(1, Ordering::SeqCst)) {
                    let email = format!("client{i}@example.org");
                    let from = address(*i);
                    // After the kill, posts fail: those clients saw no confirmation.
                    if let Some(reply) =
                        post_booking(port, &from, (token, slot), ("Sam Client", &email))
                        && reply.status == 303
                    {
                        let location = reply.header("location").unwrap().to_string();
                        confirmed.lock().unwrap().push((slot.clone(), location));
                    }
                    // People arrive over time, not all in one instant: the
                    // round lasts long enough to be killed in its middle.
                    std::thread::sleep(Duration::from_millis(20));
                }
            })
        })
        .collect();
    // Kill in the middle of the round, with bookings and mail in flight.
    let half = eventually(Duration::from_secs(120), Duration::from_millis(2), || {
        (confirmed.lock().unwrap().len() - before >= count / 2).then_some(())
    });
    assert!(half.is_some(), "bookings stalled");
    if let Some(phase) = phase {
        // Checked often: a phase lasts RECEIVING_TIME or RECORDED_TIME.
        let caught = eventually(Duration::from_secs(120), Duration::from_micros(200), || {
            (smtp.phase.load(Ordering::SeqCst) == phase).then_some(())
        });
        assert!(caught.is_some(), "no mail was being delivered");
    }
    // Kept: somewhere inside that phase, not always at its start; the
    // random moment of the kill is the point.
    std::thread::sleep(window.mul_f64(f64::from(jitter()) * 0.6));
    server.kill();
    for poster in posters {
        poster.join().unwrap();
    }
}

/// How long the mail server takes before it records a message (the killed
/// process is gone well within it), and after, before it says it took it.
const RECEIVING_TIME: Duration = Duration::from_millis(50);
const RECORDED_TIME: Duration = Duration::from_millis(10);

/// A number in [0, 1) that differs from run to run.
fn jitter() -> f32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos();
    (nanos % 1000) as f32 / 1000.0
}

#[test]
fn a_killed_server_loses_no_confirmed_booking_and_no_email() {
    let bookings = setting("CRASH_BOOKINGS", 24);
    let kills = setting("CRASH_KILLS", 1).max(1);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // Each mail takes a while to deliver, so a kill can catch one in flight.
    let smtp = runtime.block_on(SmtpServer::start_slow(0, RECEIVING_TIME, RECORDED_TIME));
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
    let started = Instant::now();

    let confirmed: Confirmed = Arc::default();
    let per_round = bookings.div_ceil(kills);
    // The first kill catches a mail before the mail server has it (it must
    // not be lost), the next one after (it may be sent twice), the third at
    // any moment of the bookings (a booking just confirmed must be there),
    // and so on.
    let kill_at = [
        (Some(RECEIVING), RECEIVING_TIME),
        (Some(RECORDED), RECORDED_TIME),
        (None, Duration::from_millis(40)),
    ];
    for (n, first) in (0..bookings).step_by(per_round).enumerate() {
        let mut server = Server::start(&content, &database, &env);
        let clients = first..(first + per_round).min(bookings);
        round(&mut server, clients, &confirmed, &smtp, kill_at[n % 3]);
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
    let booked = booked_starts(&Database::Sqlite(database.clone()));
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
    let all_arrived = runtime.block_on(smtp.until(Duration::from_secs(120), |messages| {
        message_ids(messages).iter().collect::<HashSet<_>>().len() >= expected
    }));
    assert!(
        all_arrived,
        "{} of {expected} emails arrived",
        smtp.messages().len()
    );
    // Kept: a quiet window in which a wrongly repeated email would arrive;
    // that none does is what is being checked, so a time is the point.
    std::thread::sleep(Duration::from_millis(500));
    let ids = message_ids(&smtp.messages());
    assert_eq!(ids.len(), smtp.messages().len(), "every email has an id");
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), expected, "every email arrived");
    // The outbox sends one mail at a time: at most the one in flight at each
    // kill can be repeated, and only with its own Message-ID.
    let repeated = ids.len() - unique.len();
    assert!(repeated <= kills, "{repeated} emails were repeated");
    drop(server);
    // What scripts/crash-test records in SECURITY.md.
    eprintln!(
        "crash test: {bookings} bookings attempted in {kills} round(s), each ended by SIGKILL; \
         {} confirmed and all present once after restarts ({} in the database); \
         {expected} emails delivered, {repeated} sent twice (same Message-ID); {:.0} s",
        confirmed.len(),
        booked.len(),
        started.elapsed().as_secs_f64()
    );
}
