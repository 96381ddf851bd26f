//! One SMTP connection: the command loop, DATA and the envelope.

use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::auth::authenticate;
use super::{DataReply, ReceivedMail};

/// The envelope of the message being received.
#[derive(Default)]
struct Transaction {
    mail_from: Option<String>,
    rcpt_to: Vec<String>,
}

/// Serves one connection until the client leaves.
pub(super) async fn run(
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
pub(super) async fn read_line<R: AsyncRead + Unpin>(
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
