mod config;
mod crash;
mod delivery;
mod docs;
mod email;
mod helpers;
#[path = "../../plugins/webhook/tests/support/http_sink.rs"]
mod http_sink;
mod plugins;
mod replicas;
mod rules;
mod shutdown;
#[path = "../../plugins/email/tests/support/smtp_sink.rs"]
mod smtp_sink;
mod store;
mod webhooks;
