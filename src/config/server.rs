//! `[server]`: checked values for the listener.

use std::time::Duration;

use super::locate::Collector;
use super::raw::ServerConfig;
use super::ServerSettings;

/// Checks `[server]`; problems go to `issues`.
pub(super) fn server_settings(raw: &ServerConfig, issues: &mut Collector<'_>) -> ServerSettings {
    if raw.body_limit_bytes == 0 {
        issues.unplaced("server.body_limit_bytes", "must be greater than 0");
    }
    for (key, secs) in [
        ("server.request_timeout_secs", raw.request_timeout_secs),
        (
            "server.header_read_timeout_secs",
            raw.header_read_timeout_secs,
        ),
        ("server.body_read_timeout_secs", raw.body_read_timeout_secs),
        ("server.idle_timeout_secs", raw.idle_timeout_secs),
    ] {
        if secs == 0 {
            issues.unplaced(key, "must be at least 1");
        }
    }
    if raw.max_connections == Some(0) {
        issues.unplaced("server.max_connections", "must be at least 1");
    }
    ServerSettings {
        listen: raw.listen,
        body_limit_bytes: raw.body_limit_bytes,
        request_timeout: Duration::from_secs(raw.request_timeout_secs),
        header_read_timeout: Duration::from_secs(raw.header_read_timeout_secs),
        body_read_timeout: Duration::from_secs(raw.body_read_timeout_secs),
        idle_timeout: Duration::from_secs(raw.idle_timeout_secs),
        max_connections: raw.max_connections,
    }
}
