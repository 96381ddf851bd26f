//! A tiny HTTP server for tests: listens on 127.0.0.1, records every request and answers
//! with a status the test controls, so a test can await real deliveries instead of sleeping.
//!
//! Any method and path are accepted. The answer is the normal status (200 unless
//! [`HttpSink::set_status`] changed it), or the one [`HttpSink::fail_next`] queued, after
//! an optional delay, with an optional `Retry-After`. [`canned`] is the simpler server for
//! a test that needs one fixed answer with a body, and [`closed_port`] a port nothing
//! listens on.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::handler::Handler;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};

/// One request as the sink saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// `POST`, `GET`, …
    pub method: String,
    /// The path as sent, percent-encoding kept (`/orders/a%2Fb`).
    pub path: String,
    /// The query string as sent, without `?`.
    pub query: Option<String>,
    /// Every header, names in lower case, in the order sent.
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
}

impl Recorded {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// A request and the status it was (or is about to be) answered with.
#[derive(Debug, Clone)]
struct Entry {
    request: Recorded,
    /// `None` while the answer is still delayed.
    answered: Option<u16>,
}

/// What the sink answers; changed by the test while requests come in.
#[derive(Debug)]
struct Behaviour {
    status: u16,
    fail_next: usize,
    fail_status: u16,
    retry_after: Option<String>,
    delay: Duration,
}

struct Shared {
    behaviour: Mutex<Behaviour>,
    entries: watch::Sender<Vec<Entry>>,
    /// Requests being handled now, and the most there ever were at once.
    in_flight: Mutex<(usize, usize)>,
}

impl Shared {
    fn behaviour(&self) -> std::sync::MutexGuard<'_, Behaviour> {
        // A panicking test thread must not take every later request down with it.
        self.behaviour
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn in_flight(&self) -> std::sync::MutexGuard<'_, (usize, usize)> {
        self.in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Counts one request as in flight until dropped, even if the client gives up on it.
struct InFlight(Arc<Shared>);

impl InFlight {
    fn enter(shared: &Arc<Shared>) -> InFlight {
        let mut counts = shared.in_flight();
        counts.0 += 1;
        counts.1 = counts.1.max(counts.0);
        InFlight(Arc::clone(shared))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight().0 -= 1;
    }
}

/// A running sink; the server stops when this is dropped.
pub struct HttpSink {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
}

impl HttpSink {
    /// Starts a sink that answers 200 to everything.
    ///
    /// # Panics
    /// When no port can be bound on 127.0.0.1.
    pub async fn start() -> HttpSink {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the HTTP sink to 127.0.0.1");
        let addr = listener.local_addr().expect("sink address");
        let shared = Arc::new(Shared {
            behaviour: Mutex::new(Behaviour {
                status: 200,
                fail_next: 0,
                fail_status: 500,
                retry_after: None,
                delay: Duration::ZERO,
            }),
            entries: watch::Sender::new(Vec::new()),
            in_flight: Mutex::new((0, 0)),
        });
        let stop = Some(serve_until_stopped(listener, handle, Arc::clone(&shared)));
        HttpSink { addr, shared, stop }
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The port the sink listens on, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Answers `status` from now on (after any queued [`HttpSink::fail_next`] answers).
    pub fn set_status(&self, status: u16) {
        self.shared.behaviour().status = status;
    }

    /// Answers `status` to the next `n` requests, then the normal status again.
    pub fn fail_next(&self, n: usize, status: u16) {
        let mut behaviour = self.shared.behaviour();
        behaviour.fail_next = n;
        behaviour.fail_status = status;
    }

    /// Sends `Retry-After: <v>` with every non-2xx answer (or stops sending it).
    pub fn set_retry_after(&self, v: Option<String>) {
        self.shared.behaviour().retry_after = v;
    }

    /// Waits this long before answering each request, to exercise client timeouts.
    pub fn set_delay(&self, delay: Duration) {
        self.shared.behaviour().delay = delay;
    }

    /// The most requests the sink was handling at the same time so far.
    pub fn max_in_flight(&self) -> usize {
        self.shared.in_flight().1
    }

    /// Waits until at least `n` requests were answered 2xx, or `timeout` passed; returns
    /// those delivered by then.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Recorded> {
        let mut rx = self.shared.entries.subscribe();
        let _ = tokio::time::timeout(
            timeout,
            rx.wait_for(|entries| entries.iter().filter(|e| is_success(e)).count() >= n),
        )
        .await;
        self.delivered()
    }

    /// Every request received, whatever it was (or will be) answered, in arrival order.
    pub fn received(&self) -> Vec<Recorded> {
        self.shared
            .entries
            .borrow()
            .iter()
            .map(|entry| entry.request.clone())
            .collect()
    }

    /// The requests answered 2xx, in arrival order.
    pub fn delivered(&self) -> Vec<Recorded> {
        self.shared
            .entries
            .borrow()
            .iter()
            .filter(|entry| is_success(entry))
            .map(|entry| entry.request.clone())
            .collect()
    }

    /// How many distinct `Idempotency-Key` values the delivered requests carried.
    pub fn unique_idempotency_keys(&self) -> usize {
        let mut keys: Vec<String> = self
            .delivered()
            .iter()
            .filter_map(|request| request.header("idempotency-key").map(str::to_owned))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        keys.len()
    }
}

impl Drop for HttpSink {
    fn drop(&mut self) {
        // Graceful shutdown closes the listener and idle kept-alive connections, so a
        // client's pooled connection cannot reach a sink the test has dropped.
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn is_success(entry: &Entry) -> bool {
    entry
        .answered
        .is_some_and(|status| (200..300).contains(&status))
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let _in_flight = InFlight::enter(&shared);
    let request = Recorded {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        headers: headers
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.as_str().to_owned(), value)
            })
            .collect(),
        body: body.to_vec(),
    };
    // Decide the answer on arrival, so `fail_next(n)` applies to the next n requests even
    // when they arrive together.
    let (status, retry_after, delay) = {
        let mut behaviour = shared.behaviour();
        let status = if behaviour.fail_next > 0 {
            behaviour.fail_next -= 1;
            behaviour.fail_status
        } else {
            behaviour.status
        };
        (status, behaviour.retry_after.clone(), behaviour.delay)
    };
    let mut index = 0;
    shared.entries.send_modify(|entries| {
        index = entries.len();
        entries.push(Entry {
            request,
            answered: None,
        });
    });
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    shared.entries.send_modify(|entries| {
        if let Some(entry) = entries.get_mut(index) {
            entry.answered = Some(status);
        }
    });
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (code, format!("sink answered {status}")).into_response();
    if !code.is_success() {
        if let Some(value) = retry_after.and_then(|v| HeaderValue::from_str(&v).ok()) {
            response.headers_mut().insert("retry-after", value);
        }
    }
    response
}

/// Starts a server on 127.0.0.1 that answers every request with `status` and the JSON
/// `body`, and returns its `http://127.0.0.1:PORT`. It serves until the test's runtime
/// ends.
///
/// # Panics
/// When `status` is not an HTTP status code, or no port can be bound.
pub async fn canned(status: u16, body: &'static str) -> String {
    use axum::http::header;
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let code = StatusCode::from_u16(status).expect("status");
    let app = Router::new().fallback(move || async move {
        (code, [(header::CONTENT_TYPE, "application/json")], body)
    });
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

/// A port on 127.0.0.1 that was just bound and released, so (barring a race) nothing
/// listens on it: connecting is refused.
///
/// # Panics
/// When no port can be bound.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// Serves every request on `listener` with `handler` in a task, until the returned
/// sender is used or dropped.
pub(crate) fn serve_until_stopped<H, T, S>(
    listener: TcpListener,
    handler: H,
    state: S,
) -> oneshot::Sender<()>
where
    H: Handler<T, S>,
    T: 'static,
    S: Clone + Send + Sync + 'static,
{
    let app = Router::new().fallback(handler).with_state(state);
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await;
    });
    stop
}
