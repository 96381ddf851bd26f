//! Bounded capture of a child's stdout and stderr, and the short excerpt of it that goes
//! into an attempt record.
//!
//! A child that writes more than the pipe holds blocks until someone reads, so both pipes
//! are read to their end; only the last [`KEEP`] bytes of each are kept, because the end
//! of the output is where programs explain why they failed.

use tokio::io::{AsyncRead, AsyncReadExt as _};

/// Bytes of each stream kept in memory.
pub(crate) const KEEP: usize = 4 * 1024;
/// Characters of output quoted in an [`Outcome`](herald_plugin_api::Outcome) reason.
pub(crate) const EXCERPT_CHARS: usize = 500;

/// The last [`KEEP`] bytes written to one stream.
#[derive(Debug, Default)]
pub(crate) struct Tail {
    buf: Vec<u8>,
}

impl Tail {
    /// Appends `chunk`, forgetting the oldest bytes beyond [`KEEP`].
    pub(crate) fn push(&mut self, chunk: &[u8]) {
        self.buf.extend_from_slice(chunk);
        // Trim only once twice the limit is reached, so trimming stays amortized O(1).
        if self.buf.len() >= 2 * KEEP {
            let excess = self.buf.len() - KEEP;
            self.buf.drain(..excess);
        }
    }

    /// At most the last [`EXCERPT_CHARS`] characters, trimmed; invalid UTF-8 is replaced.
    pub(crate) fn excerpt(&self) -> String {
        let start = self.buf.len().saturating_sub(KEEP);
        let text = String::from_utf8_lossy(&self.buf[start..]);
        let text = text.trim();
        let skip = text.chars().count().saturating_sub(EXCERPT_CHARS);
        text.chars().skip(skip).collect()
    }
}

/// Reads `stream` to its end (or first error) into `tail`.
pub(crate) async fn drain(stream: Option<impl AsyncRead + Unpin>, tail: &mut Tail) {
    let Some(mut stream) = stream else { return };
    let mut chunk = [0_u8; 8 * 1024];
    loop {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(read) => tail.push(&chunk[..read]),
        }
    }
}

/// The excerpt for a reason: stderr, or stdout when stderr is empty.
pub(crate) fn excerpt(stdout: &Tail, stderr: &Tail) -> String {
    let err = stderr.excerpt();
    if err.is_empty() {
        stdout.excerpt()
    } else {
        err
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_end() {
        let mut tail = Tail::default();
        for _ in 0..10_000 {
            tail.push(b"0123456789");
        }
        tail.push(b"the end\n");
        assert!(tail.buf.len() < 2 * KEEP);
        let excerpt = tail.excerpt();
        assert_eq!(excerpt.chars().count(), EXCERPT_CHARS);
        assert!(excerpt.ends_with("the end"));
    }

    #[test]
    fn prefers_stderr_and_falls_back_to_stdout() {
        let mut out = Tail::default();
        let mut err = Tail::default();
        out.push(b"from stdout\n");
        assert_eq!(excerpt(&out, &err), "from stdout");
        err.push("é from stderr\n".as_bytes());
        assert_eq!(excerpt(&out, &err), "é from stderr");
    }
}
