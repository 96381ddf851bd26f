//! The push [`Plugin`]: built once at start-up by [`build`] (through
//! [`Instance::build`](herald_plugin_api::Instance::build)), then called by the
//! dispatcher's workers in the deliver stage.
//!
//! A delivery renders the notification ([`crate::request`]), POSTs it to ntfy or FCM
//! with the job's idempotency key, and classifies the answer with the provider's
//! wording ([`crate::classify`]). An FCM instance with a service account sends with a
//! token from its [`TokenSource`]; when FCM answers 401 (the token expired or was
//! revoked early) it mints another and sends once more, and only a second 401 is
//! permanent.

use std::sync::Arc;

use herald_plugin_api::{
    async_trait, BuildContext, ClientSettings, Job, Outcome, Plugin, PluginError, Templates,
};
use herald_plugin_http::provider::{idempotency_headers, Provider};
use reqwest::header::{HeaderMap, AUTHORIZATION};
use reqwest::{RequestBuilder, StatusCode, Url};

use crate::classify::PushWording;
use crate::clock::Clock;
use crate::config::{FcmAuth, PushSettings, ValidatedPush};
use crate::request;
use crate::token::TokenSource;

/// The header carrying the job's idempotency key on every request.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";
/// The `User-Agent` of every request.
pub const USER_AGENT: &str = herald_plugin_api::USER_AGENT;

/// One job's request, its bearer token aside.
struct Parts {
    url: Url,
    headers: HeaderMap,
    body: Vec<u8>,
}

/// One `[plugins.push.<name>]` instance.
struct PushPlugin {
    settings: PushSettings,
    provider: Provider,
    templates: Arc<dyn Templates>,
    /// FCM with a service account: where its tokens come from.
    tokens: Option<TokenSource>,
}

/// Builds a plugin instance from its validated config: one pooled HTTP client from the
/// context, shared by every delivery of the instance, and for a service account a
/// second one for its token endpoint; `clock` says when a token is due for renewal.
/// Does not connect.
///
/// # Errors
/// When an HTTP client cannot be built (its TLS set-up failed).
pub(crate) fn build(
    config: ValidatedPush,
    cx: &BuildContext,
    clock: Clock,
) -> Result<Arc<dyn Plugin>, PluginError> {
    let base = match &config.provider {
        PushSettings::Ntfy(ntfy) => &ntfy.url,
        PushSettings::Fcm(fcm) => &fcm.api_base,
    };
    let provider = Provider::new(cx, base, config.timeout, config.max_concurrency)?;
    let tokens = match &config.provider {
        PushSettings::Fcm(fcm) => match &fcm.auth {
            FcmAuth::ServiceAccount(account) => {
                // One mint at a time (single-flight), so one idle connection is enough.
                let client = cx.http_client(ClientSettings {
                    timeout: config.timeout,
                    max_idle: 1,
                })?;
                Some(TokenSource::new(
                    account.clone(),
                    clock,
                    client,
                    config.timeout,
                ))
            }
            FcmAuth::Static(_) => None,
        },
        PushSettings::Ntfy(_) => None,
    };
    Ok(Arc::new(PushPlugin {
        settings: config.provider,
        provider,
        templates: cx.templates(),
        tokens,
    }))
}

impl PushPlugin {
    /// The request of one job, without FCM's token; `Err` is a permanent failure.
    fn parts(&self, job: &Job<'_>) -> Result<Parts, Outcome> {
        let notification = request::render(job, self.templates.as_ref())?;
        let (url, mut headers, body) = match &self.settings {
            PushSettings::Ntfy(ntfy) => request::ntfy(ntfy, &notification),
            PushSettings::Fcm(fcm) => request::fcm(fcm, &notification, job),
        }
        .map_err(Outcome::failed)?;
        headers.extend(idempotency_headers(job.idempotency_key, None)?);
        Ok(Parts { url, headers, body })
    }

    /// The request to send, with `token` as its bearer token when given.
    fn request(&self, parts: &Parts, token: Option<&str>) -> Result<RequestBuilder, Outcome> {
        let mut headers = parts.headers.clone();
        if let Some(token) = token {
            headers.insert(
                AUTHORIZATION,
                request::bearer(token).map_err(Outcome::failed)?,
            );
        }
        Ok(self
            .provider
            .post(parts.url.clone())
            .headers(headers)
            .body(parts.body.clone()))
    }

    /// FCM's fixed token, if the instance has one.
    fn fixed_token(&self) -> Option<&str> {
        match &self.settings {
            PushSettings::Fcm(fcm) => match &fcm.auth {
                FcmAuth::Static(token) => Some(token),
                FcmAuth::ServiceAccount(_) => None,
            },
            PushSettings::Ntfy(_) => None,
        }
    }

    /// One delivery with minted tokens: a 401 renews the token and sends once more.
    async fn deliver_minted(&self, job: &Job<'_>, tokens: &TokenSource) -> Outcome {
        let parts = match self.parts(job) {
            Ok(parts) => parts,
            Err(outcome) => {
                let wording = PushWording::Minted;
                return self
                    .provider
                    .deliver("push", job, Err(outcome), &wording)
                    .await;
            }
        };
        let mut wording = PushWording::Minted;
        loop {
            let token = match tokens.token().await {
                Ok(token) => token,
                Err(outcome) => return outcome,
            };
            let prepared = self.request(&parts, Some(&token));
            let (outcome, status) = self.provider.attempt("push", job, prepared, &wording).await;
            if status != Some(StatusCode::UNAUTHORIZED.as_u16()) || wording == PushWording::Renewed
            {
                return outcome;
            }
            tokens.reject(&token);
            wording = PushWording::Renewed;
        }
    }
}

#[async_trait]
impl Plugin for PushPlugin {
    fn name(&self) -> &str {
        &self.provider.name
    }

    async fn deliver(&self, job: &Job<'_>) -> Outcome {
        if let Some(tokens) = &self.tokens {
            return self.deliver_minted(job, tokens).await;
        }
        let prepared = self
            .parts(job)
            .and_then(|parts| self.request(&parts, self.fixed_token()));
        self.provider
            .deliver("push", job, prepared, &PushWording::Fixed)
            .await
    }

    /// With a service account, mints a token: proves the key file, the account and the
    /// token endpoint work, without sending a notification.
    async fn healthcheck(&self) -> Result<(), PluginError> {
        match &self.tokens {
            Some(tokens) => tokens.token().await.map(drop).map_err(|outcome| {
                PluginError(match outcome {
                    Outcome::Retry { reason, .. }
                    | Outcome::Failed { reason }
                    | Outcome::Held { reason }
                    | Outcome::Skipped { reason } => reason.into_owned(),
                    Outcome::Delivered => String::new(),
                })
            }),
            None => Ok(()),
        }
    }
}
