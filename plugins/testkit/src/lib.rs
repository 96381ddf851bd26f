//! What herald's tests share, across the binary's end-to-end tests and every plugin
//! crate's tests: real servers on 127.0.0.1 to deliver to, a template stub, signed
//! Stripe events, and the few lines each test would otherwise write again to build an
//! event, run a job and read its outcome.
//!
//! A dev-dependency only. It depends on herald-plugin-api and external crates, never on
//! herald or a plugin crate: a plugin's unit tests can use it without a second copy of
//! their own crate in the build.
//!
//! # Layout
//! - [`http_sink`]: [`HttpSink`], an HTTP server that records requests and answers as told;
//!   [`canned`], one that answers every request the same; [`closed_port`].
//! - [`google`]: [`FakeGoogle`], Google's OAuth token endpoint and FCM's send endpoint,
//!   checking service-account assertions against a test-only key.
//! - [`form`]: [`form_fields`], a form-encoded body's fields.
//! - [`smtp_sink`]: [`SmtpSink`], an SMTP server that records the mail it accepts.
//! - [`templates`]: [`FakeTemplates`] and [`TemplateFiles`], `{{dotted.path}}` stand-ins
//!   for herald's handlebars registry.
//! - [`stripe`]: the repo's Stripe fixtures, `Stripe-Signature` headers, and
//!   [`stripe::event_from`], the normalized event of a whole Stripe event.
//! - [`event`]: [`event()`], the sample event plugin tests start from.
//! - [`job`]: [`deliver`] a job to a plugin as herald's dispatcher would.
//! - [`outcome`]: assertions on a delivery's [`Outcome`](herald_plugin_api::Outcome).
//! - [`validate_table`] and [`issue_keys`]: a plugin's table checked as herald would, and
//!   the keys of its problems.
//! - [`tcp_gate`]: [`TcpGate`], a forwarder a test shuts to make a server unreachable.
#![forbid(unsafe_code)]

pub mod event;
pub mod form;
pub mod google;
pub mod http_sink;
pub mod job;
pub mod outcome;
pub mod smtp_sink;
pub mod stripe;
pub mod stripe_api;
pub mod tcp_gate;
pub mod templates;

use std::collections::HashMap;

use herald_plugin_api::{ConfigIssue, PluginConfig, ValidateContext};
use serde_json::{Map, Value};

pub use event::event;
pub use form::form_fields;
pub use google::FakeGoogle;
pub use http_sink::{canned, closed_port, HttpSink, Recorded};
pub use job::{deliver, deliver_in_context, job, Attempt};
pub use outcome::{assert_failed, assert_held, assert_retry, failed_reason, reason};
pub use smtp_sink::{DataReply, ReceivedMail, SmtpSink};
pub use tcp_gate::TcpGate;
pub use templates::{FakeTemplates, TemplateFiles};

/// Asserts that `text` holds every one of `needles`, showing the whole text if not.
///
/// # Panics
/// When a needle is missing.
#[track_caller]
pub fn assert_contains(text: &str, needles: &[&str]) {
    for needle in needles {
        assert!(text.contains(needle), "no {needle:?} in:\n{text}");
    }
}

/// The names of the entries in `dir`, sorted.
///
/// # Panics
/// When `dir` cannot be read: the test's own folder is missing.
pub fn file_names(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .collect();
    names.sort();
    names
}

/// A rule action's parameters (or any JSON table) from a `json!({ … })` object.
///
/// # Panics
/// When `value` is not an object: a mistake in the test itself.
pub fn params(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

/// `table` read as a `C` (its deserialization must succeed) and validated as the
/// instance at `key`, with no environment variables and no templates.
///
/// # Panics
/// When `table` does not deserialize: a mistake in the test itself.
///
/// # Errors
/// The dotted keys of the problems found, sorted.
pub fn validate_table<C: PluginConfig>(
    key: &str,
    table: Value,
) -> Result<C::Instance, Vec<String>> {
    let config: C = serde_json::from_value(table).expect("the table deserializes");
    config
        .validate(&ValidateContext::new(key, &HashMap::new()))
        .map_err(|issues| issue_keys(&issues))
}

/// The dotted keys of `issues`, sorted.
pub fn issue_keys<'a>(issues: impl IntoIterator<Item = &'a ConfigIssue>) -> Vec<String> {
    let mut keys: Vec<String> = issues.into_iter().map(|issue| issue.key.clone()).collect();
    keys.sort_unstable();
    keys
}
