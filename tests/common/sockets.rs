//! The real server on a loopback port, and raw sockets to talk to it: for
//! the limits that only show over a real connection.

use std::io::{Read as _, Write as _};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use axum::Router;
use practice_site::server::{self, Limits};
use tokio::sync::oneshot;

/// Serves `app` with `limits` on a free loopback port: its address, the
/// sender that stops it, and its task.
pub async fn start(
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

/// Sends `bytes` on a new connection, then reads until the server closes it
/// or `wait` passes: what came back, and how long the connection stayed open.
pub fn exchange(address: SocketAddr, bytes: &[u8], wait: Duration) -> (String, Duration) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(wait)).unwrap();
    stream.write_all(bytes).unwrap();
    let started = Instant::now();
    let mut raw = Vec::new();
    // A read that times out keeps what arrived before it.
    let _ = stream.read_to_end(&mut raw);
    (
        String::from_utf8_lossy(&raw).into_owned(),
        started.elapsed(),
    )
}

/// [`exchange`] off the runtime the server runs on.
pub async fn exchange_async(
    address: SocketAddr,
    bytes: Vec<u8>,
    wait: Duration,
) -> (String, Duration) {
    tokio::task::spawn_blocking(move || exchange(address, &bytes, wait))
        .await
        .unwrap()
}

/// A connection to `address` from the loopback address `from` (any of
/// 127.0.0.0/8, so a test can be several clients), with the kernel's
/// receive buffer set to `receive_buffer` bytes if given (before
/// connecting, so the window the client offers is that small).
pub async fn connect_from(
    from: IpAddr,
    address: SocketAddr,
    receive_buffer: Option<u32>,
) -> tokio::net::TcpStream {
    try_connect_from(from, address, receive_buffer)
        .await
        .unwrap()
}

/// [`connect_from`], for a connection the server may reset at once.
pub async fn try_connect_from(
    from: IpAddr,
    address: SocketAddr,
    receive_buffer: Option<u32>,
) -> std::io::Result<tokio::net::TcpStream> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    if let Some(size) = receive_buffer {
        socket.set_recv_buffer_size(size)?;
    }
    socket.bind(SocketAddr::new(from, 0))?;
    socket.connect(address).await
}

/// Whether the head of `reply` has `header_line` (any case).
pub fn head_has(reply: &str, header_line: &str) -> bool {
    let head = reply.split("\r\n\r\n").next().unwrap_or_default();
    head.lines()
        .any(|line| line.eq_ignore_ascii_case(header_line))
}
