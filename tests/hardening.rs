//! Surviving faults and hostile clients: a panicking handler, a slow client,
//! path tricks against static files, a stop with requests in flight, and
//! start-up failures that end with one plain sentence.

mod common;

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::symlink;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get as route_get;
use common::{ContentCopy, get, router, shipped_site, test_booking};
use practice_site::server::{self, Limits};
use practice_site::site::{Site, Sources};
use practice_site::{AppState, app_with};
use tokio::sync::oneshot;

#[tokio::test]
async fn a_panicking_handler_answers_the_500_page_and_the_server_lives_on() {
    let site = shipped_site();
    let booking = test_booking(site.config().unwrap());
    async fn boom() -> &'static str {
        panic!("a bug")
    }
    let extra = Router::new().route("/boom", route_get(boom));
    let app = app_with(AppState::new(site, booking), extra);
    let reply = get(&app, "/boom").await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(reply.body.contains("Something went wrong on our side"));
    assert!(!reply.body.contains("a bug"), "no internal detail is shown");
    assert!(reply.body.contains("988"));
    assert_eq!(get(&app, "/").await.status, StatusCode::OK);
}

#[tokio::test]
async fn static_files_cannot_be_reached_by_path_tricks() {
    let app = router(shipped_site());
    for path in [
        "/static/../Cargo.toml",
        "/static/%2e%2e/Cargo.toml",
        "/static/%2e%2e%2fCargo.toml",
        "/static/..%2f..%2fCargo.toml",
        "/static/..%5cCargo.toml",
        "/static/css/..\\..\\Cargo.toml",
        "/static//etc/passwd",
        "/static/%2fetc%2fpasswd",
        "/static/css/",
        "/static/css",
        "/static/",
    ] {
        let reply = get(&app, path).await;
        assert!(
            reply.status == StatusCode::NOT_FOUND || reply.status == StatusCode::BAD_REQUEST,
            "{path}: {}",
            reply.status
        );
        assert!(
            !reply.body.contains("[package]") && !reply.body.contains("root:"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn symlinks_out_of_static_are_never_served() {
    let copy = ContentCopy::new();
    let static_dir = copy.root().join("static");
    std::fs::create_dir_all(&static_dir).unwrap();
    for entry in ["css", "images"] {
        let from = common::repo().join("static").join(entry);
        let to = static_dir.join(entry);
        std::fs::create_dir_all(&to).unwrap();
        for file in std::fs::read_dir(from).unwrap() {
            let file = file.unwrap();
            std::fs::copy(file.path(), to.join(file.file_name())).unwrap();
        }
    }
    std::fs::copy(
        common::repo().join("static/favicon.svg"),
        static_dir.join("favicon.svg"),
    )
    .unwrap();
    symlink(
        common::repo().join("Cargo.toml"),
        static_dir.join("secret.txt"),
    )
    .unwrap();
    symlink("/etc", static_dir.join("etc")).unwrap();
    let sources = Sources {
        static_dir,
        ..copy.sources()
    };
    let app = router(Site::load(&sources).unwrap());
    for path in [
        "/static/secret.txt",
        "/static/etc/passwd",
        "/static/etc/hostname",
    ] {
        assert_eq!(
            get(&app, path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}

async fn start(
    app: Router,
    limits: Limits,
) -> (SocketAddr, oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(server::serve(listener, app, limits, async {
        let _ = stopped.await;
    }));
    (address, stop, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_too_slow_to_send_its_headers_is_cut_off() {
    let limits = Limits {
        header_read: Duration::from_millis(500),
        ..Limits::default()
    };
    let (address, stop, _task) = start(router(shipped_site()), limits).await;
    let closed = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        // Half a request, then silence, as a slow-loris client does.
        stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
        let started = Instant::now();
        let mut buffer = [0u8; 1024];
        let _ = stream.read(&mut buffer);
        started.elapsed()
    })
    .await
    .unwrap();
    assert!(
        closed < Duration::from_secs(3),
        "the connection was held {closed:?}"
    );
    // Other clients are served meanwhile and after.
    let reply = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(address).unwrap();
        stream
            .write_all(b"GET /about HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).unwrap();
        text
    })
    .await
    .unwrap();
    assert!(
        reply.starts_with("HTTP/1.1 200"),
        "{}",
        &reply[..40.min(reply.len())]
    );
    let _ = stop.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_lets_requests_in_flight_finish_then_refuses_new_ones() {
    let site = shipped_site();
    let booking = test_booking(site.config().unwrap());
    let extra = Router::new().route(
        "/slow",
        route_get(|| async {
            tokio::time::sleep(Duration::from_millis(600)).await;
            "done"
        }),
    );
    let (address, stop, task) = start(
        app_with(AppState::new(site, booking), extra),
        Limits::default(),
    )
    .await;
    let in_flight = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(address).unwrap();
        stream
            .write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).unwrap();
        text
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    stop.send(()).unwrap();
    let reply = in_flight.await.unwrap();
    assert!(
        reply.starts_with("HTTP/1.1 200") && reply.ends_with("done"),
        "{reply}"
    );
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
    assert!(TcpStream::connect(address).is_err(), "no longer accepting");
}

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_practice-site"));
    command
        .current_dir(common::repo())
        .env_remove("RUST_LOG")
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null());
    command
}

#[test]
fn start_up_failures_end_with_one_plain_sentence() {
    // The port is taken.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let db = tempfile::tempdir().unwrap();
    let output = binary()
        .args(["--port", &port, "--database"])
        .arg(db.path().join("a.db"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains(&format!(
            "port {port} is already in use; stop the other program or choose another port"
        )),
        "{stderr}"
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "{stderr}"
    );

    // The database cannot be written.
    let output = binary()
        .args([
            "--port",
            "0",
            "--database",
            "/proc/no-such-folder/practice.db",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("cannot open the database /proc/no-such-folder/practice.db"),
        "{stderr}"
    );
    assert!(
        stderr.contains("check that its folder exists and is writable"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");

    // The settings are invalid.
    let copy = ContentCopy::new();
    copy.edit("site.toml", "minutes = 15", "minutes = \"fifteen\"");
    let output = binary()
        .args(["--port", "0", "--config"])
        .arg(copy.path("site.toml"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    let line = copy.line_of("site.toml", "minutes = \"fifteen\"");
    assert!(stderr.contains(&format!("site.toml:{line}: ")), "{stderr}");
    assert!(stderr.contains("The site was not started."), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[tokio::test]
async fn unreadable_forms_are_refused_whole_with_a_plain_message() {
    use axum::body::Body;
    use axum::extract::ConnectInfo;
    use axum::http::{Method, Request, header};
    use common::booking_app::{JANE, TestApp, filled};

    let app = TestApp::new().await;
    let (token, slots) = app.open_form().await;
    app.clock.advance(chrono::Duration::seconds(20));
    let good = serde_urlencoded::to_string(filled(&JANE, &slots[0], &token)).unwrap();
    let bodies: Vec<(Vec<u8>, StatusCode, &str)> = vec![
        // Invalid UTF-8 in the name: the form comes back, the field marked.
        (
            good.replace("name=Jane", "name=%FF%FEJane").into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "characters that could not be read",
        ),
        // The same field twice (which time did the client mean?).
        (
            format!("{good}&slot={}", slots[1]).into_bytes(),
            StatusCode::BAD_REQUEST,
            "The form could not be read",
        ),
        // Raw bytes that are not UTF-8 at all.
        (
            [good.as_bytes(), b"&note=\xff\xfe"].concat(),
            StatusCode::BAD_REQUEST,
            "The form could not be read",
        ),
    ];
    for (body, status, says) in bodies {
        let mut request = Request::builder()
            .method(Method::POST)
            .uri("/consultation")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40_000))));
        let reply = app.send(request).await;
        assert_eq!(reply.status, status);
        assert!(reply.body.contains(says), "{says}");
    }
    // Nothing was stored half-way: every time is still open.
    let (_, still_open) = app.open_form().await;
    assert_eq!(still_open, slots);
}
