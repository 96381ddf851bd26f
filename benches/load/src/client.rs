//! The load generator: keep-alive HTTP/1.1 connections posting signed webhooks,
//! either as fast as answers come (fixed concurrency) or on a schedule (fixed rate).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::task::JoinSet;

use crate::payload::Payloads;

/// How requests are paced.
#[derive(Debug, Clone, Copy)]
pub enum Pace {
    /// This many connections, each sending its next request when the last is answered.
    Concurrency(usize),
    /// This many requests a second, spread over `connections`; a request that waits
    /// for a busy connection counts its wait (no coordinated omission).
    Rate { per_sec: u64, connections: usize },
}

/// What one run measured.
pub struct LoadReport {
    pub started: Instant,
    pub ok: u64,
    pub errors: u64,
    pub elapsed: Duration,
    /// Acknowledgement latency in microseconds.
    pub latency: Histogram<u64>,
    /// When each acknowledged event (by sequence number) got its 200.
    pub acked: Vec<(u64, Instant)>,
    /// The first error seen, to say why.
    pub first_error: Option<String>,
}

impl LoadReport {
    pub fn per_sec(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Per-connection tallies, merged at the end.
struct Tally {
    ok: u64,
    errors: u64,
    latency: Histogram<u64>,
    acked: Vec<(u64, Instant)>,
    first_error: Option<String>,
}

impl Tally {
    fn new() -> Self {
        Self {
            ok: 0,
            errors: 0,
            // 1 µs to 60 s, 3 significant digits.
            latency: Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid bounds"),
            acked: Vec::new(),
            first_error: None,
        }
    }

    fn error(&mut self, message: String) {
        self.errors += 1;
        self.first_error.get_or_insert(message);
    }
}

async fn connect(addr: SocketAddr) -> Result<SendRequest<Full<Bytes>>, String> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(connection);
    Ok(sender)
}

/// Sends one webhook and waits for the whole answer; `Ok(seq)` on a 200.
async fn post_one(
    sender: &mut SendRequest<Full<Bytes>>,
    addr: SocketAddr,
    path: &str,
    payloads: &Payloads,
) -> Result<u64, String> {
    let signed = payloads.next();
    let request = Request::post(path)
        .header("host", addr.to_string())
        .header("content-type", "application/json")
        .header("stripe-signature", signed.signature)
        .body(Full::new(signed.body))
        .map_err(|e| e.to_string())?;
    sender
        .ready()
        .await
        .map_err(|e| format!("connection: {e}"))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("request: {e}"))?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("body: {e}"))?
        .to_bytes();
    if status.is_success() {
        Ok(signed.seq)
    } else {
        Err(format!(
            "{status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        ))
    }
}

/// Runs load against `addr` + `path` for `duration` and reports what it measured.
pub async fn run(
    addr: SocketAddr,
    path: &str,
    payloads: Arc<Payloads>,
    pace: Pace,
    duration: Duration,
) -> LoadReport {
    let start = Instant::now();
    let deadline = start + duration;
    let (connections, rate) = match pace {
        Pace::Concurrency(n) => (n.max(1), None),
        Pace::Rate {
            per_sec,
            connections,
        } => (connections.max(1), Some(per_sec.max(1))),
    };
    let slot = Arc::new(AtomicU64::new(0));
    let mut tasks = JoinSet::new();
    for _ in 0..connections {
        let payloads = payloads.clone();
        let path = path.to_owned();
        let slot = slot.clone();
        tasks.spawn(async move {
            let mut tally = Tally::new();
            let mut sender = None;
            loop {
                let began = match rate {
                    None => Instant::now(),
                    Some(per_sec) => {
                        let n = slot.fetch_add(1, Ordering::Relaxed);
                        let due = start + Duration::from_nanos(n * 1_000_000_000 / per_sec);
                        if due >= deadline {
                            break;
                        }
                        tokio::time::sleep_until(due.into()).await;
                        // The timer wakes up to a millisecond late; only a wait beyond
                        // that is the server's doing and is counted.
                        let now = Instant::now();
                        if now.duration_since(due) > Duration::from_millis(2) {
                            due
                        } else {
                            now
                        }
                    }
                };
                if rate.is_none() && began >= deadline {
                    break;
                }
                let connection = match sender.as_mut() {
                    Some(sender) => sender,
                    None => match connect(addr).await {
                        Ok(new) => sender.insert(new),
                        Err(message) => {
                            tally.error(message);
                            tokio::time::sleep(Duration::from_millis(10)).await;
                            continue;
                        }
                    },
                };
                match post_one(connection, addr, &path, &payloads).await {
                    Ok(seq) => {
                        let done = Instant::now();
                        tally.ok += 1;
                        let micros = u64::try_from(done.duration_since(began).as_micros())
                            .unwrap_or(u64::MAX);
                        tally.latency.saturating_record(micros.max(1));
                        tally.acked.push((seq, done));
                    }
                    Err(message) => {
                        tally.error(message);
                        sender = None;
                    }
                }
            }
            tally
        });
    }
    let mut total = Tally::new();
    while let Some(joined) = tasks.join_next().await {
        let Ok(tally) = joined else { continue };
        total.ok += tally.ok;
        total.errors += tally.errors;
        let _ = total.latency.add(&tally.latency);
        total.acked.extend(tally.acked);
        if total.first_error.is_none() {
            total.first_error = tally.first_error;
        }
    }
    LoadReport {
        started: start,
        ok: total.ok,
        errors: total.errors,
        elapsed: start.elapsed(),
        latency: total.latency,
        acked: total.acked,
        first_error: total.first_error,
    }
}
