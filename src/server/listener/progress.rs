//! A request body as the handlers read it: each chunk is counted on the connection's
//! slot, so the cap can tell a trickled body from a request at work, and the body has
//! its own deadline, so a connection that sends a head and then a byte now and then
//! holds its slot for `server.body_read_timeout_secs`, not the whole request timeout.

use std::future::Future as _;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::{Body, Bytes, Frame, Incoming, SizeHint};
use tokio::time::Sleep;

use super::registry::Slot;

/// The body did not arrive within its deadline.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {0:?}")]
pub struct BodyTimedOut(pub Duration);

/// `Incoming`, counted on its connection's slot and cut off at its deadline.
pub struct Progress {
    inner: Incoming,
    slot: Arc<Slot>,
    limit: Duration,
    deadline: Pin<Box<Sleep>>,
    ended: bool,
}

impl Progress {
    /// Watches `inner`, whose head has just been read, for at most `limit`.
    pub fn new(inner: Incoming, slot: Arc<Slot>, limit: Duration) -> Self {
        let ended = inner.is_end_stream();
        if ended {
            slot.body_read();
        }
        Self {
            inner,
            slot,
            limit,
            deadline: Box::pin(tokio::time::sleep(limit)),
            ended,
        }
    }

    fn end(&mut self) {
        if !self.ended {
            self.ended = true;
            self.slot.body_read();
        }
    }
}

impl Drop for Progress {
    /// A handler that answers without reading the body (a refusal from its head) is
    /// not reading it any more either.
    fn drop(&mut self) {
        self.end();
    }
}

impl Body for Progress {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if this.ended {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.slot.body_progress(data.len());
                }
                if this.inner.is_end_stream() {
                    this.end();
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(err))) => {
                this.end();
                Poll::Ready(Some(Err(err.into())))
            }
            Poll::Ready(None) => {
                this.end();
                Poll::Ready(None)
            }
            Poll::Pending => match this.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    this.end();
                    Poll::Ready(Some(Err(Box::new(BodyTimedOut(this.limit)))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.ended || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
