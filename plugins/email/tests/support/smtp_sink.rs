//! A tiny SMTP server for tests: listens on 127.0.0.1, accepts what it is sent and
//! records each message, so a test can await real deliveries instead of sleeping.
//!
//! It speaks just enough ESMTP for lettre: EHLO/HELO, AUTH PLAIN and LOGIN (any
//! password is accepted; the user name is recorded), MAIL, RCPT, DATA (with
//! dot-unstuffing), RSET, NOOP and QUIT, for any number of messages per connection and
//! any number of connections. No TLS. Depends on tokio only, so herald's own
//! integration tests can include this file with `#[path = ...] mod smtp_sink;`.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
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
    pub async fn start() -> SmtpSink {
        Self::start_with(DataReply::Accept).await
    }

    /// Starts a sink that answers every DATA with `reply`.
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
                        session(stream, reply, mails).await;
                        connections.open.fetch_sub(1, SeqCst);
                    });
                }
            }
            // Reap finished sessions so a long test does not accumulate them.
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
        }
    }
}

/// The envelope of the message being received.
#[derive(Default)]
struct Transaction {
    mail_from: Option<String>,
    rcpt_to: Vec<String>,
}

async fn session(
    stream: TcpStream,
    reply: DataReply,
    mails: Arc<watch::Sender<Vec<ReceivedMail>>>,
) {
    // Any I/O error just ends the session, like a real server dropping a client.
    let _ = run_session(stream, reply, &mails).await;
}

async fn run_session(
    stream: TcpStream,
    reply: DataReply,
    mails: &watch::Sender<Vec<ReceivedMail>>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let mut auth_user: Option<String> = None;
    let mut tx = Transaction::default();
    write.write_all(b"220 herald-sink ESMTP ready\r\n").await?;
    while let Some(line) = read_line(&mut read).await? {
        let (verb, arg) = match line.split_once(' ') {
            Some((verb, arg)) => (verb.to_ascii_uppercase(), arg.trim()),
            None => (line.to_ascii_uppercase(), ""),
        };
        let answer: String = match verb.as_str() {
            "EHLO" => format!(
                "250-herald-sink greets {arg}\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n\
                 250-AUTH PLAIN LOGIN\r\n250 HELP\r\n"
            ),
            "HELO" => "250 herald-sink\r\n".to_owned(),
            "AUTH" if reply == DataReply::RejectAuth => {
                "535 5.7.8 Authentication credentials invalid\r\n".to_owned()
            }
            "AUTH" => match authenticate(arg, &mut read, &mut write).await? {
                Some(user) => {
                    auth_user = Some(user);
                    "235 2.7.0 Authentication successful\r\n".to_owned()
                }
                None => "501 5.5.2 Cannot decode the credentials\r\n".to_owned(),
            },
            "MAIL" => match address_after(arg, "FROM:") {
                Some(from) => {
                    tx = Transaction {
                        mail_from: Some(from),
                        rcpt_to: Vec::new(),
                    };
                    "250 2.1.0 OK\r\n".to_owned()
                }
                None => "501 5.5.4 Syntax: MAIL FROM:<address>\r\n".to_owned(),
            },
            "RCPT" => match (&tx.mail_from, address_after(arg, "TO:")) {
                (None, _) => "503 5.5.1 MAIL first\r\n".to_owned(),
                (Some(_), Some(to)) => {
                    tx.rcpt_to.push(to);
                    "250 2.1.5 OK\r\n".to_owned()
                }
                (Some(_), None) => "501 5.5.4 Syntax: RCPT TO:<address>\r\n".to_owned(),
            },
            "DATA" if tx.rcpt_to.is_empty() => "503 5.5.1 RCPT first\r\n".to_owned(),
            "DATA" => {
                write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let Some(data) = read_data(&mut read).await? else {
                    return Ok(());
                };
                let tx = std::mem::take(&mut tx);
                match reply {
                    DataReply::Accept | DataReply::RejectAuth => {
                        let mail = ReceivedMail {
                            mail_from: tx.mail_from.unwrap_or_default(),
                            rcpt_to: tx.rcpt_to,
                            data,
                            auth_user: auth_user.clone(),
                        };
                        mails.send_modify(|mails| mails.push(mail));
                        "250 2.0.0 OK queued\r\n".to_owned()
                    }
                    DataReply::TempFail => "451 4.3.0 Try again later\r\n".to_owned(),
                    DataReply::PermFail => "554 5.7.1 Message rejected by policy\r\n".to_owned(),
                    DataReply::Hang => std::future::pending().await,
                }
            }
            "RSET" => {
                tx = Transaction::default();
                "250 2.0.0 OK\r\n".to_owned()
            }
            "NOOP" => "250 2.0.0 OK\r\n".to_owned(),
            "QUIT" => {
                write.write_all(b"221 2.0.0 Bye\r\n").await?;
                return Ok(());
            }
            _ => "502 5.5.2 Command not recognized\r\n".to_owned(),
        };
        write.write_all(answer.as_bytes()).await?;
    }
    Ok(())
}

/// Reads one line without its line end; `None` at end of stream.
async fn read_line<R: AsyncRead + Unpin>(
    read: &mut BufReader<R>,
) -> std::io::Result<Option<String>> {
    let mut buf = Vec::new();
    if read.read_until(b'\n', &mut buf).await? == 0 {
        return Ok(None);
    }
    let line = String::from_utf8_lossy(&buf);
    Ok(Some(line.trim_end_matches(['\r', '\n']).to_owned()))
}

/// Reads DATA up to the lone `.` line, undoing dot-stuffing; `None` if the client left.
async fn read_data<R: AsyncRead + Unpin>(
    read: &mut BufReader<R>,
) -> std::io::Result<Option<String>> {
    let mut data = String::new();
    loop {
        let Some(line) = read_line(read).await? else {
            return Ok(None);
        };
        if line == "." {
            return Ok(Some(data));
        }
        // RFC 5321 4.5.2: the client doubled every leading dot; drop one.
        data.push_str(line.strip_prefix('.').unwrap_or(&line));
        data.push_str("\r\n");
    }
}

/// `<addr>` after `prefix` (case-insensitive), ignoring ESMTP parameters.
fn address_after(arg: &str, prefix: &str) -> Option<String> {
    let head = arg.get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix) {
        return None;
    }
    let rest = arg[prefix.len()..].trim_start();
    let inner = rest.strip_prefix('<')?;
    let end = inner.find('>')?;
    Some(inner[..end].to_owned())
}

/// Runs AUTH PLAIN or LOGIN and returns the user name; `None` when undecodable.
async fn authenticate<R, W>(
    arg: &str,
    read: &mut BufReader<R>,
    write: &mut W,
) -> std::io::Result<Option<String>>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let (mechanism, initial) = match arg.split_once(' ') {
        Some((mechanism, initial)) => (
            mechanism.to_ascii_uppercase(),
            Some(initial.trim().to_owned()),
        ),
        None => (arg.to_ascii_uppercase(), None),
    };
    match mechanism.as_str() {
        "PLAIN" => {
            let response = match initial {
                Some(initial) => initial,
                None => match prompt(read, write, b"334 \r\n").await? {
                    Some(line) => line,
                    None => return Ok(None),
                },
            };
            // authzid NUL authcid NUL password
            Ok(decode_base64(&response)
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .and_then(|text| text.split('\0').nth(1).map(str::to_owned)))
        }
        "LOGIN" => {
            let user = match initial {
                Some(initial) => initial,
                // "Username:" in base64
                None => match prompt(read, write, b"334 VXNlcm5hbWU6\r\n").await? {
                    Some(line) => line,
                    None => return Ok(None),
                },
            };
            // "Password:" in base64; the password itself is not checked.
            if prompt(read, write, b"334 UGFzc3dvcmQ6\r\n")
                .await?
                .is_none()
            {
                return Ok(None);
            }
            Ok(decode_base64(&user).and_then(|bytes| String::from_utf8(bytes).ok()))
        }
        _ => Ok(None),
    }
}

/// Sends a `334` challenge and reads the client's answer.
async fn prompt<R, W>(
    read: &mut BufReader<R>,
    write: &mut W,
    challenge: &[u8],
) -> std::io::Result<Option<String>>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    write.write_all(challenge).await?;
    read_line(read).await
}

/// Standard base64 with optional padding; `None` on any other character.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for byte in text.trim().bytes().filter(|&b| b != b'=') {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Some(out)
}
