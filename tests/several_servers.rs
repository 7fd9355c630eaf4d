//! A group practice's setup: two servers on one PostgreSQL database, behind
//! nginx sending requests to each in turn. The database decides every
//! booking, so a race for one slot across both servers gives one booking;
//! a login on one server is valid on the other (sessions and the signing
//! key live in the database); and with one server killed in the middle of
//! 50 bookings, every confirmed booking is there once and every email goes
//! out once (at most the one being sent at the kill goes out again, from the
//! other server, with its Message-ID).
//!
//! PostgreSQL comes from its own cluster (`common::database::Cluster`).

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

use common::booking_app::form_token_and_slots;
use common::database::{Cluster, booked_starts};
use common::nginx::Nginx;
use common::process::{Server, http, log_in, open_many_slots, post_booking};
use common::smtp::{RECEIVING, SmtpServer, message_ids};
use common::{ContentCopy, eventually};
use practice_site::booking::store::Database;

/// Two servers over one database, nginx in front of both.
struct Practice {
    servers: Vec<Server>,
    nginx: Nginx,
    database: Database,
    _copy: ContentCopy,
    _cluster: Cluster,
}

impl Practice {
    fn start(smtp: &SmtpServer) -> Self {
        let cluster = Cluster::start();
        let database = cluster.fresh_database();
        let Database::Postgres(url) = &database else {
            unreachable!()
        };
        let copy = ContentCopy::new();
        open_many_slots(&copy);
        let content = copy.root().join("content");
        // No SECRET_KEY: the servers must share the one kept in the database.
        let env = vec![
            ("SMTP_URL", format!("smtp://127.0.0.1:{}", smtp.port)),
            ("TRUST_PROXY", "1".to_string()),
        ];
        let servers: Vec<Server> = (0..2)
            .map(|_| Server::start_with_login(&content, url, &env))
            .collect();
        let upstreams: String = servers
            .iter()
            .map(|s| format!("server 127.0.0.1:{} max_fails=1 fail_timeout=30s; ", s.port))
            .collect();
        let nginx = Nginx::start(
            "",
            &format!("upstream practice {{ {upstreams} }}"),
            "location / {
            proxy_pass http://practice;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $http_x_forwarded_for;
            proxy_next_upstream error timeout;
        }",
        );
        Self {
            servers,
            nginx,
            database,
            _copy: copy,
            _cluster: cluster,
        }
    }
}

/// Client `i`'s own address, so each has its own rate limit.
fn address(i: usize) -> String {
    format!("10.8.{}.{}", i / 200, i % 200 + 1)
}

/// Client `i`'s booking form through nginx: its token, and the open times.
fn form(port: u16, i: usize) -> (String, Vec<String>) {
    let page = http(
        port,
        "GET",
        "/consultation",
        &[("X-Forwarded-For", &address(i))],
        "",
    )
    .unwrap();
    assert_eq!(page.status, 200);
    form_token_and_slots(&page.body)
}

/// The server refuses a form sent sooner than 3 s after it was given out;
/// a person takes that long.
fn fill_in_time() {
    std::thread::sleep(Duration::from_millis(3_200));
}

#[test]
fn two_servers_on_one_database_book_log_in_and_send_mail_as_one() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // Each mail takes a while to deliver, so the kill can catch one in flight.
    let smtp = runtime.block_on(SmtpServer::start_slow(
        0,
        Duration::from_millis(60),
        Duration::from_millis(10),
    ));
    let mut practice = Practice::start(&smtp);
    let port = practice.nginx.port;

    // 1. Twenty clients, served by both servers, send the same time at once.
    let forms: Vec<(String, Vec<String>)> = (0..20).map(|i| form(port, i)).collect();
    let slot = forms[0].1[0].clone();
    fill_in_time();
    let start = Arc::new(Barrier::new(20));
    let racers: Vec<_> = forms
        .into_iter()
        .enumerate()
        .map(|(i, (token, _))| {
            let (start, slot) = (Arc::clone(&start), slot.clone());
            std::thread::spawn(move || {
                start.wait();
                let email = format!("racer{i}@example.org");
                post_booking(port, &address(i), (&token, &slot), ("Sam Racer", &email))
                    .unwrap()
                    .status
            })
        })
        .collect();
    let statuses: Vec<u16> = racers.into_iter().map(|r| r.join().unwrap()).collect();
    assert!(statuses.iter().all(|s| *s < 500), "{statuses:?}");
    assert_eq!(
        statuses.iter().filter(|s| **s == 303).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        booked_starts(&practice.database),
        [slot.parse::<i64>().unwrap()]
    );

    // 2. A login on one server is valid on the other.
    let (first, second) = (practice.servers[0].port, practice.servers[1].port);
    let cookie = log_in(first);
    let dashboard = http(second, "GET", "/admin", &[("Cookie", &cookie)], "").unwrap();
    assert_eq!(dashboard.status, 200, "{}", dashboard.body);
    assert!(dashboard.body.contains("Log out"), "the dashboard itself");
    let stranger = http(second, "GET", "/admin", &[], "").unwrap();
    assert_ne!(stranger.status, 200, "and not without the login");

    // 3. Fifty bookings through nginx; one server is killed in the middle.
    let bookings = 50;
    let forms: Vec<(usize, String, String)> = (100..100 + bookings)
        .enumerate()
        .map(|(n, i)| {
            let (token, slots) = form(port, i);
            (i, token, slots[n].clone())
        })
        .collect();
    fill_in_time();
    let confirmed: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let next = Arc::new(AtomicUsize::new(0));
    let forms = Arc::new(forms);
    let posters: Vec<_> = (0..4)
        .map(|_| {
            let (confirmed, next, forms) = (confirmed.clone(), next.clone(), forms.clone());
            std::thread::spawn(move || {
                while let Some((i, token, slot)) = forms.get(next.fetch_add(1, Ordering::SeqCst)) {
                    let i = *i;
                    let email = format!("client{i}@example.org");
                    // A post that reached the killed server gets no confirmation.
                    if let Some(reply) =
                        post_booking(port, &address(i), (token, slot), ("Sam Client", &email))
                        && reply.status == 303
                    {
                        let location = reply.header("location").unwrap().to_string();
                        confirmed.lock().unwrap().push((slot.clone(), location));
                    }
                    // People arrive over time, not all in one instant.
                    std::thread::sleep(Duration::from_millis(20));
                }
            })
        })
        .collect();
    let half = eventually(Duration::from_secs(120), Duration::from_millis(2), || {
        (confirmed.lock().unwrap().len() >= bookings / 2).then_some(())
    });
    assert!(half.is_some(), "bookings stalled");
    // Killed while a mail is being delivered (by either server).
    let in_flight = eventually(Duration::from_secs(60), Duration::from_micros(200), || {
        (smtp.phase.load(Ordering::SeqCst) == RECEIVING).then_some(())
    });
    assert!(in_flight.is_some(), "no mail was being delivered");
    practice.servers[0].kill();
    for poster in posters {
        poster.join().unwrap();
    }
    let confirmed = confirmed.lock().unwrap().clone();
    assert!(
        confirmed.len() > bookings / 2,
        "the other server went on taking bookings: {} confirmed",
        confirmed.len()
    );

    // Every confirmed booking is there, once, and its link works.
    let booked = booked_starts(&practice.database);
    for (slot, location) in &confirmed {
        let start: i64 = slot.parse().unwrap();
        assert_eq!(booked.iter().filter(|s| **s == start).count(), 1, "{slot}");
        let path = location.split('?').next().unwrap();
        assert_eq!(http(port, "GET", path, &[], "").unwrap().status, 200);
    }
    // The therapist's notice and the client's confirmation of every booking
    // arrive; mail the killed server had claimed goes out from the other
    // once its claim's lease (90 s) runs out.
    let expected = booked.len() * 2;
    let all_arrived = runtime.block_on(smtp.until(Duration::from_secs(240), |messages| {
        message_ids(messages).iter().collect::<HashSet<_>>().len() >= expected
    }));
    assert!(
        all_arrived,
        "{} of {expected} emails arrived",
        smtp.messages().len()
    );
    // Kept: a quiet window in which a wrongly repeated email would arrive.
    std::thread::sleep(Duration::from_millis(500));
    let ids = message_ids(&smtp.messages());
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), expected, "every email arrived");
    let repeated = ids.len() - unique.len();
    assert!(repeated <= 1, "{repeated} emails were repeated");
    eprintln!(
        "two servers: {} of {bookings} bookings confirmed around a SIGKILL, {} in the database; \
         {expected} emails delivered, {repeated} sent twice (same Message-ID)",
        confirmed.len(),
        booked.len()
    );
}
