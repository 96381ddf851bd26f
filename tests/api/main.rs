mod config;
mod email;
mod helpers;
mod rules;
mod shutdown;
#[path = "../../plugins/email/tests/support/smtp_sink.rs"]
mod smtp_sink;
mod webhooks;
