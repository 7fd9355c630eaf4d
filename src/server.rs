//! Serving connections: what `axum::serve` does, plus the limits a public
//! server needs. A client must send its request headers within a deadline,
//! counted from the moment it connects (so a slow-loris client, even one
//! that never sends a byte, cannot hold a connection open), headers are
//! capped in size, open connections are capped, and a stop lets requests in
//! flight finish within a grace period before the process moves on to close
//! the database.
//!
//! The server speaks HTTP/1.1 only. It sits behind a TLS proxy, which talks
//! HTTP/1.1 to it; hyper's HTTP/2 (and the automatic choice between the two)
//! has no header deadline, so a client that sent half the HTTP/2 preface, or
//! nothing at all, could hold a connection for ever.
//!
//! Why a loop of our own rather than `axum::serve`: that one exposes none of
//! hyper's connection settings (the header deadline, the header size) and
//! caps nothing; this file is the few lines that set them on hyper's own
//! HTTP/1.1 connection, cap open connections, and give each request its
//! peer address for the rate limits.

use std::future::Future;
use std::sync::Arc;
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
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
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
    /// How long a stop waits for requests in flight.
    pub grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_read: Duration::from_secs(10),
            header_size: 16 * 1024,
            connections: 1024,
            grace: Duration::from_secs(10),
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
    let finished = accept_until(listener, app, limits, shutdown).await;
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
        let _ = stream.set_nodelay(true);
        let service = app
            .clone()
            .map_request(move |request: hyper::Request<Incoming>| {
                let mut request = request.map(Body::new);
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let connection =
            builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A client that goes away mid-request is not our error.
            let _ = connection.await;
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
                    accept_until(listener, app, per_thread, stop).await
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
