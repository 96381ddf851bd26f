//! The one way every HTTP plugin sends a request (its client comes from herald's
//! `BuildContext`): a transport failure becomes a retry, an answer comes back with a
//! bounded body.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use herald_plugin_api::Outcome;
use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, StatusCode};

use crate::transport_error;

/// How much of a response body is read, at most: enough for any error document,
/// and a short answer read to its end lets the connection go back to the pool.
pub const BODY_READ_LIMIT: usize = 4096;

/// What a destination answered.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// At most [`BODY_READ_LIMIT`] bytes of the body.
    pub body: Vec<u8>,
}

/// Sends `request`; no answer at all (refused, timed out, reset) is a retry, its
/// reason naming `destination` (`scheme://host:port`, never the full URL).
///
/// # Errors
/// The retry outcome when nothing was answered.
pub async fn send(
    request: RequestBuilder,
    destination: &str,
    timeout: Duration,
) -> Result<Answer, Outcome> {
    let mut response = request
        .send()
        .await
        .map_err(|err| transport_error(&err, destination, timeout))?;
    let status = response.status();
    let headers = response.headers().clone();
    let mut body = Vec::new();
    while body.len() < BODY_READ_LIMIT {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            // A broken body only loses the error text, not the status.
            Ok(None) | Err(_) => break,
        }
    }
    body.truncate(BODY_READ_LIMIT);
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// The outcome's kind, for logs: reasons may quote event data or provider text.
pub fn outcome_kind(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Delivered => "delivered",
        Outcome::Retry { .. } => "retry",
        Outcome::Failed { .. } => "failed",
        Outcome::Held { .. } => "held",
        Outcome::Skipped { .. } => "skipped",
    }
}

/// Now in Unix seconds (a Standard Webhooks timestamp); 0 if the clock is before 1970.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}
