//! FCM access tokens minted from a service account: herald signs a JWT assertion
//! (RS256, `kid` = the key's id) and exchanges it at the key file's `token_uri` with
//! `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`, as Google's "Using OAuth
//! 2.0 for Server to Server Applications" describes.
//!
//! The token is cached and replaced a while before it expires. Refreshing is
//! single-flight: deliveries that find the token stale while a refresh is under way
//! wait for that one and share its result, success or failure. A token FCM rejects
//! (401) is dropped with [`TokenSource::reject`], so the next call mints a new one.
//!
//! A failed exchange is temporary (the job is retried): the endpoint may be down, and a
//! revoked key is something an operator fixes without losing the jobs. Neither the key
//! nor a token is ever logged or quoted in a reason.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use herald_plugin_api::Outcome;
use herald_plugin_http::{excerpt, retry_after, send};
use jsonwebtoken::{Algorithm, Header};
use reqwest::Client;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::clock::Clock;
use crate::service_account::ServiceAccount;

/// The OAuth scope that lets a token send FCM messages.
pub const FCM_SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
/// The grant type of a JWT bearer assertion (RFC 7523).
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// How long an assertion is valid; Google accepts at most an hour.
const ASSERTION_LIFETIME: Duration = Duration::from_secs(3600);
/// The longest a token is refreshed ahead of its expiry.
const MAX_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// The assertion's claims.
#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
}

/// The token endpoint's answer (other fields ignored).
#[derive(Deserialize)]
struct Minted {
    access_token: String,
    expires_in: u64,
}

/// The token endpoint's error document (RFC 6749 §5.2).
#[derive(Deserialize)]
struct MintError {
    error: String,
    error_description: Option<String>,
}

/// A token and when to replace it.
#[derive(Clone)]
struct Cached {
    value: Arc<str>,
    refresh_at: SystemTime,
}

/// The cached token of one FCM instance and the means to mint the next.
pub(crate) struct TokenSource {
    account: ServiceAccount,
    clock: Clock,
    client: Client,
    timeout: Duration,
    /// `scheme://host:port` of the token endpoint, for reasons.
    destination: String,
    current: RwLock<Option<Cached>>,
    /// Held while minting; holds the last mint's failure for those who waited on it.
    flight: Mutex<Option<Outcome>>,
    /// Counts finished mints, so a waiter knows one finished while it waited.
    mints: AtomicU64,
}

impl TokenSource {
    /// A source with no token yet; the first delivery mints one.
    pub(crate) fn new(
        account: ServiceAccount,
        clock: Clock,
        client: Client,
        timeout: Duration,
    ) -> Self {
        Self {
            destination: account.token_uri.origin().ascii_serialization(),
            account,
            clock,
            client,
            timeout,
            current: RwLock::new(None),
            flight: Mutex::new(None),
            mints: AtomicU64::new(0),
        }
    }

    /// A token fresh enough to send with.
    ///
    /// # Errors
    /// The retry outcome when no token could be minted.
    pub(crate) async fn token(&self) -> Result<Arc<str>, Outcome> {
        if let Some(token) = self.fresh() {
            return Ok(token);
        }
        let seen = self.mints.load(Ordering::Acquire);
        let mut failure = self.flight.lock().await;
        if self.mints.load(Ordering::Acquire) != seen {
            // A mint finished while this call waited: share its result.
            if let Some(token) = self.fresh() {
                return Ok(token);
            }
            if let Some(outcome) = failure.as_ref() {
                return Err(outcome.clone());
            }
        }
        let minted = self.mint().await;
        *failure = minted.as_ref().err().cloned();
        if let Ok(cached) = &minted {
            *self.current.write().unwrap_or_else(PoisonError::into_inner) = Some(cached.clone());
        }
        self.mints.fetch_add(1, Ordering::Release);
        minted.map(|cached| cached.value)
    }

    /// Drops `token` after FCM refused it, unless a newer one already replaced it.
    pub(crate) fn reject(&self, token: &str) {
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        if current
            .as_ref()
            .is_some_and(|cached| &*cached.value == token)
        {
            *current = None;
        }
    }

    /// The cached token, unless it is due for replacement.
    fn fresh(&self) -> Option<Arc<str>> {
        let current = self.current.read().unwrap_or_else(PoisonError::into_inner);
        current
            .as_ref()
            .filter(|cached| self.clock.now() < cached.refresh_at)
            .map(|cached| Arc::clone(&cached.value))
    }

    /// The signed assertion, issued now.
    fn assertion(&self) -> Result<String, Outcome> {
        let iat = self.clock.unix_secs();
        let claims = Claims {
            iss: &self.account.client_email,
            scope: FCM_SCOPE,
            aud: self.account.token_uri.as_str(),
            iat,
            exp: iat + ASSERTION_LIFETIME.as_secs(),
        };
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.account.private_key_id.clone());
        jsonwebtoken::encode(&header, &claims, &self.account.key)
            .map_err(|err| Outcome::failed(format!("cannot sign the FCM token request: {err}")))
    }

    /// Exchanges a fresh assertion for a token.
    async fn mint(&self) -> Result<Cached, Outcome> {
        let started = self.clock.now();
        let assertion = self.assertion()?;
        let request = self
            .client
            .post(self.account.token_uri.clone())
            .form(&[("grant_type", JWT_BEARER_GRANT), ("assertion", &assertion)]);
        let answer = send(request, &self.destination, self.timeout)
            .await
            .map_err(|outcome| match outcome {
                Outcome::Retry { after, reason } => Outcome::Retry {
                    after,
                    reason: format!("could not get an FCM access token: {reason}").into(),
                },
                other => other,
            })?;
        let trouble = |what: String| Outcome::Retry {
            after: retry_after(&answer.headers, SystemTime::now()),
            reason: format!(
                "could not get an FCM access token: {} answered {}: {what}",
                self.destination, answer.status
            )
            .into(),
        };
        if !answer.status.is_success() {
            let what = match serde_json::from_slice::<MintError>(&answer.body) {
                Ok(MintError {
                    error,
                    error_description: Some(description),
                }) => format!("{error}: {description}"),
                Ok(MintError { error, .. }) => error,
                Err(_) => excerpt(&answer.body),
            };
            return Err(trouble(excerpt(what.as_bytes())));
        }
        let minted: Minted = serde_json::from_slice(&answer.body)
            .map_err(|_| trouble("no `access_token` and `expires_in` in the answer".into()))?;
        let token = minted.access_token.trim();
        if token.is_empty() || token.chars().any(|c| c.is_control() || c == ' ') {
            return Err(trouble(
                "the `access_token` is empty or not header-safe".into(),
            ));
        }
        let lifetime = Duration::from_secs(minted.expires_in);
        tracing::debug!(
            token_endpoint = %self.destination,
            expires_in = minted.expires_in,
            "FCM access token minted"
        );
        Ok(Cached {
            value: Arc::from(token),
            refresh_at: started + refresh_after(lifetime),
        })
    }
}

/// How long after minting a token of `lifetime` is replaced: a quarter of its life
/// early, at most [`MAX_REFRESH_MARGIN`], so a slow refresh never sends an expired one.
fn refresh_after(lifetime: Duration) -> Duration {
    lifetime - (lifetime / 4).min(MAX_REFRESH_MARGIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_replaced_a_quarter_of_their_life_early_at_most_five_minutes() {
        assert_eq!(
            refresh_after(Duration::from_secs(2)),
            Duration::from_millis(1_500)
        );
        assert_eq!(
            refresh_after(Duration::from_secs(3599)),
            Duration::from_secs(3299)
        );
        assert_eq!(refresh_after(Duration::ZERO), Duration::ZERO);
    }
}
