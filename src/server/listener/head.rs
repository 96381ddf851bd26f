//! Finds where a request head ends in the bytes read from a connection, so the
//! header timeout stops at the head and an oversized head is refused by herald
//! (with a JSON body) before hyper refuses it (with none).

/// Largest request head accepted, request line included. Stripe's are about 1 KiB.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Most header lines accepted: hyper's own limit, so herald answers first.
pub const MAX_HEADER_LINES: usize = 100;

/// What the bytes fed so far say about the head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scan {
    /// The head has not ended yet.
    More,
    /// The head ended; the rest of the bytes (if any) are body or the next request.
    Done,
    /// The head is longer than [`MAX_HEAD_BYTES`] or has more than [`MAX_HEADER_LINES`].
    TooLarge,
}

/// A byte-at-a-time scanner for the blank line that ends a head.
///
/// Line ends may be CRLF or a bare LF, as httparse accepts both. Empty lines
/// before the request line are skipped, as hyper skips them.
#[derive(Debug, Default)]
pub struct HeadScanner {
    bytes: usize,
    lines: usize,
    started: bool,
    /// 0: inside a line; 1: just after a LF; 2: after LF then CR.
    state: u8,
}

impl HeadScanner {
    /// Feeds the next bytes read.
    pub fn feed(&mut self, data: &[u8]) -> Scan {
        for &byte in data {
            if !self.started {
                if byte == b'\r' || byte == b'\n' {
                    continue;
                }
                self.started = true;
            }
            self.bytes += 1;
            if self.bytes > MAX_HEAD_BYTES {
                return Scan::TooLarge;
            }
            match (self.state, byte) {
                (1 | 2, b'\n') => return Scan::Done,
                (1, b'\r') => self.state = 2,
                (_, b'\n') => {
                    self.lines += 1;
                    // The request line plus the header lines.
                    if self.lines > MAX_HEADER_LINES + 1 {
                        return Scan::TooLarge;
                    }
                    self.state = 1;
                }
                _ => self.state = 0,
            }
        }
        Scan::More
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_end_across_reads() {
        let head = b"POST /webhooks/stripe HTTP/1.1\r\nHost: x\r\n\r\n{}";
        for split in 0..head.len() {
            let mut scanner = HeadScanner::default();
            let first = scanner.feed(&head[..split]);
            let result = if first == Scan::More {
                scanner.feed(&head[split..])
            } else {
                first
            };
            assert_eq!(result, Scan::Done, "split at {split}");
        }
    }

    #[test]
    fn accepts_bare_line_feeds_and_leading_blank_lines() {
        assert_eq!(
            HeadScanner::default().feed(b"\r\n\r\nGET / HTTP/1.1\nHost: x\n\n"),
            Scan::Done
        );
        assert_eq!(
            HeadScanner::default().feed(b"GET / HTTP/1.1\r\nHost: x\r\n"),
            Scan::More
        );
    }

    #[test]
    fn refuses_long_heads_and_many_lines() {
        let long = format!(
            "GET / HTTP/1.1\r\nX: {}\r\n\r\n",
            "a".repeat(MAX_HEAD_BYTES)
        );
        assert_eq!(HeadScanner::default().feed(long.as_bytes()), Scan::TooLarge);
        let mut many = "GET / HTTP/1.1\r\n".to_owned();
        many.push_str(&"X: y\r\n".repeat(MAX_HEADER_LINES));
        many.push_str("\r\n");
        assert_eq!(HeadScanner::default().feed(many.as_bytes()), Scan::Done);
        let mut too_many = "GET / HTTP/1.1\r\n".to_owned();
        too_many.push_str(&"X: y\r\n".repeat(MAX_HEADER_LINES + 1));
        too_many.push_str("\r\n");
        assert_eq!(
            HeadScanner::default().feed(too_many.as_bytes()),
            Scan::TooLarge
        );
    }
}
