//! The real server binary on a loopback port, and a plain HTTP/1.1 client
//! for it: for tests that kill, restart or load the process itself.

use std::ffi::OsStr;
use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// `practice-site serve` on `port`, over the content folder `content` (its
/// `site.toml` inside) and the repository's static files.
pub fn serve_command(content: &Path, database: impl AsRef<OsStr>, port: u16) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_practice-site"));
    command
        .args(["serve", "--port", &port.to_string(), "--content"])
        .arg(content)
        .arg("--config")
        .arg(content.join("site.toml"))
        .arg("--static")
        .arg(super::repo().join("static"))
        .arg("--database")
        .arg(database)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null());
    // Its own working directory: with PostgreSQL the last good copy of the
    // site is kept there, beside the content.
    if let Some(root) = content.parent() {
        command.current_dir(root);
    }
    command
}

/// The running binary; killed when dropped.
pub struct Server {
    pub child: Child,
    pub port: u16,
}

impl Server {
    /// Starts `practice-site serve` on a free port and waits until it answers.
    pub fn start(content: &Path, database: impl AsRef<OsStr>, env: &[(&str, String)]) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut command = serve_command(content, database, port);
        command.stdout(Stdio::null()).stderr(Stdio::inherit());
        for (name, value) in env {
            command.env(name, value);
        }
        let child = command.spawn().unwrap();
        let mut server = Self { child, port };
        // It answers once it is listening; no earlier sign comes from outside.
        // A server that exits (its error is on stderr) is not waited for.
        super::eventually(Duration::from_secs(30), Duration::from_millis(50), || {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("the server exited at start ({status})");
            }
            http(port, "GET", "/robots.txt", &[], "")
        })
        .expect("the server did not start");
        server
    }

    /// [`Server::start`] with the therapist's login on (the test password,
    /// for [`log_in`]) besides `env`.
    pub fn start_with_login(
        content: &Path,
        database: impl AsRef<OsStr>,
        env: &[(&str, String)],
    ) -> Self {
        let hash = super::test_secrets().admin_password_hash.unwrap();
        let mut env = env.to_vec();
        env.push(("ADMIN_PASSWORD_HASH", hash));
        Self::start(content, database, &env)
    }

    /// Kills the process without warning, as a power cut would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One answer read off the wire by [`http`].
pub struct HttpReply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The body as sent (an image's bytes).
    pub bytes: Vec<u8>,
}

impl HttpReply {
    /// The first header called `name` (in any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One request on its own connection; `None` if the server is not there.
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Option<HttpReply> {
    http_bytes(port, method, path, headers, body.as_bytes())
}

/// [`http`] with a body of any bytes (an upload). A server that answers
/// before it has read the whole body (413) may close the connection while
/// it is being sent; the answer is read all the same.
pub fn http_bytes(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Option<HttpReply> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    let mut sent = request.into_bytes();
    sent.extend_from_slice(body);
    let _ = stream.write_all(&sent);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.lines();
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let bytes = raw[split + 4..].to_vec();
    Some(HttpReply {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        bytes,
    })
}

/// The settings of a copy of the content, opened up so many bookings fit:
/// every day from 08:00 to 20:00, no buffer, no daily maximum to speak of.
pub fn open_many_slots(copy: &super::ContentCopy) {
    let text = copy.read("site.toml");
    let start = text.find("[booking.hours]").unwrap();
    let end = text[start..].find("\n\n").map_or(text.len(), |i| start + i);
    let days: String = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]
    .iter()
    .map(|day| format!("{day} = [\"08:00-20:00\"]\n"))
    .collect();
    let text = format!(
        "{}[booking.hours]\n{}{}",
        &text[..start],
        days,
        &text[end..]
    );
    let text = text
        .replace("buffer_minutes = 15", "buffer_minutes = 0")
        .replace("daily_maximum = 4", "daily_maximum = 48")
        .replace(
            "blocked_dates = [\"2026-12-24\", \"2026-12-25\", \"2026-12-31\", \"2027-01-01\"]",
            "blocked_dates = []",
        );
    copy.write("site.toml", &text);
}

/// The value of the first input called `name` in a page.
pub fn input_value(html: &str, name: &str) -> String {
    let document = scraper::Html::parse_document(html);
    let selector = scraper::Selector::parse(&format!("input[name={name}]")).unwrap();
    let input = document.select(&selector).next().expect("the input");
    input.value().attr("value").unwrap().to_string()
}

/// Logs in to the dashboard of a server started with
/// `ADMIN_PASSWORD_HASH` of [`super::ADMIN_PASSWORD`]; the session cookie.
pub fn log_in(port: u16) -> String {
    let login_page = http(port, "GET", "/admin/login", &[], "").unwrap();
    let body = format!(
        "password={}&token={}",
        super::ADMIN_PASSWORD.replace(' ', "+"),
        input_value(&login_page.body, "token")
    );
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let logged_in = http(port, "POST", "/admin/login", &form, &body).unwrap();
    assert_eq!(logged_in.status, 303, "{}", logged_in.body);
    let cookie = logged_in.header("set-cookie").unwrap();
    cookie.split(';').next().unwrap().to_string()
}

/// Sends the booking form as a client at `from` (these servers trust
/// X-Forwarded-For, so each client has its own address for the limits).
pub fn post_booking(
    port: u16,
    from: &str,
    (token, slot): (&str, &str),
    (name, email): (&str, &str),
) -> Option<HttpReply> {
    let body = serde_urlencoded::to_string([
        ("token", token),
        ("slot", slot),
        ("name", name),
        ("email", email),
        ("phone", ""),
        ("contact", "email"),
        ("topic", "not-sure"),
        ("note", ""),
        ("consent", "yes"),
        ("website", ""),
    ])
    .unwrap();
    let headers = [
        ("X-Forwarded-For", from),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];
    http(port, "POST", "/consultation", &headers, &body)
}
