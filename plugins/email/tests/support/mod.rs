//! Helpers shared by the email plugin's integration tests.

pub mod smtp_sink;
pub mod templates;
