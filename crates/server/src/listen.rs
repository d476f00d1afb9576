//! The accept loop and each client connection's limits.
//!
//! - **Open connections are capped** (`server.limits.max_connections`): at the cap, the
//!   connection just accepted waits for a slot while connections that have had no request in
//!   progress for a second are closed to make room for it; later ones wait in the kernel's
//!   backlog. Each time is
//!   counted and warned about (at most every 10 s).
//! - **Header read**: a connection must deliver a request's head within
//!   `header_read_timeout` of its first byte (or of the accept, for a new connection), so
//!   connect-only and slowly dribbled heads are closed.
//! - **Idle keep-alive**: a connection with no request in progress is closed after
//!   `idle_timeout`.
//! - **Drain**: at shutdown, connections with no request in progress close at once (a half-sent
//!   head included); the others finish their answer with keep-alive off.
//!
//! A request is in progress from the moment its head is parsed until its response body has been
//! written or dropped; body reading has its own timeout in the handlers (`read_body`).

use axum::body::Body;
use axum::Router;
use http::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify, Semaphore};
use tower::Service;

/// Counters for /metrics.
#[derive(Default)]
pub struct ConnMetrics {
    /// Client connections open now.
    pub open: AtomicU64,
    /// Client connections accepted.
    pub accepted: AtomicU64,
    /// Times the accept loop found every connection slot taken.
    pub cap_reached: AtomicU64,
    /// Connections closed for not sending a request's head in time.
    pub header_timeouts: AtomicU64,
    /// Keep-alive connections closed for sitting idle.
    pub idle_closed: AtomicU64,
    /// Connections with no request in progress closed to make room at the cap.
    pub evicted: AtomicU64,
    /// The "cap reached" warning, at most every 10 s.
    warning: crate::observe::Throttle,
}

impl ConnMetrics {
    fn cap_reached(&self, cap: usize) {
        let total = self.cap_reached.fetch_add(1, Ordering::Relaxed) + 1;
        if self.warning.due() {
            tracing::warn!(
                max_connections = cap,
                times_reached = total,
                "every client connection slot is taken: new connections wait in the backlog \
                 (server.limits.max_connections)"
            );
        }
    }
}

/// The process's open-file limit (soft), or a conservative guess when it cannot be read.
pub fn nofile_limit() -> u64 {
    rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(1024, |(soft, _)| soft)
}

/// Raises the process's open-file soft limit to its hard limit; returns the limit now in force.
pub fn raise_nofile_limit() -> u64 {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "could not raise the open-file limit");
            nofile_limit()
        }
    }
}

/// Accepts connections until `stop` is set, then waits for the open ones to close.
pub async fn accept_loop(
    listener: TcpListener,
    app: Router,
    limits: switchyard_config::Limits,
    conns: Arc<ConnMetrics>,
    mut stop: watch::Receiver<bool>,
) {
    // Connections keep the counters only, so a state a reload replaced is not held here.
    let cap = limits.connections(nofile_limit()).min(u32::MAX as usize);
    let slots = Arc::new(Semaphore::new(cap));
    let pressure = Arc::new(Notify::new());
    let mut builder = http1::Builder::new();
    builder.keep_alive(true);
    let timeouts = Timeouts {
        header: limits.header_read_timeout,
        idle: limits.idle_timeout,
    };
    loop {
        let tcp = tokio::select! {
            r = listener.accept() => match r {
                Ok((tcp, _)) => tcp,
                Err(e) => {
                    accept_error(&e).await;
                    continue;
                }
            },
            _ = stopped(&mut stop) => break,
        };
        // At the cap, the connection just taken (one past the cap at most) waits for a slot,
        // and connections with no request in progress are asked to make room, again every
        // 100 ms while it waits; further connections wait in the kernel's backlog.
        let slot = match slots.clone().try_acquire_owned() {
            Ok(s) => s,
            Err(_) => {
                conns.cap_reached(cap);
                let mut ask = tokio::time::interval(MAKE_ROOM_EVERY);
                let waited = loop {
                    tokio::select! {
                        s = slots.clone().acquire_owned() => break s.ok(),
                        _ = ask.tick() => pressure.notify_waiters(),
                        _ = stopped(&mut stop) => break None,
                    }
                };
                match waited {
                    Some(s) => s,
                    None => break,
                }
            }
        };
        // TCP_NODELAY: a streamed event must not wait for Nagle's algorithm.
        let _ = tcp.set_nodelay(true);
        conns.accepted.fetch_add(1, Ordering::Relaxed);
        conns.open.fetch_add(1, Ordering::Relaxed);
        let conn = Connection {
            tcp,
            app: app.clone(),
            builder: builder.clone(),
            timeouts,
            stop: stop.clone(),
            conns: conns.clone(),
            pressure: pressure.clone(),
        };
        tokio::spawn(async move {
            conn.run().await;
            drop(slot);
        });
    }
    drop(listener);
    // Every slot back means every connection has closed.
    let _ = slots.acquire_many(cap as u32).await;
}

/// What an accept error means: a connection that died before it was taken is nothing; running
/// out of descriptors or memory is waited out briefly rather than spun on.
async fn accept_error(e: &io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset, Interrupted};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset | Interrupted
    ) {
        return;
    }
    tracing::warn!(error = %e, "accepting a connection failed; retrying shortly");
    tokio::time::sleep(Duration::from_millis(50)).await;
}

/// Resolves once `stop` is set (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

#[derive(Clone, Copy)]
struct Timeouts {
    header: Duration,
    idle: Duration,
}

/// No time recorded.
const NONE: u64 = u64::MAX;

/// What a connection's watchdog reads, written by the socket wrapper and the service.
struct Activity {
    /// When the connection was accepted; times below are milliseconds since then.
    born: Instant,
    /// Requests whose head has been parsed and whose response is not yet written.
    busy: AtomicU32,
    /// When the first byte of the next request's head arrived (NONE while none has, or while
    /// a request is in progress).
    head_since: AtomicU64,
    /// When the connection last had no request in progress.
    idle_since: AtomicU64,
    /// Wakes the watchdog when a head starts or a request ends, so the deadline that then
    /// applies is taken at once.
    changed: Notify,
}

impl Activity {
    fn now(&self) -> u64 {
        u64::try_from(self.born.elapsed().as_millis()).unwrap_or(NONE - 1)
    }

    fn begin(self: &Arc<Self>) -> Busy {
        self.busy.fetch_add(1, Ordering::Relaxed);
        self.head_since.store(NONE, Ordering::Relaxed);
        Busy(self.clone())
    }

    /// How long the connection has had no request in progress (zero while one is).
    fn idle_for(&self) -> Duration {
        if self.busy.load(Ordering::Relaxed) > 0 {
            return Duration::ZERO;
        }
        let since = self.idle_since.load(Ordering::Relaxed);
        Duration::from_millis(self.now().saturating_sub(since))
    }

    /// When the connection is due to close if nothing changes; `None` while a request is in
    /// progress.
    fn due(&self, t: Timeouts) -> Option<(Instant, Close)> {
        if self.busy.load(Ordering::Relaxed) > 0 {
            return None;
        }
        let at = |ms: u64, d: Duration| self.born + Duration::from_millis(ms) + d;
        match self.head_since.load(Ordering::Relaxed) {
            NONE => Some((
                at(self.idle_since.load(Ordering::Relaxed), t.idle),
                Close::Idle,
            )),
            since => Some((at(since, t.header), Close::HeaderTimeout)),
        }
    }
}

/// Marks a request in progress until dropped (with its response body, or its handler's future).
pub struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        let a = &self.0;
        a.idle_since.store(a.now(), Ordering::Relaxed);
        a.busy.fetch_sub(1, Ordering::Relaxed);
        a.changed.notify_one();
    }
}

#[derive(Clone, Copy)]
enum Close {
    HeaderTimeout,
    Idle,
}

/// While a connection waits for a slot at the cap, how often idle connections are asked to close
/// (each ask wakes every connection).
const MAKE_ROOM_EVERY: Duration = Duration::from_millis(100);

/// How long a connection must have had no request in progress before it gives way at the cap:
/// a keep-alive client between two requests keeps its connection, a socket that only holds a
/// slot does not.
const MIN_IDLE_TO_MAKE_ROOM: Duration = Duration::from_secs(1);

struct Connection {
    tcp: TcpStream,
    app: Router,
    builder: http1::Builder,
    timeouts: Timeouts,
    stop: watch::Receiver<bool>,
    conns: Arc<ConnMetrics>,
    /// Notified when every connection slot is taken: an idle connection then closes.
    pressure: Arc<Notify>,
}

impl Connection {
    async fn run(self) {
        let Connection {
            tcp,
            app,
            builder,
            timeouts,
            mut stop,
            conns,
            pressure,
        } = self;
        let activity = Arc::new(Activity {
            born: Instant::now(),
            busy: AtomicU32::new(0),
            // A new connection is there to send a request: its head is due at once.
            head_since: AtomicU64::new(0),
            idle_since: AtomicU64::new(0),
            changed: Notify::new(),
        });
        let peer = tcp.peer_addr().ok().map(PeerAddr);
        let io = TokioIo::new(Watched {
            inner: tcp,
            activity: activity.clone(),
        });
        let service = RequestService {
            app,
            activity: activity.clone(),
            peer,
        };
        let conn = builder.serve_connection(io, service);
        tokio::pin!(conn);
        let mut draining = false;
        // One timer for the connection's life, moved only when the deadline that applies
        // changes; while a request is in progress there is none (its end wakes the watchdog).
        let recheck = timeouts.idle.max(timeouts.header);
        let timer = tokio::time::sleep(recheck);
        tokio::pin!(timer);
        let mut armed: Option<Instant> = None;
        loop {
            let due = activity.due(timeouts).map(|(at, _)| at);
            if due != armed || timer.is_elapsed() {
                let at = due.unwrap_or_else(|| Instant::now() + recheck);
                timer.as_mut().reset(at.into());
                armed = due;
            }
            // The connection first: it is what wakes this task nearly every time.
            tokio::select! {
                biased;
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!(error = %e, "client connection ended with an error");
                    }
                    break;
                }
                _ = timer.as_mut() => {
                    if let Some((at, why)) = activity.due(timeouts) {
                        if at <= Instant::now() {
                            let counter = match why {
                                Close::HeaderTimeout => &conns.header_timeouts,
                                Close::Idle => &conns.idle_closed,
                            };
                            counter.fetch_add(1, Ordering::Relaxed);
                            break;
                        }
                    }
                }
                _ = activity.changed.notified() => {}
                _ = pressure.notified() => {
                    if activity.idle_for() >= MIN_IDLE_TO_MAKE_ROOM {
                        conns.evicted.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                }
                _ = stopped(&mut stop), if !draining => {
                    draining = true;
                    if activity.busy.load(Ordering::Relaxed) == 0 {
                        break;
                    }
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
        conns.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The client socket, noting when a request's head starts to arrive.
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            let a = &self.activity;
            if a.busy.load(Ordering::Relaxed) == 0 && a.head_since.load(Ordering::Relaxed) == NONE {
                a.head_since.store(a.now(), Ordering::Relaxed);
                a.changed.notify_one();
            }
        }
        r
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The address a request's connection came from (for the admin audit log), in its extensions.
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub std::net::SocketAddr);

/// The router as hyper's service, marking each request in progress until its answer is written.
#[derive(Clone)]
struct RequestService {
    app: Router,
    activity: Arc<Activity>,
    peer: Option<PeerAddr>,
}

impl hyper::service::Service<Request<Incoming>> for RequestService {
    type Response = http::Response<Tracked>;
    type Error = Infallible;
    type Future = Answer;

    fn call(&self, mut req: Request<Incoming>) -> Self::Future {
        let busy = self.activity.begin();
        if let Some(p) = self.peer {
            req.extensions_mut().insert(p);
        }
        Answer {
            fut: self.app.clone().call(req),
            busy: Some(busy),
        }
    }
}

/// The router's answer, its body then tracked.
pub struct Answer {
    fut: axum::routing::future::RouteFuture<Infallible>,
    busy: Option<Busy>,
}

impl std::future::Future for Answer {
    type Output = Result<http::Response<Tracked>, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let resp = std::task::ready!(Pin::new(&mut self.fut).poll(cx))?;
        let busy = self.busy.take();
        Poll::Ready(Ok(resp.map(|body| Tracked { body, _busy: busy })))
    }
}

/// A response body that keeps its request marked in progress until it is written or dropped.
pub struct Tracked {
    body: Body,
    _busy: Option<Busy>,
}

impl http_body::Body for Tracked {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}
