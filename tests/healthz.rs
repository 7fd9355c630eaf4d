//! What an operator reads: `GET /healthz` on the real server (200 with the
//! build, the database and the mail queue; "degraded" while an edit fails
//! to build and the last good site serves; 503 while the database file
//! cannot be written), and `--version`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::ContentCopy;
use common::process::{Server, http};

fn health(port: u16) -> (u16, serde_json::Value) {
    let reply = http(port, "GET", "/healthz", &[], "").expect("the server answers");
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    (reply.status, serde_json::from_str(&reply.body).unwrap())
}

/// Makes a file unwritable, even for root (`chattr +i`), until dropped.
struct Unwritable(PathBuf);

impl Unwritable {
    fn new(path: &Path) -> Self {
        let set = Command::new("chattr").arg("+i").arg(path).status();
        if !set.is_ok_and(|s| s.success()) {
            // Not root, or no chattr: the file's mode is enough then.
            assert!(
                !is_root(),
                "chattr +i failed; as root, only it makes a file unwritable"
            );
            let mut mode = std::fs::metadata(path).unwrap().permissions();
            mode.set_readonly(true);
            std::fs::set_permissions(path, mode).unwrap();
        }
        Self(path.to_path_buf())
    }
}

impl Drop for Unwritable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
        use std::os::unix::fs::PermissionsExt as _;
        let _ = std::fs::set_permissions(&self.0, std::fs::Permissions::from_mode(0o600));
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

#[test]
fn health_reports_the_build_the_database_and_the_mail_and_fails_when_the_database_cannot_be_written()
 {
    let copy = ContentCopy::new();
    let database = common::fresh_database_path();
    let server = Server::start(&copy.root().join("content"), &database, &[]);
    let port = server.port;

    let (status, body) = health(port);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"]["writable"], true);
    assert_eq!(body["site"]["generation"], 1);
    assert!(body["site"]["built_at"].as_str().unwrap().starts_with("20"));
    assert_eq!(body["outbox"]["waiting"], 0);
    assert!(body["outbox"]["oldest_waiting_seconds"].is_null());
    // Nothing else: no name, address or setting.
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["calendars", "database", "outbox", "site", "status"]);
    assert_eq!(body["calendars"], serde_json::json!([]), "none is set");

    // An edit that does not build: the last good site serves, and says so.
    copy.edit(
        "blog/ketamine-assisted-psychotherapy-guide.md",
        "title:",
        "title: [unclosed",
    );
    let degraded = common::eventually(Duration::from_secs(10), Duration::from_millis(50), || {
        let (status, body) = health(port);
        (body["status"] == "degraded").then_some((status, body))
    })
    .expect("the failed build shows in /healthz");
    assert_eq!(degraded.0, 200);
    assert_eq!(degraded.1["site"]["latest_build_failed"], true);
    assert_eq!(
        http(
            port,
            "GET",
            "/blog/ketamine-assisted-psychotherapy-guide",
            &[],
            ""
        )
        .unwrap()
        .status,
        200
    );

    // The database file made unwritable: 503, and back to 200 after.
    {
        let _locked = Unwritable::new(&database);
        let (status, body) = health(port);
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["status"], "unavailable");
        assert_eq!(body["database"]["writable"], false);
    }
    let (status, body) = health(port);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["database"]["writable"], true);
}

#[test]
fn the_version_names_the_release_and_the_commit() {
    let out = Command::new(env!("CARGO_BIN_EXE_practice-site"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let expected = format!("practice-site {} (commit ", env!("CARGO_PKG_VERSION"));
    assert!(text.starts_with(&expected), "{text}");
    let commit = text
        .trim_end()
        .trim_start_matches(&expected)
        .trim_end_matches(')');
    assert!(
        commit == "unknown"
            || (commit.len() == 12 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "{text}"
    );
}

/// A restart that meets a typo serves the last good version; only a first
/// install, with no good version yet, refuses to start.
#[test]
fn a_restart_on_a_broken_file_serves_the_last_good_site_and_a_first_start_refuses() {
    use common::process::serve_command;
    const GUIDE: &str = "blog/ketamine-assisted-psychotherapy-guide.md";
    let copy = ContentCopy::new();
    let content = copy.root().join("content");
    let database = common::fresh_database_path();
    let kept = practice_site::last_good::LastGood::beside(&database);

    // A good start keeps a copy; then a typo, and a restart.
    let mut server = Server::start(&content, &database, &[]);
    assert!(kept.dir().join("content").join(GUIDE).is_file());
    server.kill();
    copy.edit(GUIDE, "title:", "title: [unclosed");
    let server = Server::start_with_login(&content, &database, &[]);
    let port = server.port;
    for path in [
        "/",
        "/blog/ketamine-assisted-psychotherapy-guide",
        "/consultation",
    ] {
        assert_eq!(
            http(port, "GET", path, &[], "").unwrap().status,
            200,
            "{path}"
        );
    }
    let (status, body) = health(port);
    assert_eq!(
        (status, &body["status"]),
        (200, &"degraded".into()),
        "{body}"
    );
    // The dashboard says so.
    let cookie = common::process::log_in(port);
    let dashboard = http(port, "GET", "/admin", &[("Cookie", &cookie)], "").unwrap();
    assert!(
        dashboard
            .body
            .contains("The site's files have 1 problem</strong>"),
        "{}",
        dashboard.body
    );
    // The broken copy never replaced the good one.
    assert!(
        !std::fs::read_to_string(kept.dir().join("content").join(GUIDE))
            .unwrap()
            .contains("[unclosed")
    );

    // Fixed: the next build serves it and the site is healthy again.
    copy.edit(GUIDE, "title: [unclosed", "title:");
    common::eventually(Duration::from_secs(10), Duration::from_millis(50), || {
        (health(port).1["status"] == "ok").then_some(())
    })
    .expect("the fix is served");
    drop(server);

    // A first start on broken content: no good version to fall back on.
    let fresh = common::fresh_database_path();
    copy.edit(GUIDE, "title:", "title: [unclosed");
    let out = serve_command(&content, &fresh, 1).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains(&format!("{GUIDE}:2:")), "{stderr}");
    assert!(stderr.contains("The site was not started."), "{stderr}");
}

/// The server itself keeps the record of published addresses: an article
/// added while it runs is recorded without anyone running `check`.
#[test]
fn the_server_records_every_address_it_publishes() {
    let copy = ContentCopy::new();
    let content = copy.root().join("content");
    let record = content.join(practice_site::content::record::FILE_NAME);
    let _ = std::fs::remove_file(&record);
    let database = common::fresh_database_path();
    let _server = Server::start(&content, &database, &[]);
    let recorded = std::fs::read_to_string(&record).expect("recorded at start");
    assert!(recorded.contains("\n/blog/ketamine-assisted-psychotherapy-guide\n"));

    let article = copy.read("blog/ketamine-assisted-psychotherapy-guide.md");
    copy.write("blog/a-second-guide.md", &article);
    common::eventually(Duration::from_secs(10), Duration::from_millis(50), || {
        std::fs::read_to_string(&record)
            .ok()
            .filter(|text| text.contains("\n/blog/a-second-guide\n"))
    })
    .expect("the new address is recorded");
}
