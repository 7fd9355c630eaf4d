//! Every file in `deploy/`, tried for real: systemd accepts the units and
//! the timer, and the Caddyfile, with a loopback domain and Caddy's own
//! certificate authority (`tls internal`) in place of Let's Encrypt, puts
//! the real server behind https: HSTS, a `Secure` admin cookie, rate limits
//! that count the reader's address and not Caddy's, and an access log with
//! no private link, feed address or query string in it.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use common::ContentCopy;
use common::process::Server;

fn deploy(file: &str) -> String {
    std::fs::read_to_string(common::repo().join("deploy").join(file)).unwrap()
}

/// A program the test drives, or a message naming its package.
fn program(name: &str, package: &str) -> Command {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "{name} is missing: install the Debian package {package} (scripts/test does)"
    );
    Command::new(name)
}

#[test]
fn systemd_accepts_the_service_the_backup_service_and_the_timer() {
    let dir = tempfile::tempdir().unwrap();
    // The units name the installed binary; point them at this build's.
    let installed = dir.path().join("current");
    std::fs::create_dir(&installed).unwrap();
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_practice-site"),
        installed.join("practice-site"),
    )
    .unwrap();
    let mut units = Vec::new();
    for unit in [
        "practice-site.service",
        "practice-site-backup.service",
        "practice-site-backup.timer",
    ] {
        let text = deploy(unit).replace("/opt/practice-site/current", installed.to_str().unwrap());
        let path = dir.path().join(unit);
        std::fs::write(&path, text).unwrap();
        units.push(path);
    }
    let out = program("systemd-analyze", "systemd")
        .arg("verify")
        .args(&units)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Unknown keys are only warnings to systemd: they must not be there either.
    assert!(out.status.success() && stderr.trim().is_empty(), "{stderr}");
    let service = deploy("practice-site.service");
    for setting in [
        "User=practice-site",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "EnvironmentFile=/etc/practice-site/env",
        "Restart=on-failure",
    ] {
        assert!(service.contains(setting), "{setting} is missing");
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Caddy on `https_port`, run from deploy/'s Caddyfile with the domain and
/// the upstream put in, Caddy's own CA for the certificate, its files in
/// `home`; killed when dropped.
struct Caddy {
    child: Child,
    home: PathBuf,
    log: PathBuf,
    https_port: u16,
}

impl Caddy {
    fn start(home: &Path, upstream: u16) -> Self {
        let (https_port, http_port) = (free_port(), free_port());
        let log = home.join("access.log");
        let site = deploy("Caddyfile")
            .replace(
                "{$SITE_DOMAIN} {",
                &format!("https://localhost:{https_port} {{\n\ttls internal"),
            )
            .replace("127.0.0.1:3000", &format!("127.0.0.1:{upstream}"))
            .replace("/var/log/caddy/practice-site.log", log.to_str().unwrap());
        let config = format!(
            "{{\n\tadmin off\n\tskip_install_trust\n\thttp_port {http_port}\n\thttps_port {https_port}\n}}\n{site}"
        );
        let file = home.join("Caddyfile");
        std::fs::write(&file, config).unwrap();
        let child = program("caddy", "caddy")
            .args(["run", "--adapter", "caddyfile", "--config"])
            .arg(&file)
            .env("HOME", home)
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let caddy = Self {
            child,
            home: home.to_path_buf(),
            log,
            https_port,
        };
        common::eventually(Duration::from_secs(30), Duration::from_millis(100), || {
            let reply = caddy.curl("127.0.0.1", &["/robots.txt"]);
            reply.status.success().then_some(())
        })
        .expect("Caddy answers over https");
        caddy
    }

    /// `curl` over https from the loopback address `from`, checking the
    /// certificate against Caddy's own CA; `-i` so the headers come back.
    fn curl(&self, from: &str, args: &[&str]) -> Output {
        let root = self.home.join("data/caddy/pki/authorities/local/root.crt");
        let mut command = program("curl", "curl");
        command.args([
            "-sS",
            "-i",
            "--max-time",
            "10",
            "--interface",
            from,
            "--cacert",
        ]);
        command.arg(&root);
        let (path, rest) = args.split_first().unwrap();
        command.arg(format!("https://localhost:{}{path}", self.https_port));
        command.args(rest);
        command.output().unwrap()
    }
}

impl Drop for Caddy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn status(reply: &Output) -> u16 {
    let text = String::from_utf8_lossy(&reply.stdout);
    text.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

fn header<'a>(reply: &'a str, name: &str) -> Option<&'a str> {
    reply
        .lines()
        .take_while(|line| !line.trim().is_empty())
        .find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
}

#[test]
fn caddy_serves_the_site_over_https_and_logs_no_secret() {
    let copy = ContentCopy::new();
    let database = common::fresh_database_path();
    let server = Server::start_with_login(
        &copy.root().join("content"),
        &database,
        &[("TRUST_PROXY", "1".into())],
    );
    let home = tempfile::tempdir().unwrap();
    let caddy = Caddy::start(home.path(), server.port);

    // Pages over https, with HSTS.
    let home_page = caddy.curl("127.0.0.1", &["/?utm_source=privatequery"]);
    let text = String::from_utf8_lossy(&home_page.stdout).to_string();
    assert_eq!(status(&home_page), 200, "{text}");
    assert!(
        header(&text, "strict-transport-security").is_some_and(|v| v.contains("max-age=")),
        "{text}"
    );

    // The admin cookie is Secure.
    let login = caddy.curl("127.0.0.1", &["/admin/login"]);
    let login = String::from_utf8_lossy(&login.stdout).to_string();
    let token = common::process::input_value(&login[login.find("\r\n\r\n").unwrap()..], "token");
    let body = format!(
        "password={}&token={token}",
        common::ADMIN_PASSWORD.replace(' ', "+")
    );
    let logged_in = caddy.curl("127.0.0.1", &["/admin/login", "--data", &body]);
    let logged_in = String::from_utf8_lossy(&logged_in.stdout).to_string();
    let cookie = header(&logged_in, "set-cookie").expect("a session cookie");
    assert!(cookie.contains("Secure"), "{cookie}");

    // Rate limits count the reader (127.0.0.2), not Caddy (127.0.0.1).
    let post = |from: &str| {
        status(&caddy.curl(from, &["/consultation", "--data", "token=not-a-real-token"]))
    };
    for attempt in 1..=10 {
        assert_ne!(post("127.0.0.2"), 429, "attempt {attempt}");
    }
    assert_eq!(post("127.0.0.2"), 429);
    assert_ne!(post("127.0.0.3"), 429, "another reader is not limited");

    // Private links, the feed's address and query strings stay out of the log.
    caddy.curl("127.0.0.1", &["/booking/PRIVATELINKTOKEN/cancel"]);
    caddy.curl("127.0.0.1", &["/admin/feed/FEEDSECRET.ics"]);
    let log = common::eventually(Duration::from_secs(5), Duration::from_millis(50), || {
        std::fs::read_to_string(&caddy.log)
            .ok()
            .filter(|log| log.contains("/admin/login"))
    })
    .expect("Caddy logs requests");
    for secret in [
        "PRIVATELINKTOKEN",
        "FEEDSECRET",
        "privatequery",
        "admin_session",
    ] {
        assert!(!log.contains(secret), "{secret} in Caddy's log:\n{log}");
    }
}
