//! `herald stripe check`: does the account's webhook endpoint send what the rules
//! wait for? A rule on a type no endpoint sends never fires, and nothing else says so.

use anyhow::bail;
use serde::Serialize;

use crate::rules::Rules;
use crate::stripe_api::{Endpoint, StripeApi, STRIPE_VERSION};
use crate::Config;

/// What comparing the rules with the endpoints found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Findings {
    /// Rule patterns no enabled endpoint sends an event of: their rules never fire.
    pub missing: Vec<String>,
    /// Types an endpoint sends that no rule uses: stored, routed nowhere.
    pub unused: Vec<String>,
    /// Endpoints whose API version is not the one herald reads, with theirs.
    pub other_versions: Vec<(String, String)>,
}

/// Compares what the rules wait for with what `endpoints` send: their `on`, and a
/// follow-up's `unless` too (one never sent lets the follow-up always run). herald's
/// own types (`herald.…`) are herald's to raise and are left out.
pub fn compare(rules: &Rules, endpoints: &[Endpoint]) -> Findings {
    let mut patterns: Vec<_> = rules
        .iter()
        .flat_map(|rule| {
            let unless = rule.followup().map(|followup| followup.unless.iter());
            rule.on().iter().chain(unless.into_iter().flatten())
        })
        .filter(|pattern| !pattern.as_str().starts_with("herald."))
        .collect();
    patterns.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    patterns.dedup_by(|a, b| a.as_str() == b.as_str());
    let enabled: Vec<&Endpoint> = endpoints
        .iter()
        .filter(|endpoint| endpoint.status == "enabled")
        .collect();
    let sends_all = enabled
        .iter()
        .any(|endpoint| endpoint.enabled_events.iter().any(|kind| kind == "*"));
    let mut findings = Findings::default();
    for pattern in &patterns {
        let sent = sends_all
            || enabled.iter().any(|endpoint| {
                endpoint
                    .enabled_events
                    .iter()
                    .any(|kind| pattern.matches(kind))
            });
        let name = pattern.as_str().to_owned();
        if !sent && !findings.missing.contains(&name) {
            findings.missing.push(name);
        }
    }
    for endpoint in &enabled {
        for kind in &endpoint.enabled_events {
            let used = kind == "*" || patterns.iter().any(|pattern| pattern.matches(kind));
            if !used && !findings.unused.contains(kind) {
                findings.unused.push(kind.clone());
            }
        }
        let version = endpoint
            .api_version
            .clone()
            .unwrap_or_else(|| "the account's default".to_owned());
        if version != STRIPE_VERSION {
            findings.other_versions.push((endpoint.id.clone(), version));
        }
    }
    findings
}

/// `herald stripe check`: exit 1 when a rule waits for a type no endpoint sends.
///
/// # Errors
/// When no API key is configured, Stripe fails, or a type is missing.
pub async fn run(config: &Config, json: bool) -> anyhow::Result<()> {
    let api = StripeApi::configured(&config.restart)?;
    let endpoints = api.webhook_endpoints().await?;
    let findings = compare(&config.reloadable.rules, &endpoints);
    if json {
        println!("{:#}", serde_json::to_value(&findings)?);
    } else {
        for endpoint in &endpoints {
            println!(
                "endpoint {} ({}, {}): {} types",
                endpoint.url,
                endpoint.id,
                endpoint.status,
                endpoint.enabled_events.len()
            );
        }
        for (id, version) in &findings.other_versions {
            println!(
                "warning: endpoint {id} sends events of API version {version}; herald reads \
                 {STRIPE_VERSION} (set the endpoint's version in the Dashboard)"
            );
        }
        for kind in &findings.unused {
            println!("warning: {kind} is sent but no rule uses it (stored, routed nowhere)");
        }
        for pattern in &findings.missing {
            println!("error: a rule waits for {pattern}, which no enabled endpoint sends: add it to the endpoint's events");
        }
    }
    if findings.missing.is_empty() {
        if !json {
            println!("every type the rules use is sent");
        }
        Ok(())
    } else {
        bail!(
            "{} of the rules' types are sent by no endpoint",
            findings.missing.len()
        )
    }
}
