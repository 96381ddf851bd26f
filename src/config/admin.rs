//! `[admin]`: where the admin listener binds and the token it asks for.

use std::net::SocketAddr;

use herald_plugin_api::{ConfigIssue, Env};
use secrecy::SecretString;
use toml::Spanned;

use super::locate::Collector;
use super::raw::AdminConfig;
use super::AdminSettings;

/// Checks `[admin]`; problems go to `issues`.
pub(super) fn admin_settings(
    raw: &AdminConfig,
    env: &dyn Env,
    issues: &mut Collector<'_>,
) -> AdminSettings {
    let token = raw.token.as_ref().and_then(|token| {
        let expanded = issues.expand(token, "admin.token", env)?;
        if let Some(weakness) = super::token::weakness(&expanded) {
            issues.at(Spanned::span(token), "admin.token", weakness);
            return None;
        }
        Some(SecretString::from(expanded))
    });
    if raw.token.is_none() {
        if let Some(reason) = exposed_without_token(raw.listen) {
            issues.plugin_issue(ConfigIssue::new("admin.listen", reason));
        }
    }
    AdminSettings {
        listen: raw.listen,
        token,
        secure_cookie: raw.secure_cookie,
    }
}

/// Why `listen` needs a configured token: a token made up at start is only logged,
/// and the log is no place to keep the key to a listener other hosts can reach.
fn exposed_without_token(listen: SocketAddr) -> Option<String> {
    (!listen.ip().is_loopback()).then(|| {
        format!(
            "{listen} is reachable from other hosts, and no [admin] token is set: set \
             `token = \"${{HERALD_ADMIN_TOKEN}}\"` (e.g. from `openssl rand -hex 32`), or \
             listen on 127.0.0.1 and let herald make a token at start"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_may_go_without_a_token() {
        for addr in ["127.0.0.1:8788", "[::1]:8788", "127.0.0.2:0"] {
            assert_eq!(exposed_without_token(addr.parse().unwrap()), None, "{addr}");
        }
        for addr in ["0.0.0.0:8788", "[::]:8788", "192.168.1.5:8788"] {
            let reason = exposed_without_token(addr.parse().unwrap()).unwrap();
            assert!(reason.contains("[admin] token"), "{reason}");
        }
    }
}
