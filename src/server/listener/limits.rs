//! What the listener works out at start: the descriptor limit, the default
//! connection cap below it, and whether the address is reachable from elsewhere.

use std::net::SocketAddr;

use tracing::warn;

/// The cap when `server.max_connections` is not set and descriptors allow it.
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;

/// Descriptors kept back from webhook connections: the database pool, plugins'
/// HTTP clients and files, the SQLite WAL, logs, the admin listener's connections.
pub const RESERVED_DESCRIPTORS: u64 = 256;

/// The fewest connections the default cap allows, however low the limit.
const MIN_DEFAULT_CONNECTIONS: usize = 16;

/// Raises the soft limit on open descriptors to the hard limit, where the OS
/// allows, and returns the soft limit then in force (`None` where there is none).
pub fn raise_descriptor_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        match rlimit::increase_nofile_limit(u64::MAX) {
            Ok(soft) => Some(soft),
            Err(err) => {
                warn!(error = %err, "cannot raise the open-file limit; keeping the current one");
                rlimit::Resource::NOFILE.get().ok().map(|(soft, _)| soft)
            }
        }
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Connections a descriptor limit of `soft` leaves room for.
pub fn room_for(soft: u64) -> usize {
    usize::try_from(soft.saturating_sub(RESERVED_DESCRIPTORS)).unwrap_or(usize::MAX)
}

/// The cap for a descriptor limit of `soft`: [`DEFAULT_MAX_CONNECTIONS`], or less
/// when the limit leaves less room.
pub fn default_max_connections(soft: Option<u64>) -> usize {
    soft.map_or(DEFAULT_MAX_CONNECTIONS, |soft| {
        room_for(soft).clamp(MIN_DEFAULT_CONNECTIONS, DEFAULT_MAX_CONNECTIONS)
    })
}

/// A warning for an address other hosts can reach, naming what they can reach.
pub fn exposure_warning(addr: SocketAddr) -> Option<String> {
    if addr.ip().is_loopback() {
        return None;
    }
    Some(format!(
        "listening on {addr}, which other hosts can reach: POST /webhooks/*, /healthz, /readyz, /metrics are exposed; \
         listen on 127.0.0.1 behind a reverse proxy, or firewall the port, unless that is intended"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_cap_stays_below_the_descriptor_limit() {
        assert_eq!(default_max_connections(None), DEFAULT_MAX_CONNECTIONS);
        assert_eq!(
            default_max_connections(Some(1_048_576)),
            DEFAULT_MAX_CONNECTIONS
        );
        assert_eq!(default_max_connections(Some(1024)), 1024 - 256);
        assert_eq!(default_max_connections(Some(100)), MIN_DEFAULT_CONNECTIONS);
    }

    #[test]
    fn only_non_loopback_addresses_warn() {
        let loopback: SocketAddr = "127.0.0.1:8787".parse().unwrap();
        assert_eq!(exposure_warning(loopback), None);
        let loopback6: SocketAddr = "[::1]:8787".parse().unwrap();
        assert_eq!(exposure_warning(loopback6), None);

        let any: SocketAddr = "0.0.0.0:8787".parse().unwrap();
        let warning = exposure_warning(any).unwrap();
        assert!(
            warning.contains("/webhooks") && warning.contains("/metrics"),
            "{warning}"
        );
        let any6: SocketAddr = "[::]:8787".parse().unwrap();
        assert!(exposure_warning(any6).is_some());
        let lan: SocketAddr = "192.168.1.5:8787".parse().unwrap();
        assert!(exposure_warning(lan).is_some());
    }
}
