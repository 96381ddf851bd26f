//! Loopback destinations for the end-to-end scenarios: an HTTP server and an SMTP
//! server that accept everything and note when each event's delivery arrived.
//!
//! Unlike the test sinks they keep no bodies, only (sequence number, instant) pairs,
//! so a minute at thousands of deliveries a second stays small.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use crate::payload::seq_in;

/// Arrivals noted by a sink, shared with the runner.
#[derive(Clone, Default)]
pub struct Arrivals {
    inner: Arc<Mutex<Vec<(u64, Instant)>>>,
}

impl Arrivals {
    fn note(&self, key: &str) {
        if let Some(seq) = seq_in(key) {
            let now = Instant::now();
            if let Ok(mut list) = self.inner.lock() {
                list.push((seq, now));
            }
        }
    }

    /// How many deliveries arrived so far (duplicates included).
    pub fn count(&self) -> usize {
        self.inner.lock().map(|list| list.len()).unwrap_or(0)
    }

    /// Takes what arrived so far, leaving the sink empty.
    pub fn take(&self) -> Vec<(u64, Instant)> {
        self.inner
            .lock()
            .map(|mut list| std::mem::take(&mut *list))
            .unwrap_or_default()
    }
}

/// Starts an HTTP sink on 127.0.0.1 that answers 200 to everything and notes the
/// `idempotency-key` header.
///
/// # Errors
/// When no port can be bound.
pub async fn http(arrivals: Arrivals) -> anyhow::Result<SocketAddr> {
    http_slow(arrivals, Duration::ZERO).await
}

/// [`http`], taking `delay` over each request after it notes it and before it
/// answers, as a slow receiver that acts on receipt would: deliveries are in
/// flight long enough for a kill to land in the middle of some, and a delivery
/// cut off by the kill counts, so its repeat shows as one.
///
/// # Errors
/// When no port can be bound.
pub async fn http_slow(arrivals: Arrivals, delay: Duration) -> anyhow::Result<SocketAddr> {
    serve(arrivals, move |stream, arrivals| async move {
        let _ = stream.set_nodelay(true);
        let service = service_fn(move |request: Request<Incoming>| {
            let arrivals = arrivals.clone();
            async move {
                let key = request
                    .headers()
                    .get("idempotency-key")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                // Read the body whole, as a real receiver would.
                let _ = request.into_body().collect().await;
                if let Some(key) = key {
                    arrivals.note(&key);
                }
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"ok"))))
            }
        });
        let _ = hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(stream), service)
            .await;
    })
    .await
}

/// Binds a port on 127.0.0.1 and runs `session` on every connection, each in a task
/// of its own.
async fn serve<F, S>(arrivals: Arrivals, session: S) -> anyhow::Result<SocketAddr>
where
    S: Fn(TcpStream, Arrivals) -> F + Send + Sync + 'static,
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(session(stream, arrivals.clone()));
        }
    });
    Ok(addr)
}

/// Starts an SMTP sink on 127.0.0.1 that accepts every message and notes its
/// `X-Herald-Idempotency-Key` header.
///
/// # Errors
/// When no port can be bound.
pub async fn smtp(arrivals: Arrivals) -> anyhow::Result<SocketAddr> {
    serve(arrivals, |stream, arrivals| async move {
        let _ = smtp_session(stream, arrivals).await;
    })
    .await
}

async fn smtp_session(stream: TcpStream, arrivals: Arrivals) -> std::io::Result<()> {
    let _ = stream.set_nodelay(true);
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 bench-sink ESMTP\r\n").await?;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-bench-sink\r\n250 8BITMIME\r\n",
            "HELO" | "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 OK\r\n",
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            "DATA" => {
                write.write_all(b"354 go ahead\r\n").await?;
                let mut key = None;
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    if key.is_none() {
                        if let Some((name, value)) = line.split_once(':') {
                            if name.eq_ignore_ascii_case("x-herald-idempotency-key") {
                                key = Some(value.trim().to_owned());
                            }
                        }
                    }
                }
                if let Some(key) = key {
                    arrivals.note(&key);
                }
                b"250 queued\r\n"
            }
            _ => b"502 not implemented\r\n",
        };
        write.write_all(reply).await?;
    }
}
