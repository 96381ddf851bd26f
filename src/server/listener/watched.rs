//! A TCP stream that enforces the header-read and idle timeouts on its reads.
//!
//! hyper has one timer for both (it runs from the moment it waits for a head),
//! and writes its own 431 with an empty body; herald does both here instead so
//! the idle wait and the head have their own limits and every refusal has a
//! JSON body (decision record 0057).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

use super::head::{HeadScanner, Scan};
use super::registry::Slot;
use crate::metrics::Metrics;
use crate::server::refusal::Refusal;

/// The counter for connections herald closed without an answer, labelled `reason`.
pub const CLOSED_METRIC: &str = "herald_connections_closed_total";

/// How long a refused connection is drained before it is closed, so the client
/// reads the answer instead of a reset.
const LINGER: Duration = Duration::from_secs(2);

/// The two limits.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// From the connection's start, or a kept-alive connection's first byte, to the end of the head.
    pub header: Duration,
    /// From an answer to the next request's first byte.
    pub idle: Duration,
    /// From a request's head to the end of its body (a `Progress` body enforces it).
    pub body: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Reading a head, against the header timeout.
    Head,
    /// A head was read; no timer until its request is answered.
    Request { answered_after: u64 },
    /// Answered; waiting for the next request's first byte.
    Idle,
    /// Refused: the answer is written, input is drained until EOF or the linger ends.
    Lingering,
}

/// The stream hyper reads from and writes to.
pub struct Watched {
    stream: TcpStream,
    slot: Arc<Slot>,
    metrics: Arc<Metrics>,
    timeouts: Timeouts,
    phase: Phase,
    scanner: HeadScanner,
    deadline: Pin<Box<Sleep>>,
}

impl Watched {
    /// Watches `stream`, accepted just now.
    pub fn new(
        stream: TcpStream,
        slot: Arc<Slot>,
        metrics: Arc<Metrics>,
        timeouts: Timeouts,
    ) -> Self {
        Self {
            stream,
            slot,
            metrics,
            timeouts,
            phase: Phase::Head,
            scanner: HeadScanner::default(),
            deadline: Box::pin(tokio::time::sleep(timeouts.header)),
        }
    }

    fn set_deadline(&mut self, after: Duration) {
        self.deadline.as_mut().reset(Instant::now() + after);
    }

    /// Writes `refusal` (best effort: it is small and the socket buffer is empty),
    /// stops writing and starts draining.
    fn refuse(&mut self, refusal: Refusal, cx: &mut Context<'_>) {
        refusal.count(&self.metrics);
        let _ = self.stream.try_write(&refusal.raw_response());
        // The FIN follows the answer (tokio's TCP shutdown is immediate); the drain
        // in `poll_linger` keeps a reset from overtaking it.
        let _ = Pin::new(&mut self.stream).poll_shutdown(cx);
        self.phase = Phase::Lingering;
        self.set_deadline(LINGER);
    }

    /// Moves between phases on what the handlers did since the last read.
    fn follow_requests(&mut self) {
        let (started, finished) = self.slot.requests();
        match self.phase {
            Phase::Request { answered_after } if finished >= answered_after => {
                self.phase = Phase::Idle;
                self.set_deadline(self.timeouts.idle);
            }
            // hyper found a pipelined head in its buffer before this stream saw it.
            Phase::Idle | Phase::Head if started > finished => {
                self.phase = Phase::Request {
                    answered_after: started,
                };
            }
            _ => {}
        }
    }

    fn on_bytes(&mut self, data: &[u8]) -> Option<Refusal> {
        if self.phase == Phase::Idle {
            self.phase = Phase::Head;
            self.scanner = HeadScanner::default();
            self.set_deadline(self.timeouts.header);
        }
        if self.phase != Phase::Head {
            return None;
        }
        match self.scanner.feed(data) {
            Scan::More => None,
            Scan::Done => {
                let (started, _) = self.slot.requests();
                self.phase = Phase::Request {
                    answered_after: started + 1,
                };
                None
            }
            Scan::TooLarge => Some(Refusal::HeadersTooLarge),
        }
    }

    /// The read when the timer is up: refuse a slow head, close an idle connection.
    fn on_deadline(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.phase {
            Phase::Head => {
                self.refuse(Refusal::HeaderTimeout, cx);
                Poll::Pending
            }
            Phase::Idle => {
                self.metrics.connection_closed("idle_timeout");
                Poll::Ready(Err(io::ErrorKind::TimedOut.into()))
            }
            Phase::Lingering => Poll::Ready(Err(io::ErrorKind::TimedOut.into())),
            Phase::Request { .. } => Poll::Pending,
        }
    }

    fn poll_linger(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut scratch = [0u8; 1024];
        loop {
            let mut drain = ReadBuf::new(&mut scratch);
            match Pin::new(&mut self.stream).poll_read(cx, &mut drain) {
                Poll::Ready(Ok(())) if drain.filled().is_empty() => {
                    return Poll::Ready(Err(io::ErrorKind::ConnectionAborted.into()))
                }
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(err)) => return Poll::Ready(Err(err)),
                Poll::Pending => {
                    return match self.deadline.as_mut().poll(cx) {
                        Poll::Ready(()) => Poll::Ready(Err(io::ErrorKind::TimedOut.into())),
                        Poll::Pending => Poll::Pending,
                    }
                }
            }
        }
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.phase == Phase::Lingering {
            return this.poll_linger(cx);
        }
        this.follow_requests();
        let before = buf.filled().len();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if let Some(refusal) = this.on_bytes(&buf.filled()[before..]) {
                    // Nothing of this head reaches hyper.
                    buf.set_filled(before);
                    this.refuse(refusal, cx);
                    return this.poll_linger(cx);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(err)) => Poll::Ready(Err(err)),
            Poll::Pending => match this.phase {
                Phase::Head | Phase::Idle => match this.deadline.as_mut().poll(cx) {
                    Poll::Ready(()) => match this.on_deadline(cx) {
                        Poll::Pending => this.poll_linger(cx),
                        ready @ Poll::Ready(_) => ready,
                    },
                    Poll::Pending => Poll::Pending,
                },
                _ => Poll::Pending,
            },
        }
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        // hyper flushes the stream once its buffer is written: an answered request's
        // response is out, and the idle wait starts. hyper does not read again until
        // the socket has bytes, so the timer gets the task's waker here.
        if let Phase::Request { answered_after } = this.phase {
            let (started, finished) = this.slot.requests();
            if started > finished && finished >= answered_after {
                // hyper took a pipelined request from its buffer: that one is in flight now.
                this.phase = Phase::Request {
                    answered_after: started,
                };
            } else if finished >= answered_after {
                this.phase = Phase::Idle;
                this.set_deadline(this.timeouts.idle);
                if this.deadline.as_mut().poll(cx).is_ready() {
                    cx.waker().wake_by_ref();
                }
            }
        }
        Pin::new(&mut this.stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
