//! The accept loop: each connection gets a slot under the cap, the header-read
//! and idle timeouts, and hyper's HTTP/1.1; on stop, accepting ends and the
//! requests in flight finish.

mod head;
mod limits;
mod progress;
mod registry;
mod service;
mod watched;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, warn};

pub use self::head::MAX_HEAD_BYTES;
pub use self::limits::{
    default_max_connections, exposure_warning, raise_descriptor_limit, room_for,
    DEFAULT_MAX_CONNECTIONS, RESERVED_DESCRIPTORS,
};
pub use self::progress::BodyTimedOut;
use self::registry::{Admission, Registry, Ticket};
use self::service::Counted;
use self::watched::Watched;
pub use self::watched::{Timeouts, CLOSED_METRIC};
use super::refusal::Refusal;
use crate::metrics::Metrics;

/// Connections the kernel completes and holds for `accept`. tokio's default is
/// 1024; a burst larger than the queue has its SYNs dropped, and each client then
/// waits a second or more to retry. The kernel caps it at `net.core.somaxconn`.
const ACCEPT_BACKLOG: u32 = 4096;

/// How long the loop waits after `accept` fails (e.g. out of descriptors) before
/// trying again: the failure repeats at once otherwise.
const ACCEPT_RETRY: Duration = Duration::from_millis(50);

/// The limits one listener enforces.
#[derive(Debug, Clone, Copy)]
pub struct ListenerSettings {
    pub timeouts: Timeouts,
    /// Connections open at once.
    pub max_connections: usize,
}

/// Binds `addr` with a deep accept queue.
///
/// # Errors
/// When the address cannot be bound.
pub fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    // As `TcpListener::bind` does: a restart can bind while old connections linger.
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(ACCEPT_BACKLOG)
}

/// Serves `router` on `listener` until `stop` is cancelled, then stops accepting
/// and returns once every connection has closed (requests in flight finish; idle
/// connections close at once).
///
/// # Errors
/// Never at present; `accept` failures are logged and retried.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    settings: ListenerSettings,
    metrics: Arc<Metrics>,
    stop: CancellationToken,
) -> std::io::Result<()> {
    let registry = Registry::new(settings.max_connections);
    let connections = TaskTracker::new();
    let mut http = http1::Builder::new();
    // herald's own header timeout runs in `Watched`; hyper's would need a timer.
    http.header_read_timeout(None);
    let full = Refusal::ConnectionLimit.raw_response();
    let refused = AtomicU64::new(0);
    loop {
        let (stream, peer) = tokio::select! {
            () = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    warn!(error = %err, "cannot accept a connection");
                    tokio::time::sleep(ACCEPT_RETRY).await;
                    continue;
                }
            },
        };
        let ticket = match registry.admit() {
            Admission::Admitted(ticket) => ticket,
            Admission::Displaced(ticket) => {
                metrics.connection_closed("displaced");
                ticket
            }
            Admission::Refused => {
                refuse(&stream, &full, &metrics, &refused, settings.max_connections);
                continue;
            }
        };
        let connection = Connection {
            http: http.clone(),
            router: router.clone(),
            metrics: metrics.clone(),
            timeouts: settings.timeouts,
            stop: stop.clone(),
        };
        connections.spawn(connection.serve(stream, peer, ticket));
    }
    drop(listener);
    connections.close();
    connections.wait().await;
    Ok(())
}

/// Answers 503 on a connection over the cap and closes it, without a task.
fn refuse(stream: &TcpStream, answer: &[u8], metrics: &Metrics, refused: &AtomicU64, max: usize) {
    Refusal::ConnectionLimit.count(metrics);
    // Best effort: a new socket's send buffer takes the whole answer.
    let _ = stream.try_write(answer);
    let count = refused.fetch_add(1, Ordering::Relaxed) + 1;
    // A flood would log a line per connection; powers of two say it is going on.
    if count.is_power_of_two() {
        warn!(
            max_connections = max,
            refused = count,
            "connection refused: every connection has a request in flight"
        );
    }
}

/// What each connection's task needs.
struct Connection {
    http: http1::Builder,
    router: Router,
    metrics: Arc<Metrics>,
    timeouts: Timeouts,
    stop: CancellationToken,
}

impl Connection {
    async fn serve(self, stream: TcpStream, peer: SocketAddr, ticket: Ticket) {
        let slot = ticket.slot().clone();
        let io = Watched::new(stream, slot.clone(), self.metrics, self.timeouts);
        let service = Counted::new(self.router, slot.clone(), self.timeouts.body, peer);
        let connection = self.http.serve_connection(TokioIo::new(io), service);
        tokio::pin!(connection);
        let mut stopping = false;
        loop {
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(err) = result {
                        debug!(error = %err, "connection ended");
                    }
                    break;
                }
                () = self.stop.cancelled(), if !stopping => {
                    connection.as_mut().graceful_shutdown();
                    stopping = true;
                }
                () = slot.evicted(), if !stopping => {
                    debug!("connection closed to make room for a new one");
                    break;
                }
            }
        }
        drop(ticket);
    }
}
