//! The SMTP sink itself, spoken to byte by byte.

use std::time::Duration;

use herald_testkit::{DataReply, SmtpSink};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

const WAIT: Duration = Duration::from_secs(10);

/// A line-at-a-time SMTP client.
struct Client {
    read: BufReader<OwnedReadHalf>,
    write: OwnedWriteHalf,
}

impl Client {
    async fn connect(sink: &SmtpSink) -> Client {
        let stream = TcpStream::connect(("127.0.0.1", sink.port()))
            .await
            .expect("connect to sink");
        let (read, write) = stream.into_split();
        let mut client = Client {
            read: BufReader::new(read),
            write,
        };
        assert!(client.reply().await.starts_with("220 "));
        client
    }

    /// Reads one reply, multi-line replies joined; returns its last line.
    async fn reply(&mut self) -> String {
        loop {
            let mut line = String::new();
            self.read.read_line(&mut line).await.expect("read reply");
            assert!(!line.is_empty(), "sink closed the connection");
            if line.as_bytes().get(3) != Some(&b'-') {
                return line.trim_end().to_owned();
            }
        }
    }

    /// Sends `line` and returns the reply.
    async fn send(&mut self, line: &str) -> String {
        self.write
            .write_all(format!("{line}\r\n").as_bytes())
            .await
            .expect("write");
        self.reply().await
    }
}

#[tokio::test]
async fn receives_several_messages_per_connection_and_unstuffs_dots() {
    let sink = SmtpSink::start().await;
    let mut client = Client::connect(&sink).await;
    assert!(client.send("EHLO test").await.starts_with("250 "));
    assert!(client.send("AUTH LOGIN").await.starts_with("334 "));
    assert!(client.send("dXNlcg==").await.starts_with("334 ")); // "user"
    assert!(client.send("cGFzcw==").await.starts_with("235 ")); // "pass"

    assert!(client
        .send("MAIL FROM:<a@example.com> BODY=8BITMIME")
        .await
        .starts_with("250"));
    assert!(client
        .send("RCPT TO:<b@example.com>")
        .await
        .starts_with("250"));
    assert!(client
        .send("RCPT TO:<c@example.com>")
        .await
        .starts_with("250"));
    assert!(client.send("DATA").await.starts_with("354"));
    assert!(client
        .send("Subject: one\r\n\r\n..dot\r\nend\r\n.")
        .await
        .starts_with("250"));

    // RSET drops a half-built transaction; the next message stands alone.
    assert!(client
        .send("MAIL FROM:<x@example.com>")
        .await
        .starts_with("250"));
    assert!(client.send("RSET").await.starts_with("250"));
    assert!(client.send("DATA").await.starts_with("503"));
    assert!(client.send("NOOP").await.starts_with("250"));
    assert!(client
        .send("MAIL FROM:<d@example.com>")
        .await
        .starts_with("250"));
    assert!(client
        .send("RCPT TO:<e@example.com>")
        .await
        .starts_with("250"));
    assert!(client.send("DATA").await.starts_with("354"));
    assert!(client
        .send("Subject: two\r\n\r\nhi\r\n.")
        .await
        .starts_with("250"));
    assert!(client.send("QUIT").await.starts_with("221"));

    let mails = sink.wait_for(2, WAIT).await;
    assert_eq!(mails.len(), 2);
    assert_eq!(mails[0].mail_from, "a@example.com");
    assert_eq!(mails[0].rcpt_to, ["b@example.com", "c@example.com"]);
    assert_eq!(mails[0].data, "Subject: one\r\n\r\n.dot\r\nend\r\n");
    assert_eq!(mails[0].auth_user.as_deref(), Some("user"));
    assert_eq!(mails[0].header("subject").as_deref(), Some("one"));
    assert_eq!(mails[1].mail_from, "d@example.com");
    assert_eq!(mails[1].rcpt_to, ["e@example.com"]);
}

#[tokio::test]
async fn accepts_auth_plain_on_parallel_connections() {
    let sink = SmtpSink::start().await;
    let mut first = Client::connect(&sink).await;
    let mut second = Client::connect(&sink).await;
    for (client, from) in [
        (&mut first, "one@example.com"),
        (&mut second, "two@example.com"),
    ] {
        assert!(client.send("HELO test").await.starts_with("250"));
        // "\0ada\0secret"
        assert!(client
            .send("AUTH PLAIN AGFkYQBzZWNyZXQ=")
            .await
            .starts_with("235"));
        assert!(client
            .send(&format!("MAIL FROM:<{from}>"))
            .await
            .starts_with("250"));
        assert!(client
            .send("RCPT TO:<r@example.com>")
            .await
            .starts_with("250"));
        assert!(client.send("DATA").await.starts_with("354"));
        assert!(client.send("\r\nbody\r\n.").await.starts_with("250"));
    }
    let mut senders: Vec<String> = sink
        .wait_for(2, WAIT)
        .await
        .into_iter()
        .map(|mail| {
            assert_eq!(mail.auth_user.as_deref(), Some("ada"));
            mail.mail_from
        })
        .collect();
    senders.sort();
    assert_eq!(senders, ["one@example.com", "two@example.com"]);
}

#[tokio::test]
async fn rejecting_sinks_answer_and_record_nothing() {
    for (reply, code) in [(DataReply::TempFail, "451"), (DataReply::PermFail, "554")] {
        let sink = SmtpSink::start_with(reply).await;
        let mut client = Client::connect(&sink).await;
        assert!(client.send("EHLO test").await.starts_with("250"));
        assert!(client
            .send("MAIL FROM:<a@example.com>")
            .await
            .starts_with("250"));
        assert!(client
            .send("RCPT TO:<b@example.com>")
            .await
            .starts_with("250"));
        assert!(client.send("DATA").await.starts_with("354"));
        assert!(client.send("\r\nbody\r\n.").await.starts_with(code));
        // The connection stays usable after a rejection.
        assert!(client.send("NOOP").await.starts_with("250"));
        assert!(sink.received().is_empty());
    }
}

#[tokio::test]
async fn wait_for_returns_what_arrived_at_the_timeout() {
    let sink = SmtpSink::start().await;
    let mails = sink.wait_for(1, Duration::from_millis(50)).await;
    assert!(mails.is_empty());
}
