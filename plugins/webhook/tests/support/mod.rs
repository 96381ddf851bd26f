//! Helpers shared by the webhook plugin's integration tests.

pub mod http_sink;
pub mod templates;
