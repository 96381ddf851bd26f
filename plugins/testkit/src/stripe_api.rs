//! A fake of Stripe's API on 127.0.0.1, for the tests of herald's Stripe client: it
//! lists events the way `GET /v1/events` does (newest first, `limit`,
//! `starting_after`, `created[gte]`, `object: "list"`, `has_more`), answers any other
//! path it was given an object for, answers the next requests with 429 and
//! `Retry-After`, with 500, or slowly when told to, and records each request.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::http_sink::serve_until_stopped;

/// What the fake holds and how it behaves.
#[derive(Debug, Default)]
struct Books {
    /// Events, in the order given (the fake sorts them newest first).
    events: Vec<Value>,
    /// Requests still to answer with 429.
    throttle: usize,
    /// Requests still to answer with 500.
    fail: usize,
    /// Requests still to answer late, and how late.
    slow: usize,
    delay: std::time::Duration,
    /// What other paths answer (`/v1/checkout/sessions/cs_1/line_items`, …).
    objects: Vec<(String, Value)>,
    /// Events a page, whatever `limit` asks: small pages test the paging.
    page_size: Option<usize>,
    /// What `GET /v1/webhook_endpoints` lists.
    endpoints: Vec<Value>,
    /// What `GET /v1/customers/{id}` answers, by id.
    customers: Vec<Value>,
    /// Every request: its path and query, and its `Authorization` and `Stripe-Version`.
    seen: Vec<SeenRequest>,
}

/// One request the fake answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRequest {
    pub path: String,
    pub query: Vec<(String, String)>,
    pub authorization: Option<String>,
    pub stripe_version: Option<String>,
    /// The status answered.
    pub status: u16,
}

/// The fake API; stopped when dropped.
pub struct FakeStripe {
    port: u16,
    books: Arc<Mutex<Books>>,
    _stop: oneshot::Sender<()>,
}

impl FakeStripe {
    /// Starts a fake holding `events` (whole Stripe event objects).
    pub async fn start(events: Vec<Value>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let books = Arc::new(Mutex::new(Books {
            events,
            ..Books::default()
        }));
        let stop = serve_until_stopped(listener, answer, books.clone());
        Self {
            port,
            books,
            _stop: stop,
        }
    }

    /// The base URL to give herald as `api_base`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Answers the next `n` requests with 429 and `Retry-After: 1`.
    pub fn throttle(&self, n: usize) {
        self.lock().throttle = n;
    }

    /// Answers the next `n` requests with 500.
    pub fn fail(&self, n: usize) {
        self.lock().fail = n;
    }

    /// Answers the next `n` requests only after `delay`.
    pub fn slow(&self, n: usize, delay: std::time::Duration) {
        let mut books = self.lock();
        books.slow = n;
        books.delay = delay;
    }

    /// Answers `GET {path}` with `object`.
    pub fn set_object(&self, path: &str, object: Value) {
        let mut books = self.lock();
        books.objects.retain(|(known, _)| known != path);
        books.objects.push((path.to_owned(), object));
    }

    /// Lists `endpoints` (webhook endpoint objects) at `GET /v1/webhook_endpoints`.
    pub fn set_endpoints(&self, endpoints: Vec<Value>) {
        self.lock().endpoints = endpoints;
    }

    /// Answers `GET /v1/customers/{id}` with these customer objects (404 for others).
    pub fn set_customers(&self, customers: Vec<Value>) {
        self.lock().customers = customers;
    }

    /// Answers pages of at most `n` events.
    pub fn page_size(&self, n: usize) {
        self.lock().page_size = Some(n);
    }

    /// Every request answered so far.
    pub fn seen(&self) -> Vec<SeenRequest> {
        self.lock().seen.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Books> {
        self.books.lock().expect("fake stripe lock")
    }
}

async fn answer(
    State(books): State<Arc<Mutex<Books>>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Response {
    let (delay, response) = {
        let mut books = books.lock().expect("fake stripe lock");
        let delay = (books.slow > 0).then(|| {
            books.slow -= 1;
            books.delay
        });
        (delay, respond(&mut books, &uri, &headers))
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    response
}

fn respond(books: &mut Books, uri: &axum::http::Uri, headers: &HeaderMap) -> Response {
    let query = pairs(uri.query().unwrap_or_default());
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let mut seen = SeenRequest {
        path: uri.path().to_owned(),
        query: query.clone(),
        authorization: header("authorization"),
        stripe_version: header("stripe-version"),
        status: 200,
    };
    if books.throttle > 0 {
        books.throttle -= 1;
        seen.status = 429;
        books.seen.push(seen);
        let body = json!({"error": {"type": "rate_limit_error", "message": "Too many requests"}});
        return json_answer(StatusCode::TOO_MANY_REQUESTS, &body, Some("1"));
    }
    if books.fail > 0 {
        books.fail -= 1;
        seen.status = 500;
        books.seen.push(seen);
        let body = json!({"error": {"type": "api_error", "message": "An unknown error occurred"}});
        return json_answer(StatusCode::INTERNAL_SERVER_ERROR, &body, None);
    }
    if let Some((_, object)) = books.objects.iter().find(|(path, _)| path == uri.path()) {
        let object = object.clone();
        books.seen.push(seen);
        return json_answer(StatusCode::OK, &object, None);
    }
    if uri.path() == "/v1/webhook_endpoints" {
        books.seen.push(seen);
        let data = books.endpoints.clone();
        let body = json!({"object": "list", "url": "/v1/webhook_endpoints", "has_more": false, "data": data});
        return json_answer(StatusCode::OK, &body, None);
    }
    if let Some(id) = uri.path().strip_prefix("/v1/customers/") {
        let found = books
            .customers
            .iter()
            .find(|customer| customer["id"] == id)
            .cloned();
        let status = if found.is_some() { 200 } else { 404 };
        seen.status = status;
        books.seen.push(seen);
        return match found {
            Some(customer) => json_answer(StatusCode::OK, &customer, None),
            None => {
                let body = json!({"error": {"type": "invalid_request_error", "message": format!("No such customer: '{id}'")}});
                json_answer(StatusCode::NOT_FOUND, &body, None)
            }
        };
    }
    if uri.path() != "/v1/events" {
        seen.status = 404;
        books.seen.push(seen);
        let body = json!({"error": {"type": "invalid_request_error", "message": "Unrecognized request URL"}});
        return json_answer(StatusCode::NOT_FOUND, &body, None);
    }
    books.seen.push(seen);
    let param = |name: &str| {
        query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    let since: i64 = param("created[gte]")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let asked: usize = param("limit").and_then(|v| v.parse().ok()).unwrap_or(10);
    let limit = books.page_size.unwrap_or(asked);
    let mut events: Vec<&Value> = books
        .events
        .iter()
        .filter(|event| event["created"].as_i64().unwrap_or(0) >= since)
        .collect();
    events.sort_by_key(|event| std::cmp::Reverse(event["created"].as_i64().unwrap_or(0)));
    if let Some(after) = param("starting_after") {
        let at = events
            .iter()
            .position(|event| event["id"] == after.as_str());
        events = events.split_off(at.map_or(events.len(), |at| at + 1));
    }
    let has_more = events.len() > limit;
    let page: Vec<Value> = events.into_iter().take(limit).cloned().collect();
    let body = json!({"object": "list", "url": "/v1/events", "has_more": has_more, "data": page});
    json_answer(StatusCode::OK, &body, None)
}

/// A JSON answer, with `Retry-After` when given.
fn json_answer(status: StatusCode, body: &Value, retry_after: Option<&str>) -> Response {
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response();
    if let Some(secs) = retry_after {
        if let Ok(value) = secs.parse() {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
    }
    response
}

/// A query string's `key=value` pairs, percent-decoded (`created%5Bgte%5D` too).
fn pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(key), decode(value))
        })
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(byte) => {
                        out.push(byte);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
