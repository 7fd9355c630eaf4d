//! Serving connections: what `axum::serve` does, plus the limits a public
//! server needs. A client must send its request headers within a deadline,
//! counted from the moment it connects (so a slow-loris client, even one
//! that never sends a byte, cannot hold a connection open), headers are
//! capped in size, open connections are capped, and a stop lets requests in
//! flight finish within a grace period before the process moves on to close
//! the database.
//!
//! Two limits hold against clients that take without giving back:
//! - a **write deadline** ([`WriteDeadline`]): an answer that makes no
//!   progress towards the client for 30 s closes its connection, so a
//!   client that pipelines requests and never reads the answers cannot hold
//!   a connection, its buffers and the kernel's for ever (hyper has no such
//!   timeout);
//! - a **cap per address**: 64 connections open at once from one address (an
//!   IPv6 /64 counts as one), so one client cannot take all 1,024; more are
//!   closed as soon as they are accepted. The address is the TCP peer, so
//!   behind a proxy (`TRUST_PROXY=1`) every connection is the proxy's and
//!   the cap is off ([`Limits::behind_proxy`]); the proxy caps clients.
//!
//! `tests/red_team.rs` meets both with real sockets.
//!
//! The server speaks HTTP/1.1 only. It sits behind a TLS proxy, which talks
//! HTTP/1.1 to it; hyper's HTTP/2 (and the automatic choice between the two)
//! has no header deadline, so a client that sent half the HTTP/2 preface, or
//! nothing at all, could hold a connection for ever.
//!
//! Why a loop of our own rather than `axum::serve`: that one exposes none of
//! hyper's connection settings (the header deadline, the header size) and
//! caps nothing; this file is the few lines that set them on hyper's own
//! HTTP/1.1 connection, wrap its socket in the write deadline, cap open
//! connections (in all and per address), and give each request its peer
//! address for the rate limits.

use std::collections::HashMap;
use std::future::Future;
use std::io::{self, IoSlice};
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use std::convert::Infallible;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::response::Response;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::Sleep;
use tower::{Service, ServiceExt as _};

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Time a client has to send a request's headers, from the moment it
    /// connects or its previous answer was sent.
    pub header_read: Duration,
    /// The largest request line and headers accepted; more is answered 431.
    pub header_size: usize,
    /// Connections open at once; more wait in the kernel's backlog.
    pub connections: usize,
    /// Connections open at once from one address (an IPv6 /64 counts as one
    /// address); a connection beyond it is closed as soon as it is accepted.
    /// `None`: no cap, as behind a proxy ([`Limits::behind_proxy`]).
    pub per_address: Option<usize>,
    /// How long an answer may sit unsent, the client reading none of it,
    /// before its connection is closed ([`WriteDeadline`]).
    pub write_stall: Duration,
    /// How long a stop waits for requests in flight.
    pub grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_read: Duration::from_secs(10),
            header_size: 16 * 1024,
            connections: 1024,
            per_address: Some(64),
            write_stall: Duration::from_secs(30),
            grace: Duration::from_secs(10),
        }
    }
}

impl Limits {
    /// These limits for a server behind a reverse proxy (`TRUST_PROXY=1`)
    /// or not. Behind one, every connection comes from the proxy, so a cap
    /// per address would cap the whole site at [`Limits::per_address`]
    /// connections: it is off, and capping each client's connections is the
    /// proxy's job (nginx's `limit_conn`, which sees the real addresses).
    /// Exempting only loopback would not do: a proxy in another container
    /// connects from a private address.
    #[must_use]
    pub fn behind_proxy(self, trust_proxy: bool) -> Self {
        Self {
            per_address: if trust_proxy { None } else { self.per_address },
            ..self
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets open
/// requests finish (at most `limits.grace`). Each request carries the
/// client's address as `ConnectInfo`, as `axum::serve` would give it.
pub async fn serve<S>(
    listener: TcpListener,
    app: S,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    let addresses = OpenPerAddress::new(limits.per_address);
    let finished = accept_until(listener, app, limits, addresses, shutdown).await;
    log_stop(finished, limits);
}

fn log_stop(finished: bool, limits: Limits) {
    if finished {
        tracing::info!("every request finished");
    } else {
        tracing::warn!(
            "stopped waiting for requests still open after {:?}",
            limits.grace
        );
    }
}

/// The accept loop of [`serve`]; `true` if every request finished in time.
async fn accept_until<S>(
    listener: TcpListener,
    app: S,
    limits: Limits,
    addresses: OpenPerAddress,
    shutdown: impl Future<Output = ()>,
) -> bool
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    let open = Arc::new(Semaphore::new(limits.connections));
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read)
        .max_header_size(limits.header_size);
    tokio::pin!(shutdown);
    loop {
        // Wait for room before accepting, so the kernel's backlog (not our
        // memory) holds the clients beyond the cap.
        let permit = tokio::select! {
            permit = Arc::clone(&open).acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: pause, don't spin.
                    tracing::warn!("accepting a connection failed: {err}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Over its address's cap: closed with a reset, which leaves nothing
        // behind in the kernel (no TIME_WAIT for a client that retries).
        let Some(slot) = addresses.open(peer.ip()) else {
            tracing::debug!("a connection over its address's cap was closed");
            let _ = stream.set_zero_linger();
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = app
            .clone()
            .map_request(move |request: hyper::Request<Incoming>| {
                let mut request = request.map(Body::new);
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let stream = WriteDeadline::new(stream, limits.write_stall);
        let connection =
            builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A client that goes away mid-request is not our error.
            let _ = connection.await;
            drop(slot);
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => true,
        () = tokio::time::sleep(limits.grace) => false,
    }
}

/// [`serve`] on every core: one thread per core, each with its own
/// single-threaded runtime accepting from the same listening socket, as
/// nginx runs one worker per core. A connection then lives on one thread
/// for good: no task moves between threads and no thread wakes another,
/// which a work-stealing runtime does for every request.
pub async fn serve_on_every_core<S>(
    listener: TcpListener,
    app: S,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let listener = match listener.into_std() {
        Ok(listener) => listener,
        Err(err) => {
            tracing::error!("cannot share the listening socket: {err}");
            return;
        }
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let per_thread = Limits {
        connections: limits.connections.div_ceil(cores),
        ..limits
    };
    // One count for all threads: the kernel hands a client's connections to
    // any of them.
    let addresses = OpenPerAddress::new(limits.per_address);
    let mut threads = Vec::new();
    for core in 0..cores {
        let listener = match listener.try_clone() {
            Ok(listener) => listener,
            Err(err) => {
                tracing::error!("cannot share the listening socket: {err}");
                break;
            }
        };
        let app = app.clone();
        let addresses = addresses.clone();
        let mut stopped = stopped.clone();
        let (done, finished) = tokio::sync::oneshot::channel::<bool>();
        let spawned = std::thread::Builder::new()
            .name(format!("serve-{core}"))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime for serving");
                let all_finished = runtime.block_on(async move {
                    let listener =
                        TcpListener::from_std(listener).expect("a listening socket for serving");
                    let stop = async move {
                        let _ = stopped.wait_for(|stop| *stop).await;
                    };
                    accept_until(listener, app, per_thread, addresses, stop).await
                });
                let _ = done.send(all_finished);
            });
        match spawned {
            Ok(_) => threads.push(finished),
            Err(err) => tracing::error!("cannot start a serving thread: {err}"),
        }
    }
    drop(listener);
    shutdown.await;
    let _ = stop.send(true);
    let mut all_finished = true;
    for finished in threads {
        all_finished &= finished.await.unwrap_or(false);
    }
    log_stop(all_finished, limits);
}

/// The connections open from each address, for [`Limits::per_address`].
/// The map holds only addresses with a connection open, so it never holds
/// more entries than [`Limits::connections`].
#[derive(Clone)]
struct OpenPerAddress {
    cap: Option<usize>,
    open: OpenCounts,
}

/// How many connections each address has open.
type OpenCounts = Arc<Mutex<HashMap<IpAddr, usize>>>;

impl OpenPerAddress {
    fn new(cap: Option<usize>) -> Self {
        Self {
            cap,
            open: Arc::default(),
        }
    }

    /// A place for one more connection from `peer`, held until dropped;
    /// `None` if its address already has its cap.
    fn open(&self, peer: IpAddr) -> Option<AddressSlot> {
        let Some(cap) = self.cap else {
            return Some(AddressSlot(None));
        };
        let address = crate::client::counted_as(peer);
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(address).or_insert(0);
        if *count >= cap {
            return None;
        }
        *count += 1;
        Some(AddressSlot(Some((Arc::clone(&self.open), address))))
    }
}

/// One connection's place in [`OpenPerAddress`]; the address leaves the
/// map with its last connection.
struct AddressSlot(Option<(OpenCounts, IpAddr)>);

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let Some((open, address)) = self.0.take() else {
            return;
        };
        let mut open = open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&address) {
            *count -= 1;
            if *count == 0 {
                open.remove(&address);
            }
        }
    }
}

/// A connection's socket with a deadline on writing: when a write cannot
/// go ahead (the kernel's send buffer is full because the client reads
/// nothing) and none goes ahead for `stall`, the write fails, hyper drops
/// the connection, and the socket is reset so the kernel drops what it
/// still held for that client too.
///
/// Why: a client can pipeline many requests for a large page on a
/// connection with a tiny receive window and never read. hyper's header
/// deadline does not apply while hyper waits to write, the request timeout
/// ends when the handler returns its body, and hyper has no write timeout
/// of its own (hyperium/hyper#3852); so without this each such connection
/// would hold its place under the connection cap, hyper's buffers and the
/// kernel's send buffer for ever. Any progress re-arms the deadline, so a
/// slow client that still reads is never cut off.
struct WriteDeadline {
    stream: TcpStream,
    stall: Duration,
    /// Made at the first write that waits, then reused.
    timer: Option<Pin<Box<Sleep>>>,
    /// Whether the timer runs for the current wait.
    waiting: bool,
}

impl WriteDeadline {
    fn new(stream: TcpStream, stall: Duration) -> Self {
        Self {
            stream,
            stall,
            timer: None,
            waiting: false,
        }
    }

    /// `polled`, the outcome of a write, unless it waited past the deadline.
    fn deadline<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if polled.is_ready() {
            self.waiting = false;
            return polled;
        }
        let deadline = tokio::time::Instant::now() + self.stall;
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if !self.waiting {
            timer.as_mut().reset(deadline);
            self.waiting = true;
        }
        if timer.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        let _ = self.stream.set_zero_linger();
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the client read none of its answer in time",
        )))
    }
}

impl AsyncRead for WriteDeadline {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for WriteDeadline {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write(cx, buf);
        self.deadline(cx, polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        self.deadline(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.stream).poll_flush(cx);
        self.deadline(cx, polled)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.stream).poll_shutdown(cx);
        self.deadline(cx, polled)
    }
}
