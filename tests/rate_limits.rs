//! The rate limits as an address-hopping client meets them: the real server
//! behind a (pretended) proxy, over raw sockets, with the client's address
//! in `X-Forwarded-For`. One IPv6 /64 is one client, and a flood from
//! 50,000 addresses neither grows the tracked set past its bound nor frees
//! a limited client.

mod common;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use common::ContentCopy;
use common::process::Server;
use practice_site::booking::limits::MAX_TRACKED;

/// How many public posts one client may make at once.
const BURST: usize = 10;

/// Sends one public post per address, pipelined on one connection, and
/// returns the status of each answer in order.
fn post_from_each(port: u16, addresses: &[String]) -> Vec<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let body = "token=not-a-real-token";
    let mut requests = String::new();
    for (i, address) in addresses.iter().enumerate() {
        let connection = if i + 1 == addresses.len() {
            "close"
        } else {
            "keep-alive"
        };
        requests.push_str(&format!(
            "POST /consultation HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: {connection}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nX-Forwarded-For: {address}\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        ));
    }
    let writer = {
        let mut stream = stream.try_clone().unwrap();
        std::thread::spawn(move || stream.write_all(requests.as_bytes()).unwrap())
    };
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    writer.join().unwrap();
    let text = String::from_utf8_lossy(&raw);
    let statuses: Vec<u16> = text
        .match_indices("HTTP/1.1 ")
        .filter_map(|(at, _)| text.get(at + 9..at + 12)?.parse().ok())
        .collect();
    assert_eq!(statuses.len(), addresses.len(), "one answer per request");
    statuses
}

fn limited(statuses: &[u16]) -> usize {
    statuses.iter().filter(|&&s| s == 429).count()
}

#[test]
fn an_address_hopping_client_stays_limited_and_the_tracked_set_stays_bounded() {
    let copy = ContentCopy::new();
    let database = common::fresh_database_path();
    let server = Server::start(
        &copy.root().join("content"),
        &database,
        &[("TRUST_PROXY", "1".into()), ("RUST_LOG", "error".into())],
    );
    let port = server.port;

    // One IPv6 /64: every address in it draws on one bucket.
    let same_64: Vec<String> = (1..=BURST + 1)
        .map(|n| format!("2001:db8:5:6:{n:x}::{n:x}"))
        .collect();
    let statuses = post_from_each(port, &same_64);
    assert_eq!(limited(&statuses[..BURST]), 0, "{statuses:?}");
    assert_eq!(statuses[BURST], 429, "the 11th address of one /64");
    let next_64 = post_from_each(port, &["2001:db8:5:7::1".to_string()]);
    assert_ne!(next_64[0], 429, "the next /64 is another client");

    // A client that used up its bucket.
    let attacker = "203.0.113.7".to_string();
    let statuses = post_from_each(port, &vec![attacker.clone(); BURST + 1]);
    assert_eq!(statuses[BURST], 429);

    // A flood from 50,000 other addresses, one post each.
    let mut allowed = 0;
    for batch in 0..50u32 {
        let addresses: Vec<String> = (0..1_000u32)
            .map(|i| {
                let n = 0x0a00_0000 + batch * 1_000 + i;
                std::net::Ipv4Addr::from(n).to_string()
            })
            .collect();
        let statuses = post_from_each(port, &addresses);
        allowed += statuses.len() - limited(&statuses);
    }
    // Each tracked address gets its own bucket; past the bound, newcomers
    // share one, so at most one burst more gets through.
    assert!(
        allowed <= MAX_TRACKED + BURST,
        "{allowed} of 50,000 flooding addresses were let through: the tracked set grew past {MAX_TRACKED}"
    );
    assert!(allowed >= MAX_TRACKED - 100, "only {allowed} let through");
    // The flood reset nobody, and a newcomer now shares the drained bucket.
    assert_eq!(
        post_from_each(port, std::slice::from_ref(&attacker))[0],
        429
    );
    assert_eq!(
        post_from_each(port, &["198.51.100.77".to_string()])[0],
        429,
        "past the bound, a newcomer has no bucket of its own"
    );
}
