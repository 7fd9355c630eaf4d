//! Shared helpers: the real router over the shipped content (or a copy of it),
//! driven in-process without opening a socket ([`send`] and its wrappers), and
//! waiting on things that give no event ([`eventually`]).

#![allow(dead_code)]

/// A booking-ready app with a test clock: forms, logins, the outbox.
pub mod booking_app;
/// The database of a test's bookings: SQLite, or PostgreSQL in a cluster
/// of the test's own.
pub mod database;
/// The editor's forms, as a browser sends them.
pub mod editor;
/// nginx on a loopback port, over an export or in front of servers.
pub mod nginx;
/// The real binary on a port, and a plain HTTP client for it.
pub mod process;
/// A mail server on loopback that records what it is sent.
pub mod smtp;
/// The real server on a loopback port, and raw sockets to talk to it.
pub mod sockets;

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::response::Response;
use http_body_util::BodyExt;
use practice_site::booking::Booking;
use practice_site::booking::settings::Secrets;
use practice_site::booking::store::SqlStore;
use practice_site::clock::{Clock, SystemClock};
use practice_site::site::{Site, Sources};
use practice_site::{AppState, app};
use tower::{Service, ServiceExt};

/// The repository's root (where `content/` and `static/` are).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Where the shipped site's content, settings and static files are.
pub fn shipped_sources() -> Sources {
    sources_in(&repo())
}

/// The sources of a content copy under `root` (static files stay shared).
pub fn sources_in(root: &Path) -> Sources {
    Sources {
        config: root.join("content/site.toml"),
        content: root.join("content"),
        static_dir: repo().join("static"),
    }
}

/// The shipped site, built; it must build without problems.
pub fn shipped_site() -> Site {
    Site::load(&shipped_sources())
        .unwrap_or_else(|err| panic!("shipped content must build:\n{err}"))
}

/// How many articles the shipped content publishes (tests that add
/// generated ones count on them).
pub fn shipped_articles() -> usize {
    shipped_site()
        .page_paths()
        .into_iter()
        .filter(|path| path.starts_with("/blog/") && !path.starts_with("/blog/page/"))
        .count()
}

/// The real router over `site`, with booking backed by a fresh, migrated
/// SQLite file. Synchronous, so tests that only read pages stay simple.
pub fn router(site: Site) -> Router {
    let booking = test_booking(site.config().expect("a built site has its settings"));
    app(AppState::new(site, booking))
}

/// The real router over the site a reloader keeps current.
pub fn live_router(reloader: &practice_site::live::Reloader) -> Router {
    live_router_with(reloader, practice_site::RequestLimits::default())
}

/// [`live_router`] with other limits.
pub fn live_router_with(
    reloader: &practice_site::live::Reloader,
    limits: practice_site::RequestLimits,
) -> Router {
    let config = reloader.site().current().config().cloned();
    let config = config.unwrap_or_else(|| {
        practice_site::config::SiteConfig::load(&reloader.sources().config).unwrap()
    });
    let state = AppState::live(reloader, test_booking(&config));
    practice_site::app_with_limits(state, Router::new(), limits)
}

/// Booking backed by a fresh, migrated database (see [`database`]), with
/// mail off.
pub fn test_booking(config: &practice_site::config::SiteConfig) -> Arc<Booking> {
    let database = database::fresh_database();
    // Migrate on a runtime of its own (this may be called inside a test's
    // runtime, which cannot block); the app then opens the database lazily.
    let migrate = database.clone();
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async { SqlStore::open(&migrate).await.unwrap().close().await })
    })
    .join()
    .unwrap();
    let store = SqlStore::open_lazy(&database).unwrap();
    Arc::new(booking_for(
        config,
        store,
        Arc::new(SystemClock),
        &test_secrets(),
    ))
}

/// A new database file name in a folder that lives as long as the test binary.
pub fn fresh_database_path() -> PathBuf {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let dir = DIR.get_or_init(|| tempfile::tempdir().unwrap());
    dir.path()
        .join(format!("test-{}.db", COUNT.fetch_add(1, Ordering::SeqCst)))
}

/// The admin password every test app accepts.
pub const ADMIN_PASSWORD: &str = "correct horse battery staple";

/// Secrets as a deployment would set them, minus SMTP (mail is off).
pub fn test_secrets() -> Secrets {
    static HASH: OnceLock<String> = OnceLock::new();
    let hash =
        HASH.get_or_init(|| practice_site::booking::admin::hash_password(ADMIN_PASSWORD).unwrap());
    Secrets {
        admin_password_hash: Some(hash.clone()),
        ..Secrets::default()
    }
}

/// Booking over `store` with `clock` and `secrets`, and a fixed signing key.
pub fn booking_for(
    config: &practice_site::config::SiteConfig,
    store: SqlStore,
    clock: Arc<dyn Clock>,
    secrets: &Secrets,
) -> Booking {
    Booking::new(
        config,
        Arc::new(store),
        clock,
        secrets,
        b"a test signing key of enough length",
    )
    .unwrap()
}

/// One whole answer, as a test reads it.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The body exactly as sent (still compressed, when it was).
    pub bytes: Vec<u8>,
    /// The body as text (lossy), for answers that are text.
    pub body: String,
}

/// Sends one request through `app` in-process (no socket) and collects the
/// whole answer: the one way every in-process test sends a request.
/// `app` is the router, or any service that answers as one does
/// (`PreparedFirst`).
pub async fn send<S>(app: &S, request: Request<Body>) -> Reply
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone,
{
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        bytes: bytes.to_vec(),
    }
}

/// A bodiless request, `method path` with `headers`, as [`send`] takes it.
pub fn bare(method: Method, path: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut request = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(Body::empty()).unwrap()
}

/// `method path`, with no headers and no body.
pub async fn request(app: &Router, method: Method, path: &str) -> Reply {
    send(app, bare(method, path, &[])).await
}

/// `GET path`, with no headers.
pub async fn get(app: &Router, path: &str) -> Reply {
    get_with(app, path, &[]).await
}

/// `GET path` with `headers` (an `Accept-Encoding`, an `If-None-Match`...).
pub async fn get_with(app: &Router, path: &str, headers: &[(&str, &str)]) -> Reply {
    send(app, bare(Method::GET, path, headers)).await
}

/// Checks `ready` every `every` until it gives a value, and returns that
/// value; `None` once `within` has passed. For waiting on something that
/// has no event to wait on (a process that starts or ends, a port that
/// opens or closes, a file that appears) and is cheap to check.
pub fn eventually<T>(
    within: Duration,
    every: Duration,
    mut ready: impl FnMut() -> Option<T>,
) -> Option<T> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = ready() {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(every);
    }
}

/// A copy of the shipped content in a temporary folder, to break on purpose.
pub struct ContentCopy {
    pub dir: tempfile::TempDir,
}

impl ContentCopy {
    /// A fresh copy of `content/`.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&repo().join("content"), &dir.path().join("content"));
        Self { dir }
    }

    /// The folder that holds the copy's `content/`.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Where `relative` (to `content/`) is in the copy.
    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join("content").join(relative)
    }

    /// One file of the copy, as text.
    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path(relative)).unwrap()
    }

    /// Writes one file of the copy, making its folder if needed.
    pub fn write(&self, relative: &str, text: &str) {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// Replaces `from` (which must occur) with `to` in one file.
    pub fn edit(&self, relative: &str, from: &str, to: &str) {
        let text = self.read(relative);
        assert!(text.contains(from), "{relative} does not contain {from:?}");
        self.write(relative, &text.replacen(from, to, 1));
    }

    /// The 1-based line of the first line containing `needle`.
    pub fn line_of(&self, relative: &str, needle: &str) -> usize {
        self.read(relative)
            .lines()
            .position(|line| line.contains(needle))
            .unwrap_or_else(|| panic!("{relative} has no line with {needle:?}"))
            + 1
    }

    /// Makes the copy's folder a git repository with `content/` committed.
    pub fn in_a_git_repository(&self) {
        git(self.root(), &["init", "--quiet"]);
        git(self.root(), &["add", "content"]);
        git(self.root(), &["commit", "--quiet", "-m", "The site"]);
    }

    /// The copy's sources, to build or watch.
    pub fn sources(&self) -> Sources {
        sources_in(self.root())
    }

    /// A copy whose `site.toml` has real-looking facts instead of samples.
    pub fn with_real_facts() -> Self {
        let copy = Self::new();
        let settings = copy.read("site.toml");
        copy.write("site.toml", &practice_site::config::filled_in(&settings));
        copy
    }

    /// A copy as a real practice would have it before launch: every sample
    /// fact in `site.toml` replaced, and every page reviewed today (as the
    /// therapist and her prescriber would mark them once approved).
    pub fn filled_in() -> Self {
        let copy = Self::with_real_facts();
        let today = chrono::Utc::now().date_naive();
        for folder in ["blog", "pages"] {
            for entry in std::fs::read_dir(copy.path(folder)).unwrap() {
                let path = entry.unwrap().path();
                let text = std::fs::read_to_string(&path).unwrap();
                let reviewed = text.replacen("---\n", &format!("---\nreviewed: {today}\n"), 1);
                std::fs::write(&path, reviewed).unwrap();
            }
        }
        copy
    }
}

/// Copies a folder and everything in it.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Runs the real binary on a copy of the content: (succeeded, stdout, stderr).
pub fn run_cli(copy: &ContentCopy, args: &[&str]) -> (bool, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_practice-site"))
        .args(args)
        .arg("--content")
        .arg(copy.root().join("content"))
        .arg("--config")
        .arg(copy.path("site.toml"))
        .arg("--static")
        .arg(repo().join("static"))
        .env("PORT", "0")
        .env_remove("RUST_LOG")
        // The launch check reads these; a developer's own must not leak in.
        .env_remove("ADMIN_PASSWORD_HASH")
        .env_remove("THERAPIST_EMAIL")
        .env_remove("SMTP_URL")
        .env_remove("SMTP_HOST")
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The one script a page may load: the site's own, beside the times a
/// booking page offers, which writes the visitor's local time (nothing is
/// fetched, stored or sent). Every other script element is JSON-LD data.
pub fn is_the_local_time_script(src: &str) -> bool {
    src.starts_with("/static/js/local-time.") && src.ends_with(".js")
}

/// Runs git in `dir` as a test author, and its output.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = std::process::Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args(args)
        .output()
        .unwrap();
    assert!(output.status.success(), "git {args:?}: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}
