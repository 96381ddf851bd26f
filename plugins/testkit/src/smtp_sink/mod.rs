//! A tiny SMTP server for tests: listens on 127.0.0.1, accepts what it is sent and
//! records each message, so a test can await real deliveries instead of sleeping.
//!
//! It speaks just enough ESMTP for lettre: EHLO/HELO, AUTH PLAIN and LOGIN (any
//! password is accepted; the user name is recorded), MAIL, RCPT, DATA (with
//! dot-unstuffing), RSET, NOOP and QUIT, for any number of messages per connection and
//! any number of connections. No TLS.

mod auth;
mod session;

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// How the sink answers the end of DATA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataReply {
    /// `250`: the message is recorded.
    Accept,
    /// `451`: a temporary failure; nothing is recorded.
    TempFail,
    /// `554`: a permanent rejection; nothing is recorded.
    PermFail,
    /// Never answers, to exercise client timeouts; nothing is recorded.
    Hang,
    /// Refuses every AUTH with `535` (bad credentials); nothing is recorded.
    RejectAuth,
}

/// One accepted message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    /// The `MAIL FROM` address, without angle brackets.
    pub mail_from: String,
    /// The `RCPT TO` addresses, without angle brackets.
    pub rcpt_to: Vec<String>,
    /// The message as sent (headers and body, CRLF line ends), dot-stuffing undone.
    pub data: String,
    /// The user name the connection authenticated as, if it did.
    pub auth_user: Option<String>,
}

impl ReceivedMail {
    /// The first header named `name` (case-insensitive), unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next()?;
        let mut value: Option<String> = None;
        for line in head.split("\r\n") {
            if let Some(current) = value.as_mut() {
                if line.starts_with([' ', '\t']) {
                    current.push_str(line);
                    continue;
                }
                break;
            }
            if let Some((key, rest)) = line.split_once(':') {
                if key.eq_ignore_ascii_case(name) {
                    value = Some(rest.trim_start().to_owned());
                }
            }
        }
        value
    }
}

/// A running sink; the server stops when this is dropped.
pub struct SmtpSink {
    port: u16,
    mails: Arc<watch::Sender<Vec<ReceivedMail>>>,
    connections: Arc<Connections>,
    task: JoinHandle<()>,
}

/// Open connections now, and the most ever open at once.
#[derive(Default)]
struct Connections {
    open: std::sync::atomic::AtomicUsize,
    most: std::sync::atomic::AtomicUsize,
}

impl SmtpSink {
    /// Starts a sink that accepts every message.
    ///
    /// # Panics
    /// As [`SmtpSink::start_with`].
    pub async fn start() -> SmtpSink {
        Self::start_with(DataReply::Accept).await
    }

    /// Starts a sink that answers every DATA with `reply`.
    ///
    /// # Panics
    /// When no port can be bound on 127.0.0.1.
    pub async fn start_with(reply: DataReply) -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the SMTP sink to 127.0.0.1");
        let port = listener.local_addr().expect("sink address").port();
        let mails = Arc::new(watch::Sender::new(Vec::new()));
        let connections = Arc::new(Connections::default());
        let task = tokio::spawn(serve(
            listener,
            reply,
            Arc::clone(&mails),
            Arc::clone(&connections),
        ));
        SmtpSink {
            port,
            mails,
            connections,
            task,
        }
    }

    /// The port the sink listens on, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Waits until at least `n` messages were accepted, or `timeout` passed; returns
    /// whatever arrived by then.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let mut rx = self.mails.subscribe();
        let _ = tokio::time::timeout(timeout, rx.wait_for(|mails| mails.len() >= n)).await;
        self.received()
    }

    /// The most connections that were ever open at once.
    pub fn max_connections(&self) -> usize {
        self.connections
            .most
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The messages accepted so far.
    pub fn received(&self) -> Vec<ReceivedMail> {
        self.mails.borrow().clone()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        // Aborting the accept loop drops its JoinSet, which aborts every session.
        self.task.abort();
    }
}

async fn serve(
    listener: TcpListener,
    reply: DataReply,
    mails: Arc<watch::Sender<Vec<ReceivedMail>>>,
    connections: Arc<Connections>,
) {
    use std::sync::atomic::Ordering::SeqCst;
    let mut sessions = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    let open = connections.open.fetch_add(1, SeqCst) + 1;
                    connections.most.fetch_max(open, SeqCst);
                    let mails = Arc::clone(&mails);
                    let connections = Arc::clone(&connections);
                    sessions.spawn(async move {
                        session::run(stream, reply, mails).await;
                        connections.open.fetch_sub(1, SeqCst);
                    });
                }
            }
            // Reap finished sessions so a long test does not accumulate them.
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
        }
    }
}
