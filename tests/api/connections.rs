//! Connection hygiene: slow and idle connections are cut off, the cap holds, and
//! every refusal has the usual JSON body and a count in `/metrics`.

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{base_config, spawn_app_with, TestApp};

/// Long enough for any close these tests wait for, on a loaded machine.
const DEADLINE: Duration = Duration::from_secs(30);

/// A webhook head whose signature header passes every check but the body's (a fresh
/// timestamp, a `v1` that matches nothing), announcing 100 bytes herald will wait for.
fn webhook_head() -> String {
    let now = herald::clock::now_ms() / 1000;
    format!(
        "POST /webhooks/stripe HTTP/1.1\r\nhost: herald\r\ncontent-type: application/json\r\n\
         stripe-signature: t={now},v1=00\r\ncontent-length: 100\r\n"
    )
}

/// herald with these extra `[server]` lines.
async fn app_with_server(lines: &str) -> TestApp {
    let config = base_config().replace("[server]\n", &format!("[server]\n{lines}\n"));
    spawn_app_with(&config).await
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.addr).await.expect("connects")
}

/// Everything the server sends until it closes the connection.
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    tokio::time::timeout(DEADLINE, stream.read_to_end(&mut received))
        .await
        .expect("herald closes the connection in time")
        .expect("read");
    String::from_utf8_lossy(&received).into_owned()
}

/// The status and JSON body of one HTTP answer.
fn answer(raw: &str) -> (u16, Value) {
    let (head, body) = raw
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("{raw:?}"));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("{head:?}"));
    let body = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body:?}"));
    (status, body)
}

fn refusals(app: &TestApp, reason: &str) -> u64 {
    app.metrics
        .get("herald_http_refusals_total", &[("reason", reason)])
}

/// What `/metrics` shows, read over HTTP as an operator would.
async fn scrape(app: &TestApp) -> String {
    reqwest::get(app.url("/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text")
}

#[tokio::test]
async fn a_head_sent_halfway_is_answered_408_and_closed() {
    let app = app_with_server("header_read_timeout_secs = 1").await;
    let mut slow = connect(&app).await;
    slow.write_all(b"POST /webhooks/stripe HTTP/1.1\r\nhost: herald\r\n")
        .await
        .expect("write");

    let (status, body) = answer(&read_until_closed(&mut slow).await);
    assert_eq!(status, 408);
    assert_eq!(body["reason"], "header_timeout");
    assert_eq!(refusals(&app, "header_timeout"), 1);
    assert!(scrape(&app)
        .await
        .contains("herald_http_refusals_total{reason=\"header_timeout\"} 1"));
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_by_the_header_timeout() {
    let app = app_with_server("header_read_timeout_secs = 1").await;
    let mut silent = connect(&app).await;
    let (status, _) = answer(&read_until_closed(&mut silent).await);
    assert_eq!(status, 408);
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let app = app_with_server("idle_timeout_secs = 1").await;
    let mut client = connect(&app).await;
    client
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: herald\r\n\r\n")
        .await
        .expect("write");

    let received = read_until_closed(&mut client).await;
    // One answer, then a close with nothing unasked for after it.
    assert!(received.starts_with("HTTP/1.1 200"), "{received:?}");
    assert_eq!(received.matches("HTTP/1.1").count(), 1, "{received:?}");
    assert_eq!(
        app.metrics.get(
            "herald_connections_closed_total",
            &[("reason", "idle_timeout")]
        ),
        1
    );
}

#[tokio::test]
async fn a_kept_alive_connection_serves_a_second_request_within_the_idle_timeout() {
    let app = app_with_server("idle_timeout_secs = 60\nheader_read_timeout_secs = 60").await;
    let mut client = connect(&app).await;
    let request = b"GET /healthz HTTP/1.1\r\nhost: herald\r\n\r\n";
    let mut seen = String::new();
    for expected in 1..=2 {
        client.write_all(request).await.expect("write");
        while seen.matches("HTTP/1.1 200").count() < expected {
            let mut chunk = [0u8; 1024];
            let read = tokio::time::timeout(DEADLINE, client.read(&mut chunk))
                .await
                .expect("an answer in time")
                .expect("read");
            assert_ne!(read, 0, "closed after {seen:?}");
            seen.push_str(&String::from_utf8_lossy(&chunk[..read]));
        }
    }
}

#[tokio::test]
async fn headers_too_large_are_answered_431_with_a_json_body() {
    let app = app_with_server("").await;
    let mut client = connect(&app).await;
    let head = format!(
        "GET /healthz HTTP/1.1\r\nhost: herald\r\nx-padding: {}\r\n\r\n",
        "a".repeat(herald::server::listener::MAX_HEAD_BYTES)
    );
    client.write_all(head.as_bytes()).await.expect("write");

    let (status, body) = answer(&read_until_closed(&mut client).await);
    assert_eq!(status, 431);
    assert_eq!(body["reason"], "headers_too_large");
    assert_eq!(refusals(&app, "headers_too_large"), 1);
}

#[tokio::test]
async fn a_request_past_its_deadline_is_answered_503_with_a_json_body() {
    let app = app_with_server("request_timeout_secs = 1").await;
    let mut client = connect(&app).await;
    // A tenth of the body it announces: the handler waits for the rest.
    client
        .write_all(format!("{}\r\n{{\"id\":\"1\"}}", webhook_head()).as_bytes())
        .await
        .expect("write");

    let (status, body) = answer(&read_until_closed(&mut client).await);
    assert_eq!(status, 503);
    assert_eq!(body["reason"], "request_timeout");
    assert_eq!(refusals(&app, "request_timeout"), 1);
}

/// A connection whose webhook handler has started and waits for the rest of its body.
async fn busy_connection(app: &TestApp) -> TcpStream {
    let mut stream = connect(app).await;
    stream
        .write_all(format!("{}expect: 100-continue\r\n\r\n", webhook_head()).as_bytes())
        .await
        .expect("write");
    // hyper sends 100 Continue once the handler reads the body: it is in flight.
    let mut continued = [0u8; 25];
    tokio::time::timeout(DEADLINE, stream.read_exact(&mut continued))
        .await
        .expect("100 Continue in time")
        .expect("read");
    assert!(continued.starts_with(b"HTTP/1.1 100"), "{continued:?}");
    stream.write_all(b"{\"id\":").await.expect("write");
    stream
}

/// Before, a connection trickling its body counted as busy and was never displaced: two of
/// them at `max_connections = 2` kept every webhook out until the request timeout.
#[tokio::test]
async fn at_the_cap_the_body_that_came_least_far_makes_room_for_a_webhook() {
    let app = app_with_server("max_connections = 2\nrequest_timeout_secs = 120").await;
    let mut least = busy_connection(&app).await;
    let mut further = busy_connection(&app).await;
    further.write_all(b"\"evt_further\",").await.expect("write");
    // Whether or not herald has read those bytes yet, `least` is the one to go: it
    // has fewer body bytes, or as many and is older.
    let response = app.post_fixture("payment_intent.succeeded").await;
    assert_eq!(response.status(), 200);
    // The one with the fewest body bytes was closed without an answer to make room.
    assert_eq!(read_until_closed(&mut least).await, "");
    assert_eq!(
        app.metrics.get(
            "herald_connections_closed_total",
            &[("reason", "displaced")]
        ),
        1
    );
    // The other still has its slot and is answered when its body is whole.
    further.write_all(&[b' '; 80]).await.expect("the rest");
    let mut start = [0u8; 12];
    tokio::time::timeout(DEADLINE, further.read_exact(&mut start))
        .await
        .expect("an answer in time")
        .expect("read");
    assert_eq!(&start, b"HTTP/1.1 401");
}

/// A head that condemns itself is answered before its body is read: a connection
/// cannot hold its slot by announcing a body and sending none.
#[tokio::test]
async fn what_the_head_condemns_is_refused_before_the_body_is_read() {
    let app = app_with_server("body_limit_bytes = 1000").await;
    let now = herald::clock::now_ms() / 1000;
    let head = |signature: &str, length: u64| {
        format!(
            "POST /webhooks/stripe HTTP/1.1\r\nhost: herald\r\n{signature}content-length: {length}\r\n\r\n"
        )
    };
    for (request, status, reason) in [
        (head("", 100), 400, "missing_header"),
        (
            head("stripe-signature: v1=00\r\n", 100),
            400,
            "missing_timestamp",
        ),
        (
            head("stripe-signature: t=soon,v1=00\r\n", 100),
            400,
            "bad_timestamp",
        ),
        (
            head("stripe-signature: t=1,v1=00\r\n", 100),
            401,
            "outside_tolerance",
        ),
        (
            head(&format!("stripe-signature: t={now},v1=00\r\n"), 1001),
            413,
            "too_large",
        ),
    ] {
        let mut client = connect(&app).await;
        // The head only: the body never comes, and the answer must not wait for it.
        client.write_all(request.as_bytes()).await.expect("write");
        let mut received = Vec::new();
        let mut chunk = [0u8; 4096];
        let raw = loop {
            let read = tokio::time::timeout(DEADLINE, client.read(&mut chunk))
                .await
                .expect("answered without the body")
                .expect("read");
            received.extend_from_slice(&chunk[..read]);
            let text = String::from_utf8_lossy(&received).into_owned();
            if read == 0
                || text
                    .split_once("\r\n\r\n")
                    .is_some_and(|(_, body)| body.ends_with('}'))
            {
                break text;
            }
        };
        let (got, body) = answer(&raw);
        assert_eq!(
            (got, body["reason"].as_str()),
            (status, Some(reason)),
            "{request:?}"
        );
    }
}

/// A body that trickles in slower than `body_read_timeout_secs` is cut off with a 408,
/// long before the request timeout.
#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_is_answered_408() {
    let app = app_with_server("body_read_timeout_secs = 1\nrequest_timeout_secs = 120").await;
    let mut slow = busy_connection(&app).await;
    let (status, body) = answer(&read_until_closed(&mut slow).await);
    assert_eq!(status, 408, "{body}");
    assert_eq!(body["reason"], "body_timeout");
}

#[tokio::test]
async fn at_the_cap_a_new_connection_displaces_the_oldest_idle_one() {
    let app = app_with_server("max_connections = 2").await;
    let mut oldest = connect(&app).await;
    oldest
        .write_all(b"POST /webhooks/stripe HTTP/1.1\r\n")
        .await
        .expect("write");
    let mut newer = connect(&app).await;
    newer
        .write_all(b"POST /webhooks/stripe HTTP/1.1\r\n")
        .await
        .expect("write");

    let response = app.post_fixture("payment_intent.succeeded").await;
    assert_eq!(response.status(), 200);
    // Closed without an answer, to make room.
    assert_eq!(read_until_closed(&mut oldest).await, "");
    assert_eq!(
        app.metrics.get(
            "herald_connections_closed_total",
            &[("reason", "displaced")]
        ),
        1
    );
    // The newer one still has its slot (the test's own client took the oldest's).
    newer
        .write_all(b"host: herald\r\n\r\n")
        .await
        .expect("write");
    let mut start = [0u8; 12];
    tokio::time::timeout(DEADLINE, newer.read_exact(&mut start))
        .await
        .expect("an answer in time")
        .expect("read");
    assert_eq!(&start, b"HTTP/1.1 400");
}

#[test]
fn the_limits_have_defaults_and_zero_is_refused_by_name() {
    let path = std::path::Path::new("/etc/herald/config.toml");
    let env = crate::helpers::test_env();
    let config = herald::Config::from_toml(&base_config(), path, &env).expect("valid");
    assert_eq!(
        config.restart.server.header_read_timeout,
        Duration::from_secs(10)
    );
    assert_eq!(config.restart.server.idle_timeout, Duration::from_secs(30));
    assert_eq!(config.restart.server.max_connections, None);

    let zeros = base_config().replace(
        "[server]\n",
        "[server]\nheader_read_timeout_secs = 0\nidle_timeout_secs = 0\nmax_connections = 0\n",
    );
    let message = match herald::Config::from_toml(&zeros, path, &env) {
        Ok(_) => panic!("zero limits were accepted"),
        Err(err) => err.to_string(),
    };
    for key in [
        "server.header_read_timeout_secs",
        "server.idle_timeout_secs",
        "server.max_connections",
    ] {
        assert!(message.contains(key), "{key} not named in {message}");
    }
}

#[tokio::test]
async fn on_stop_a_request_in_flight_finishes_and_new_connections_are_not_served() {
    let app = app_with_server("").await;
    let mut in_flight = busy_connection(&app).await;
    app.stop();
    // Once the listener has stopped, a new connection is refused or closed unserved.
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        match TcpStream::connect(app.addr).await {
            Err(_) => break,
            Ok(mut late) => {
                let _ = late
                    .write_all(b"GET /healthz HTTP/1.1\r\nhost: herald\r\n\r\n")
                    .await;
                if read_until_closed(&mut late).await.is_empty() {
                    break;
                }
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still serving after stop"
        );
        tokio::task::yield_now().await;
    }
    // The request that was in flight still gets its answer (its signature is bad: 401).
    in_flight
        .write_all(&[b' '; 94])
        .await
        .expect("the rest of the body");
    let received = read_until_closed(&mut in_flight).await;
    assert!(received.starts_with("HTTP/1.1 401"), "{received:?}");
}
