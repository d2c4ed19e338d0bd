//! Connection timeouts. hyper, as axum runs it, has neither a header-read
//! nor an idle timeout: a client holding half-sent headers, or a kept-alive
//! connection nobody uses, stays open for good. Here each socket tracks
//! whether a request is running on it:
//!
//! - while none runs and bytes of the next request arrive (or the
//!   connection is new), its headers must be complete within the header
//!   timeout;
//! - while none runs and nothing arrives, the connection is closed after
//!   the idle timeout (a response still being sent counts as activity);
//! - while a request runs, or once the connection was upgraded (websockets,
//!   which keep themselves alive), neither applies.
//!
//! This works below the HTTP version, so it holds for HTTP/1.1 and HTTP/2.

use std::convert::Infallible;
use std::future::{Future, Ready, ready};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use axum::http::StatusCode;
use axum::response::Response;
use axum::serve::IncomingStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, Sleep};
use tower::{Service, ServiceExt};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// How long a request's headers may take to arrive in full.
    pub header: Duration,
    /// How long a connection may stay open with no request.
    pub idle: Duration,
}

/// What a connection's requests tell its socket.
#[derive(Default)]
struct Shared {
    /// Requests started so far: a request can start and end between two
    /// reads of the socket, unseen by the `running` count.
    started: AtomicUsize,
    running: AtomicUsize,
    upgraded: AtomicBool,
}

impl Shared {
    fn busy(&self) -> bool {
        self.upgraded.load(Ordering::Relaxed) || self.running.load(Ordering::Relaxed) > 0
    }
}

/// What the socket waits for while no request runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Waiting {
    Headers,
    Idle,
}

/// A TCP stream that fails its next read once the deadline of what it is
/// waiting for has passed; hyper then closes the connection.
pub struct GuardedStream {
    inner: TcpStream,
    shared: Arc<Shared>,
    timeouts: Timeouts,
    /// `None` while a request runs.
    waiting: Option<Waiting>,
    /// `Shared::started` when last looked at.
    seen_started: usize,
    deadline: Pin<Box<Sleep>>,
}

impl GuardedStream {
    fn new(inner: TcpStream, timeouts: Timeouts) -> Self {
        Self {
            inner,
            shared: Arc::default(),
            timeouts,
            // A new connection owes its first request's headers.
            waiting: Some(Waiting::Headers),
            seen_started: 0,
            deadline: Box::pin(tokio::time::sleep(timeouts.header)),
        }
    }

    fn wait_for(&mut self, what: Waiting) {
        let after = match what {
            Waiting::Headers => self.timeouts.header,
            Waiting::Idle => self.timeouts.idle,
        };
        self.waiting = Some(what);
        self.deadline.as_mut().reset(Instant::now() + after);
    }

    fn track(&mut self, read_some: bool, wrote_some: bool) {
        let started = self.shared.started.load(Ordering::Relaxed);
        if started != self.seen_started {
            self.seen_started = started;
            self.waiting = None;
        }
        if self.shared.busy() {
            self.waiting = None;
            return;
        }
        match self.waiting {
            // A request just ended.
            None if read_some => self.wait_for(Waiting::Headers),
            None => self.wait_for(Waiting::Idle),
            // The headers' clock runs from their first byte, whatever follows.
            Some(Waiting::Idle) if read_some => self.wait_for(Waiting::Headers),
            Some(Waiting::Idle) if wrote_some => self.wait_for(Waiting::Idle),
            Some(_) => {}
        }
    }

    /// Whether the deadline passed (registers the wake-up otherwise).
    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        self.waiting.is_some() && self.deadline.as_mut().poll(cx).is_ready()
    }
}

impl AsyncRead for GuardedStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        let read_some = matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before;
        this.track(read_some, false);
        if polled.is_pending() && this.expired(cx) {
            let why = match this.waiting {
                Some(Waiting::Headers) => "request headers not received in time",
                _ => "idle connection",
            };
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, why)));
        }
        polled
    }
}

impl AsyncWrite for GuardedStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(cx, data);
        this.track(false, matches!(polled, Poll::Ready(Ok(n)) if n > 0));
        polled
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write_vectored(cx, data);
        this.track(false, matches!(polled, Poll::Ready(Ok(n)) if n > 0));
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// Accepts TCP connections as [`GuardedStream`]s.
pub struct GuardedListener {
    inner: TcpListener,
    timeouts: Timeouts,
}

impl GuardedListener {
    pub fn new(inner: TcpListener, timeouts: Timeouts) -> Self {
        Self { inner, timeouts }
    }
}

impl axum::serve::Listener for GuardedListener {
    type Io = GuardedStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (tcp, peer) = axum::serve::Listener::accept(&mut self.inner).await;
        // No Nagle delay: live results and responses are small writes that
        // should leave at once.
        let _ = tcp.set_nodelay(true);
        (GuardedStream::new(tcp, self.timeouts), peer)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// Makes, per connection, a service that runs the router with the peer's
/// address (`ConnectInfo<SocketAddr>`) and tells the socket when requests
/// run and when the connection was upgraded.
#[derive(Clone)]
pub struct MakeService(pub Router);

impl Service<IncomingStream<'_, GuardedListener>> for MakeService {
    type Response = ConnectionService;
    type Error = Infallible;
    type Future = Ready<Result<ConnectionService, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, stream: IncomingStream<'_, GuardedListener>) -> Self::Future {
        ready(Ok(ConnectionService {
            router: self.0.clone(),
            peer: *stream.remote_addr(),
            shared: stream.io().shared.clone(),
        }))
    }
}

#[derive(Clone)]
pub struct ConnectionService {
    router: Router,
    peer: SocketAddr,
    shared: Arc<Shared>,
}

/// Counts a request as running until its response is ready.
struct Running(Arc<Shared>);

impl Running {
    fn start(shared: Arc<Shared>) -> Self {
        shared.started.fetch_add(1, Ordering::Relaxed);
        shared.running.fetch_add(1, Ordering::Relaxed);
        Running(shared)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Service<Request> for ConnectionService {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        request.extensions_mut().insert(ConnectInfo(self.peer));
        let running = Running::start(self.shared.clone());
        let router = self.router.clone();
        Box::pin(async move {
            let response = router.oneshot(request).await?;
            if response.status() == StatusCode::SWITCHING_PROTOCOLS {
                running.0.upgraded.store(true, Ordering::Relaxed);
            }
            drop(running);
            Ok(response)
        })
    }
}
