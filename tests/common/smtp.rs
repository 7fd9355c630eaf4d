//! A small SMTP server on loopback that records what it is sent: enough of
//! RFC 5321 for lettre (greeting, EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT),
//! and, when started with a login, AUTH PLAIN (RFC 4954) that checks it.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// One message the server took.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent after DATA (headers and body), dot-unstuffed.
    pub data: String,
}

/// The `Message-ID:` header line of each message that has one.
pub fn message_ids(messages: &[Received]) -> Vec<String> {
    messages
        .iter()
        .filter_map(|m| {
            m.data
                .lines()
                .find(|l| l.to_ascii_lowercase().starts_with("message-id:"))
                .map(str::to_string)
        })
        .collect()
}

/// The running server; it stops when dropped.
pub struct SmtpServer {
    pub port: u16,
    pub received: Arc<Mutex<Vec<Received>>>,
    /// Told each time a message is recorded (see [`Self::until`]).
    pub arrived: Arc<Notify>,
    /// Where a delivery is: [`IDLE`], [`RECEIVING`] or [`RECORDED`].
    pub phase: Arc<AtomicU8>,
    task: JoinHandle<()>,
}

/// No message is being delivered.
pub const IDLE: u8 = 0;
/// A message is being delivered and not yet recorded.
pub const RECEIVING: u8 = 1;
/// A message is recorded, and the client not yet told it was taken.
pub const RECORDED: u8 = 2;

impl SmtpServer {
    /// Listens on 127.0.0.1:`port` (0 for any free port).
    pub async fn start(port: u16) -> Self {
        Self::start_slow(port, Duration::ZERO, Duration::ZERO).await
    }

    /// Like [`Self::start`], but slow to take each message: it waits
    /// `receiving` before reading the message, and `recorded` after
    /// recording it, before the "250" that tells the client it was taken.
    /// A client killed meanwhile is caught in the middle of a delivery.
    pub async fn start_slow(port: u16, receiving: Duration, recorded: Duration) -> Self {
        Self::serve(port, (receiving, recorded), None).await
    }

    /// Like [`Self::start`], but asks for a login: only `user` with
    /// `password` gets 235; any other gets 535, as a real provider answers.
    pub async fn start_with_login(user: &str, password: &str) -> Self {
        let login = Some((user.to_string(), password.to_string()));
        Self::serve(0, (Duration::ZERO, Duration::ZERO), login).await
    }

    async fn serve(
        port: u16,
        (receiving, recorded): (Duration, Duration),
        login: Option<(String, String)>,
    ) -> Self {
        let login = Arc::new(login);
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let arrived = Arc::new(Notify::new());
        let phase = Arc::new(AtomicU8::new(IDLE));
        let store = (received.clone(), arrived.clone());
        let phases = phase.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let (store, phase, login) = (store.clone(), phases.clone(), login.clone());
                tokio::spawn(async move {
                    let _ = converse(socket, store, phase, (receiving, recorded), &login).await;
                });
            }
        });
        Self {
            port,
            received,
            arrived,
            phase,
            task,
        }
    }

    /// Every message recorded so far, in the order they came.
    pub fn messages(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits until the messages recorded so far satisfy `done`, looking
    /// again each time one arrives; false if `within` passes first.
    pub async fn until(&self, within: Duration, done: impl Fn(&[Received]) -> bool) -> bool {
        let waiting = async {
            loop {
                // Listen before looking, so an arrival in between is not missed.
                let arrival = self.arrived.notified();
                if done(&self.received.lock().unwrap()) {
                    return;
                }
                arrival.await;
            }
        };
        tokio::time::timeout(within, waiting).await.is_ok()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn converse(
    socket: tokio::net::TcpStream,
    (store, arrived): (Arc<Mutex<Vec<Received>>>, Arc<Notify>),
    phase: Arc<AtomicU8>,
    (receiving, recorded): (Duration, Duration),
    login: &Option<(String, String)>,
) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    write
        .write_all(b"220 localhost test SMTP ready\r\n")
        .await?;
    let mut from = String::new();
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_string();
        let upper = command.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            let auth: &[u8] = if login.is_some() {
                b"250-AUTH PLAIN\r\n"
            } else {
                b""
            };
            write
                .write_all(b"250-localhost\r\n250-8BITMIME\r\n")
                .await?;
            write.write_all(auth).await?;
            write.write_all(b"250 SMTPUTF8\r\n").await?;
        } else if upper.starts_with("AUTH PLAIN") {
            use base64::Engine as _;
            let given = command.split_whitespace().nth(2).unwrap_or_default();
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(given)
                .unwrap_or_default();
            let expected = login
                .as_ref()
                .map(|(user, password)| format!("\0{user}\0{password}").into_bytes());
            if expected.as_deref() == Some(decoded.as_slice()) {
                write
                    .write_all(b"235 2.7.0 Authentication successful\r\n")
                    .await?;
            } else {
                write
                    .write_all(b"535 5.7.8 Authentication credentials invalid\r\n")
                    .await?;
            }
        } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
            write.write_all(b"250 OK\r\n").await?;
        } else if upper.starts_with("RSET") {
            from.clear();
            to.clear();
            write.write_all(b"250 OK\r\n").await?;
        } else if upper.starts_with("MAIL FROM:") {
            from = address(&command);
            write.write_all(b"250 OK\r\n").await?;
        } else if upper.starts_with("RCPT TO:") {
            to.push(address(&command));
            write.write_all(b"250 OK\r\n").await?;
        } else if upper == "DATA" {
            phase.store(RECEIVING, Ordering::SeqCst);
            // Kept: the slowness asked for in `start_slow` (zero otherwise).
            tokio::time::sleep(receiving).await;
            write
                .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                .await?;
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            store.lock().unwrap().push(Received {
                from: std::mem::take(&mut from),
                to: std::mem::take(&mut to),
                data,
            });
            arrived.notify_waiters();
            phase.store(RECORDED, Ordering::SeqCst);
            tokio::time::sleep(recorded).await;
            write.write_all(b"250 OK: queued\r\n").await?;
            phase.store(IDLE, Ordering::SeqCst);
        } else if upper.starts_with("QUIT") {
            write.write_all(b"221 Bye\r\n").await?;
            return Ok(());
        } else {
            write.write_all(b"502 Command not implemented\r\n").await?;
        }
    }
}

fn address(command: &str) -> String {
    let start = command.find('<').map_or(0, |i| i + 1);
    let end = command.rfind('>').unwrap_or(command.len());
    command[start..end].to_string()
}
