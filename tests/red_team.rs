//! Red-team checks over real sockets: clients that hold what the server has
//! to give them. Clients that pipeline requests and never read their
//! answers (the write deadline), one address opening connection after
//! connection (the cap per address), and the preview's event streams (their
//! cap and their idle timeout). Each test was seen to fail with its
//! protection removed (SECURITY.md, "Clients that hold connections").

mod common;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use common::sockets::{connect_from, exchange_async, start, try_connect_from};
use common::{ContentCopy, get, live_router_with, router, shipped_site};
use practice_site::RequestLimits;
use practice_site::clock::SystemClock;
use practice_site::live::Reloader;
use practice_site::server::Limits;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

const HERE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 1));
const ELSEWHERE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 2));

/// The site's largest page, uncompressed, and its size.
async fn largest_page(app: &Router) -> (String, usize) {
    let site = shipped_site();
    let mut largest = (String::new(), 0);
    for path in site.page_paths() {
        let size = get(app, path).await.bytes.len();
        if size > largest.1 {
            largest = (path.to_string(), size);
        }
    }
    largest
}

/// Reads from `stream` until the server closes it (or resets it), for at
/// most `wait`: the bytes read, and whether it was closed.
async fn read_until_closed(stream: &mut TcpStream, wait: Duration) -> (Vec<u8>, bool) {
    let mut got = Vec::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let closed = tokio::time::timeout(wait, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await
    .is_ok();
    (got, closed)
}

/// Sends `request` on `stream` and reads until the head of the answer (and
/// whatever came with it) has arrived, for at most 5 s.
async fn answer_head(stream: &mut TcpStream, request: &[u8]) -> String {
    stream.write_all(request).await.unwrap();
    let mut got = Vec::new();
    let mut buffer = [0u8; 4096];
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    String::from_utf8_lossy(&got).into_owned()
}

/// A client that visits a page every 100 ms until `done`, each time on a new
/// connection: the slowest answer it got, and how many.
fn visitor(
    address: SocketAddr,
    done: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<(Duration, usize)> {
    tokio::spawn(async move {
        let mut slowest = Duration::ZERO;
        let mut visits = 0;
        while !done.load(Ordering::SeqCst) {
            let started = Instant::now();
            let request = b"GET /about HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
            let (reply, _) =
                exchange_async(address, request.to_vec(), Duration::from_secs(5)).await;
            let took = started.elapsed();
            assert!(
                reply.starts_with("HTTP/1.1 200"),
                "visit {visits}: {}",
                &reply[..reply.len().min(80)]
            );
            slowest = slowest.max(took);
            visits += 1;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        (slowest, visits)
    })
}

const SLOW_READERS: usize = 300;
/// Requests each slow reader pipelines: far more answers than the kernel
/// buffers of a connection hold, so the server's writes must wait.
const PIPELINED: usize = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_never_read_their_answers_are_dropped_at_the_write_deadline() {
    let app = router(shipped_site());
    let (page, size) = largest_page(&app).await;
    let limits = Limits {
        write_stall: Duration::from_secs(2),
        // Longer than the test, so only the write deadline can drop them;
        // and all from one address, so no cap per address.
        header_read: Duration::from_secs(60),
        per_address: None,
        ..Limits::default()
    };
    let (address, stop, _task) = start(app, limits).await;
    let done = Arc::new(AtomicBool::new(false));
    let visits = visitor(address, Arc::clone(&done));

    // Each slow reader offers a receive window of a few KiB, asks for the
    // largest page PIPELINED times, and reads nothing.
    let request = format!("GET {page} HTTP/1.1\r\nHost: x\r\n\r\n").repeat(PIPELINED);
    let mut readers = Vec::new();
    for _ in 0..SLOW_READERS {
        let mut reader = connect_from(HERE, address, Some(4096)).await;
        reader.write_all(request.as_bytes()).await.unwrap();
        readers.push(reader);
    }
    let all_sent = Instant::now();
    // Each has the deadline from its first write that waited (just after it
    // connected), plus a margin for a busy machine.
    tokio::time::sleep(limits.write_stall + Duration::from_millis(1_500)).await;
    let all_answers = PIPELINED * size;
    for (n, reader) in readers.iter_mut().enumerate() {
        // Dropped: what is left to read ends at once, short of the answers.
        let (got, closed) = read_until_closed(reader, Duration::from_secs(2)).await;
        assert!(
            closed && got.len() < all_answers,
            "slow reader {n} still connected {:?} after all were sent ({} of {all_answers} bytes read)",
            all_sent.elapsed(),
            got.len()
        );
    }
    done.store(true, Ordering::SeqCst);
    let (slowest, visits) = visits.await.unwrap();
    eprintln!(
        "{SLOW_READERS} slow readers of {page} ({size} bytes) all dropped {:?} after the last was sent; \
         a visitor's slowest page {slowest:?} over {visits} visits",
        all_sent.elapsed()
    );
    assert!(
        slowest < Duration::from_secs(1),
        "a normal visitor waited {slowest:?} for a page"
    );
    assert!(
        visits >= 10,
        "only {visits} visits, the slowest {slowest:?}"
    );
    let _ = stop.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_of_one_address_are_refused_while_others_are_served() {
    let limits = Limits {
        per_address: Some(3),
        ..Limits::default()
    };
    let (address, stop, _task) = start(router(shipped_site()), limits).await;
    let keep_alive = b"GET /robots.txt HTTP/1.1\r\nHost: x\r\n\r\n";
    let close = b"GET /robots.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    // Three connections from one address, each answered and kept open.
    let mut held = Vec::new();
    for n in 0..3 {
        let mut stream = connect_from(HERE, address, None).await;
        let reply = answer_head(&mut stream, keep_alive).await;
        assert!(reply.starts_with("HTTP/1.1 200"), "connection {n}: {reply}");
        held.push(stream);
    }
    // A fourth from the same address is closed unanswered, at once (the
    // reset may come before the connection is even seen as open).
    let started = Instant::now();
    if let Ok(mut fourth) = try_connect_from(HERE, address, None).await {
        let _ = fourth.write_all(close).await;
        let (got, closed) = read_until_closed(&mut fourth, Duration::from_secs(5)).await;
        assert!(
            closed && got.is_empty(),
            "served beyond the cap: {}",
            String::from_utf8_lossy(&got)
        );
    }
    assert!(started.elapsed() < Duration::from_secs(2));
    // Another address is served meanwhile.
    let mut other = connect_from(ELSEWHERE, address, None).await;
    let reply = answer_head(&mut other, close).await;
    assert!(
        reply.starts_with("HTTP/1.1 200"),
        "another address: {reply}"
    );
    // When one of the three leaves, its place is free again.
    drop(held.pop());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Ok(mut again) = try_connect_from(HERE, address, None).await
            && answer_head(&mut again, close)
                .await
                .starts_with("HTTP/1.1 200")
        {
            break;
        }
        assert!(Instant::now() < deadline, "the place was never given back");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop.send(());
}

/// The preview of a content copy, served with `limits`.
async fn preview(limits: RequestLimits) -> (ContentCopy, Arc<Reloader>, SocketAddr) {
    let copy = ContentCopy::new();
    let reloader =
        Reloader::start(copy.sources(), true, Arc::new(SystemClock)).expect("the copy builds");
    let app = live_router_with(&reloader, limits);
    let (address, stop, _task) = start(app, Limits::default()).await;
    // Served until the test ends.
    std::mem::forget(stop);
    (copy, reloader, address)
}

const EVENTS: &[u8] = b"GET /_preview/events HTTP/1.1\r\nHost: x\r\n\r\n";

/// Opens an event stream and reads up to its first event.
async fn open_stream(address: SocketAddr, request: &[u8]) -> TcpStream {
    let mut stream = connect_from(HERE, address, None).await;
    let head = answer_head(&mut stream, request).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("text/event-stream"), "{head}");
    if !head.contains("data:") {
        let mut buffer = [0u8; 1024];
        let first = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer)).await;
        assert!(matches!(first, Ok(Ok(n)) if n > 0), "no first event");
    }
    stream
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preview_event_streams_beyond_the_cap_are_answered_503() {
    let limits = RequestLimits {
        preview_streams: 2,
        ..RequestLimits::default()
    };
    let (_copy, _reloader, address) = preview(limits).await;
    let _first = open_stream(address, EVENTS).await;
    let _second = open_stream(address, EVENTS).await;
    let request = b"GET /_preview/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let (reply, held) = exchange_async(address, request.to_vec(), Duration::from_secs(5)).await;
    assert!(reply.starts_with("HTTP/1.1 503"), "{reply}");
    assert!(reply.contains("The site is busy"), "the site's page");
    assert!(held < Duration::from_secs(2), "answered at once: {held:?}");
    // Pages are still served.
    let request = b"GET /about HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let (reply, _) = exchange_async(address, request.to_vec(), Duration::from_secs(5)).await;
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preview_event_stream_without_a_build_closes_after_its_idle_time() {
    let limits = RequestLimits {
        preview_streams: 1,
        preview_idle: Duration::from_millis(700),
        ..RequestLimits::default()
    };
    let (_copy, _reloader, address) = preview(limits).await;
    let request = b"GET /_preview/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let mut stream = open_stream(address, request).await;
    let opened = Instant::now();
    let (_, closed) = read_until_closed(&mut stream, Duration::from_secs(10)).await;
    let lasted = opened.elapsed();
    assert!(closed, "the idle stream is still open after {lasted:?}");
    assert!(
        lasted >= Duration::from_millis(500) && lasted < Duration::from_secs(3),
        "it closed after {lasted:?}"
    );
    // Its place is free again: the browser's reconnection is served.
    let _again = open_stream(address, EVENTS).await;
}

/// Over raw sockets against the real binary: the therapist logs in, gives
/// the calendar a new address, and the old address answers 404.
#[test]
fn a_rotated_feed_secret_retires_the_old_feed_address() {
    use common::process::{Server, http, input_value, log_in};
    let copy = ContentCopy::new();
    let database = common::fresh_database_path();
    let server = Server::start_with_login(&copy.root().join("content"), &database, &[]);
    let port = server.port;
    let form = [("Content-Type", "application/x-www-form-urlencoded")];

    let cookie = log_in(port);
    let with_cookie = [("Cookie", cookie.as_str())];

    let feed_path = || {
        let dashboard = http(port, "GET", "/admin", &with_cookie, "").unwrap();
        assert_eq!(dashboard.status, 200);
        let document = scraper::Html::parse_document(&dashboard.body);
        let code = scraper::Selector::parse(".booking-link code").unwrap();
        let url: String = document.select(&code).next().unwrap().text().collect();
        let path = url.split_once("/admin/feed/").unwrap().1;
        (
            format!("/admin/feed/{path}"),
            input_value(&dashboard.body, "token"),
        )
    };
    let (old, csrf) = feed_path();
    assert_eq!(http(port, "GET", &old, &[], "").unwrap().status, 200);

    let headers = [form[0], with_cookie[0]];
    let rotated = http(
        port,
        "POST",
        "/admin/feed-address",
        &headers,
        &format!("token={csrf}"),
    )
    .unwrap();
    assert_eq!(rotated.status, 303);
    let (new, _) = feed_path();
    assert_ne!(new, old);
    assert_eq!(http(port, "GET", &old, &[], "").unwrap().status, 404);
    assert_eq!(http(port, "GET", &new, &[], "").unwrap().status, 200);
}
