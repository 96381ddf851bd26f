//! Receive stage: webhook providers. Each one verifies a request's authenticity on
//! the raw bytes and only then normalizes the payload into an [`Event`].
//!
//! [`Event`]: herald_plugin_api::Event

pub mod stripe;
