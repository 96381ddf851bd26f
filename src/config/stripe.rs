//! `[sources.stripe]`'s settings for Stripe's API: the key, where the API is, the
//! request budget, and the scheduled reconcile.

use std::time::Duration;

use herald_plugin_api::Env;
use secrecy::SecretString;

use super::locate::Collector;

/// `[sources.stripe]`'s API settings, when `api_key` is set.
pub(super) fn stripe_api(
    stripe: &super::raw::StripeConfig,
    env: &dyn Env,
    issues: &mut Collector<'_>,
) -> Option<super::restart::StripeApiSettings> {
    let key = issues.expand(stripe.api_key.as_ref()?, "sources.stripe.api_key", env)?;
    let base_text = stripe
        .api_base
        .as_ref()
        .map_or(crate::stripe_api::DEFAULT_API_BASE, |base| {
            base.get_ref().as_str()
        });
    let base = match reqwest::Url::parse(base_text) {
        Ok(base) if matches!(base.scheme(), "http" | "https") => base,
        _ => {
            let span = stripe.api_base.as_ref().map_or(0..0, toml::Spanned::span);
            issues.at(
                span,
                "sources.stripe.api_base",
                format!("`{base_text}` is not an http(s) URL"),
            );
            return None;
        }
    };
    if key.trim().is_empty() {
        issues.unplaced("sources.stripe.api_key", "the API key is empty");
        return None;
    }
    Some(super::restart::StripeApiSettings {
        key: SecretString::from(key),
        base,
        per_second: stripe
            .api_requests_per_second
            .unwrap_or(crate::stripe_api::budget::DEFAULT_PER_SECOND)
            .max(1),
    })
}

/// `[sources.stripe] reconcile_every`, which needs an API key to ask with.
pub(super) fn reconcile_every(
    stripe: &super::raw::StripeConfig,
    issues: &mut Collector<'_>,
) -> Option<Duration> {
    let every = stripe.reconcile_every.as_ref()?;
    let key = "sources.stripe.reconcile_every";
    if stripe.api_key.is_none() {
        issues.at(
            every.span(),
            key,
            "reconcile_every asks Stripe's API: set api_key = \"${STRIPE_SECRET_KEY}\" too",
        );
        return None;
    }
    match super::parse_span(every.get_ref()) {
        Ok(span) => Some(span),
        Err(err) => {
            issues.at(every.span(), key, err.to_string());
            None
        }
    }
}
