//! Deliver stage, SMTP transport: sends messages through a pooled lettre connection
//! and classifies what the server said into an [`Outcome`].
//!
//! Classification follows SMTP's own split: a 5xx reply is permanent ([`Outcome::Failed`]
//! with the server's text), a 4xx reply, a timeout or any connection, TLS or I/O trouble
//! is temporary ([`Outcome::Retry`]); the dispatcher owns the backoff.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use herald_plugin_api::{Outcome, PluginError};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::{AsyncSmtpTransportBuilder, Error as SmtpError, PoolConfig};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{Security, SmtpSettings};

type Transport = AsyncSmtpTransport<Tokio1Executor>;

/// The SMTP side of one plugin instance.
pub(crate) struct SmtpSender {
    /// Kept to build a fresh pool after a timed-out send (see [`SmtpSender::send`]).
    builder: AsyncSmtpTransportBuilder,
    /// The current pool; cloning it is cheap (an `Arc` inside).
    transport: Mutex<Transport>,
    /// How long one send may take in total.
    deadline: Duration,
    /// `host:port`, for reasons and logs.
    server: String,
}

impl SmtpSender {
    /// Prepares the pooled transport without connecting; the first send connects.
    ///
    /// Must run inside a tokio runtime: lettre's pool spawns its cleanup task here.
    pub(crate) fn new(settings: &SmtpSettings) -> Result<Self, PluginError> {
        let host = settings.host.as_str();
        let builder = match settings.security {
            Security::None => Transport::builder_dangerous(host),
            Security::StartTls => {
                Transport::starttls_relay(host).map_err(|err| tls_error(host, &err))?
            }
            Security::Tls => Transport::relay(host).map_err(|err| tls_error(host, &err))?,
        };
        let mut builder = builder
            .port(settings.port)
            // lettre applies this to the TCP connect only; `send` enforces the rest.
            .timeout(Some(settings.timeout))
            .pool_config(PoolConfig::new().max_size(settings.pool_max_size));
        if let Some(credentials) = &settings.credentials {
            builder = builder.credentials(Credentials::new(
                credentials.username.clone(),
                credentials.password.clone(),
            ));
        }
        let transport = builder.clone().build();
        Ok(Self {
            builder,
            transport: Mutex::new(transport),
            deadline: settings.timeout,
            server: format!("{host}:{}", settings.port),
        })
    }

    /// Sends one message and classifies the result. Never panics, never hangs past the deadline.
    pub(crate) async fn send(&self, message: Message) -> Outcome {
        let transport = self.current();
        match tokio::time::timeout(self.deadline, transport.send(message)).await {
            Ok(Ok(_response)) => Outcome::Delivered,
            Ok(Err(err)) => classify(&err, &self.server),
            Err(_elapsed) => {
                // lettre has no read/write timeout of its own, and a send cancelled
                // mid-conversation hands its connection back to the pool as if healthy.
                // Replacing the pool keeps that connection away from later sends; the old
                // pool closes its connections when its last user lets go.
                self.replace_pool();
                Outcome::retry(format!(
                    "SMTP server {} did not finish within {}s",
                    self.server,
                    self.deadline.as_secs()
                ))
            }
        }
    }

    /// Opens (or reuses) a connection and checks it with `NOOP`.
    pub(crate) async fn check(&self) -> Result<(), PluginError> {
        let transport = self.current();
        match tokio::time::timeout(self.deadline, transport.test_connection()).await {
            Ok(Ok(true)) => Ok(()),
            Ok(Ok(false)) => Err(PluginError(format!(
                "SMTP server {} did not answer NOOP",
                self.server
            ))),
            Ok(Err(err)) => Err(PluginError(format!(
                "could not talk to SMTP server {}: {err}",
                self.server
            ))),
            Err(_elapsed) => {
                self.replace_pool();
                Err(PluginError(format!(
                    "SMTP server {} did not answer within {}s",
                    self.server,
                    self.deadline.as_secs()
                )))
            }
        }
    }

    fn current(&self) -> Transport {
        // A poisoned lock only means another thread panicked while swapping in a fresh
        // transport; the value inside is still a usable transport.
        self.transport
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn replace_pool(&self) {
        let fresh = self.builder.clone().build();
        *self
            .transport
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = fresh;
    }
}

/// Maps a lettre error onto retry or fail.
///
/// Only a 5xx reply is permanent. Everything else is retried, including lettre's own
/// refusals (no common AUTH mechanism, STARTTLS not offered): those describe the
/// server's current setup, not the message, and the dispatcher gives up eventually.
/// SMTP replies about authentication (RFC 4954): required, too weak, invalid, encryption needed.
const AUTH_CODES: [u16; 4] = [530, 534, 535, 538];

pub(crate) fn classify(err: &SmtpError, server: &str) -> Outcome {
    let code = err.status().map(u16::from);
    if code.is_some_and(|code| AUTH_CODES.contains(&code)) {
        // Credentials are the operator's to fix, not the message's: keep the job
        // and retry, so mail queued during a password rotation still goes out.
        Outcome::retry(format!(
            "SMTP server {server} refused the credentials (check username/password): {err}"
        ))
    } else if err.is_permanent() {
        Outcome::failed(format!("SMTP server {server} rejected the message: {err}"))
    } else if err.is_transient() {
        Outcome::retry(format!("SMTP server {server} deferred the message: {err}"))
    } else if err.is_timeout() {
        Outcome::retry(format!("timed out talking to SMTP server {server}: {err}"))
    } else {
        Outcome::retry(format!("could not talk to SMTP server {server}: {err}"))
    }
}

fn tls_error(host: &str, err: &SmtpError) -> PluginError {
    PluginError(format!("cannot set up TLS for SMTP host `{host}`: {err}"))
}
