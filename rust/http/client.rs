//! The pure-Rust upstream client: a pooled reqwest client on the extension's runtime, request
//! building, response heads, body reading by frame, and the error kinds the gateway tells apart.
//! No Python here; `py.rs` is the skin and `bridge.rs` carries results to asyncio.
use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::Bytes;
use http_body::Body as _;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Body, Method};
use tokio::runtime::Handle;
use tokio::time::Instant;

use super::runtime;

/// What went wrong, as the gateway maps it: connect failures and connect timeouts (502/504 before
/// anything was sent), the total deadline, a read timeout (first byte or idle gap), anything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Connect,
    ConnectTimeout,
    RequestTimeout,
    ReadTimeout,
    Transport,
    /// The request could not be built (bad method, URL or header): the caller's fault, not the network's.
    InvalidRequest,
}

#[derive(Debug, Clone)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }

    fn from_reqwest(e: &reqwest::Error) -> Self {
        let kind = match (e.is_connect(), e.is_timeout()) {
            (true, true) => ErrorKind::ConnectTimeout,
            (true, false) => ErrorKind::Connect,
            (false, true) => ErrorKind::RequestTimeout,
            _ => ErrorKind::Transport,
        };
        Error::new(kind, chain(e))
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// `err: cause: cause`, without the URL reqwest puts in its own message (it can carry a key).
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = match e.downcast_ref::<reqwest::Error>() {
        Some(r) if r.is_connect() => "connect error".to_string(),
        Some(r) if r.is_body() || r.is_decode() => "body error".to_string(),
        Some(r) if r.is_request() => "request error".to_string(),
        _ => e.to_string(),
    };
    let mut src = e.source();
    while let Some(s) = src {
        let text = s.to_string();
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        src = s.source();
    }
    out
}

#[derive(Debug, Clone)]
pub struct Config {
    pub connect_timeout: Duration,
    pub pool_idle_timeout: Duration,
    pub pool_max_idle_per_host: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            connect_timeout: Duration::from_secs(10),
            pool_idle_timeout: Duration::from_secs(90),
            pool_max_idle_per_host: usize::MAX,
        }
    }
}

/// A pooled client bound to the process's runtime. Cheap to clone (the pool is shared).
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    rt: Handle,
    generation: u64,
}

/// The response as the headers arrive: status, headers and the unread body.
pub struct Head {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Body,
}

impl Client {
    /// Builds the client (and, the first time in this process, starts the runtime thread).
    pub fn new(cfg: &Config) -> Result<Self, Error> {
        let rt = runtime::handle().map_err(|e| Error::new(ErrorKind::Transport, e.to_string()))?;
        let http = reqwest::Client::builder()
            .connect_timeout(cfg.connect_timeout)
            .pool_idle_timeout(cfg.pool_idle_timeout)
            .pool_max_idle_per_host(cfg.pool_max_idle_per_host)
            // a ~40 ms plateau in a benchmark is Nagle meeting delayed ACKs
            .tcp_nodelay(true)
            .redirect(reqwest::redirect::Policy::none())
            // the gateway relays bytes as the upstream sent them, to the upstream it was configured with
            .no_proxy()
            .referer(false)
            .build()
            .map_err(|e| Error::from_reqwest(&e))?;
        Ok(Client {
            http,
            rt,
            generation: runtime::generation(),
        })
    }

    pub fn runtime(&self) -> &Handle {
        &self.rt
    }

    /// False in a child process after `fork()`: its pool and runtime belong to the parent.
    pub fn usable(&self) -> bool {
        self.generation == runtime::generation()
    }

    /// A ready-to-send request; fails on a bad method, URL or header.
    pub fn request<'a>(
        &self,
        method: &str,
        url: &str,
        headers: impl IntoIterator<Item = (&'a str, &'a str)>,
        body: Bytes,
    ) -> Result<reqwest::Request, Error> {
        let invalid = |what: &str, e: &dyn std::fmt::Display| {
            Error::new(ErrorKind::InvalidRequest, format!("invalid {what}: {e}"))
        };
        let method = Method::from_bytes(method.as_bytes()).map_err(|e| invalid("method", &e))?;
        let url = reqwest::Url::parse(url).map_err(|e| invalid("URL", &e))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("URL", &"the scheme must be http or https"));
        }
        let mut req = reqwest::Request::new(method, url);
        let map = req.headers_mut();
        for (name, value) in headers {
            let n =
                HeaderName::from_bytes(name.as_bytes()).map_err(|e| invalid("header name", &e))?;
            let v = HeaderValue::from_str(value).map_err(|e| invalid("header value", &e))?;
            map.append(n, v);
        }
        *req.body_mut() = Some(Body::from(body));
        Ok(req)
    }

    /// Sends the request; resolves when the response headers are in.
    pub fn execute(
        &self,
        req: reqwest::Request,
    ) -> impl std::future::Future<Output = Result<Head, Error>> + Send + 'static {
        let fut = self.http.execute(req);
        async move {
            let mut resp = fut.await.map_err(|e| Error::from_reqwest(&e))?;
            let status = resp.status().as_u16();
            let headers = std::mem::take(resp.headers_mut());
            Ok(Head {
                status,
                headers,
                body: Body::from(resp),
            })
        }
    }
}

/// The next data chunk: `None` at the end of the body. Trailers and empty frames are skipped.
pub fn poll_chunk(body: &mut Body, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, Error>>> {
    loop {
        match Pin::new(&mut *body).poll_frame(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Ready(Some(Err(e))) => {
                return Poll::Ready(Some(Err(Error::new(ErrorKind::Transport, chain(&e)))))
            }
            Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                Ok(data) if !data.is_empty() => return Poll::Ready(Some(Ok(data))),
                _ => continue,
            },
        }
    }
}

/// A chunk the connection already delivered, without waiting (`Pending` if there is none yet).
/// Safe off the runtime: the body is a channel from the connection task, with no timers in it.
pub fn try_chunk(body: &mut Body) -> Poll<Option<Result<Bytes, Error>>> {
    poll_chunk(body, &mut Context::from_waker(Waker::noop()))
}

pub async fn next_chunk(body: &mut Body) -> Option<Result<Bytes, Error>> {
    poll_fn(|cx| poll_chunk(body, cx)).await
}

/// Merged chunks stop growing past this; the rest waits for the next read.
pub const MERGE_LIMIT: usize = 64 * 1024;

/// What a merged read saw after its data: more to come, the end, or a failure to report next.
pub enum After {
    More,
    End,
    Failed(Error),
}

/// Runtime thread: the next chunk, joined with whatever else the connection has already received.
///
/// hyper's body channel holds one frame, so after each frame the connection task must run before
/// the next is there: one yield lets it, and the first poll that finds nothing ends the chunk (the
/// end of the body, or an error after the data, is kept for the next read). Nothing is waited for
/// beyond the first chunk, so a paced stream still arrives event by event, while a burst (the 11
/// events of a mocked stream landing in one socket read) costs one hand-over to Python instead of 11.
pub async fn next_chunks(body: &mut Body) -> (Option<Result<Bytes, Error>>, After) {
    match next_chunk(body).await {
        None => (None, After::End),
        Some(Err(e)) => (Some(Err(e.clone())), After::Failed(e)),
        Some(Ok(first)) => {
            let (joined, after) = gather(body, Some(first)).await;
            (joined.map(Ok), after)
        }
    }
}

/// Runtime thread, as the headers arrive: whatever body the connection received with them (None if
/// nothing yet), handed over with the headers so that the first read needs no second trip.
pub async fn prefetch(body: &mut Body) -> (Option<Bytes>, After) {
    gather(body, None).await
}

/// `first` plus the frames the connection task can hand over without reading the socket again.
async fn gather(body: &mut Body, first: Option<Bytes>) -> (Option<Bytes>, After) {
    let mut joined: Option<bytes::BytesMut> = None;
    let mut after = After::More;
    let size = |j: &Option<bytes::BytesMut>| {
        j.as_ref()
            .map_or(first.as_ref().map_or(0, Bytes::len), |j| j.len())
    };
    while size(&joined) < MERGE_LIMIT {
        yield_once().await;
        match try_chunk(body) {
            Poll::Ready(Some(Ok(b))) => match (&mut joined, &first) {
                (Some(j), _) => j.extend_from_slice(&b),
                (None, Some(f)) => {
                    let mut j = bytes::BytesMut::with_capacity(f.len() + b.len());
                    j.extend_from_slice(f);
                    j.extend_from_slice(&b);
                    joined = Some(j);
                }
                (None, None) => joined = Some(bytes::BytesMut::from(&b[..])),
            },
            Poll::Ready(None) => {
                after = After::End;
                break;
            }
            Poll::Ready(Some(Err(e))) => {
                after = After::Failed(e);
                break;
            }
            Poll::Pending => break,
        }
    }
    (joined.map(|j| j.freeze()).or(first), after)
}

/// Lets the runtime's other ready tasks (the connection task just woken by our read) run once.
/// Not `tokio::task::yield_now`, which defers the wake-up past a poll of the I/O driver: a syscall.
async fn yield_once() {
    let mut yielded = false;
    poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}

/// Deadlines of one wait: the request's total deadline and, if set, a read timeout from now.
#[derive(Clone, Copy)]
pub struct Deadlines {
    pub total: Instant,
    pub read: Option<Duration>,
}

impl Deadlines {
    /// Runs `fut` until the earlier deadline; the error names which one passed.
    pub async fn run<T>(
        self,
        fut: impl std::future::Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        let now = Instant::now();
        let (until, kind) = match self.read.and_then(|r| now.checked_add(r)) {
            Some(t) if t < self.total => (t, ErrorKind::ReadTimeout),
            _ => (self.total, ErrorKind::RequestTimeout),
        };
        match tokio::time::timeout_at(until, fut).await {
            Ok(r) => r,
            Err(_) => Err(Error::new(kind, timeout_message(kind))),
        }
    }

    pub fn expired(&self) -> Option<Error> {
        (Instant::now() >= self.total).then(|| {
            Error::new(
                ErrorKind::RequestTimeout,
                timeout_message(ErrorKind::RequestTimeout),
            )
        })
    }
}

fn timeout_message(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::ReadTimeout => "read timed out",
        _ => "request timed out",
    }
}
