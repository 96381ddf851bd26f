//! Where `herald trigger` sends, and with which secret: the flags, else the config.
//!
//! Only `[server].listen` and `[sources.stripe].secret` are read, so a config whose
//! plugins lack their credentials here still serves for trying herald out.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;

use anyhow::{bail, Context};
use herald_plugin_api::{expand_env, Env};

use crate::config::RawConfig;

/// The path Stripe events are received at.
pub const WEBHOOK_PATH: &str = "/webhooks/stripe";

/// The URL and secret a trigger uses.
#[derive(Debug, Clone)]
pub struct Target {
    /// Where to POST.
    pub url: String,
    /// The endpoint secret to sign with, `whsec_…`.
    pub secret: String,
}

/// The secret to sign with: `secret` if given, else the config's `[sources.stripe]`.
///
/// # Errors
/// As [`resolve`], for the secret alone.
pub fn resolve_secret(path: &Path, secret: Option<&str>, env: &dyn Env) -> anyhow::Result<String> {
    // A URL given reads only the secret from the config.
    resolve(path, Some(""), secret, env).map(|target| target.secret)
}

/// Fills in what the flags left out from the config at `path`, which is read only
/// if something is missing.
///
/// # Errors
/// When the config cannot be read or parsed, has no `[sources.stripe]`, its secret's
/// variable is not set, or it listens on port 0.
pub fn resolve(
    path: &Path,
    url: Option<&str>,
    secret: Option<&str>,
    env: &dyn Env,
) -> anyhow::Result<Target> {
    if let (Some(url), Some(secret)) = (url, secret) {
        return Ok(Target {
            url: url.to_owned(),
            secret: secret.to_owned(),
        });
    }
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "cannot read config file {} (or pass --url and --secret)",
            path.display()
        )
    })?;
    let raw: RawConfig = toml::from_str(&text)
        .map_err(|err| anyhow::anyhow!("{}: {}", path.display(), err.to_string().trim_end()))?;
    let url = match url {
        Some(url) => url.to_owned(),
        None => default_url(raw.server.listen)?,
    };
    let secret = match secret {
        Some(secret) => secret.to_owned(),
        None => {
            let Some(stripe) = raw.sources.stripe else {
                bail!(
                    "{} has no [sources.stripe] secret: pass --secret or set STRIPE_WEBHOOK_SECRET",
                    path.display()
                );
            };
            let base = path.parent().unwrap_or_else(|| std::path::Path::new("."));
            let env = herald_plugin_api::RelativeTo::new(env, base);
            expand_env(stripe.secret.get_ref(), &env).with_context(|| {
                format!(
                    "cannot read sources.stripe.secret of {} (or pass --secret)",
                    path.display()
                )
            })?
        }
    };
    Ok(Target { url, secret })
}

/// `http://<listen>/webhooks/stripe`, with an unspecified address (`0.0.0.0`, `::`)
/// replaced by loopback: herald listens there too, and it is the one to send to.
///
/// # Errors
/// When herald listens on port 0, whose real port only the running process knows.
pub fn default_url(listen: SocketAddr) -> anyhow::Result<String> {
    if listen.port() == 0 {
        bail!("[server].listen is {listen}: port 0 is chosen at start-up, pass --url");
    }
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    Ok(format!(
        "http://{}{WEBHOOK_PATH}",
        SocketAddr::new(ip, listen.port())
    ))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn the_default_url_is_the_listen_address_with_loopback_for_any() {
        let url = |addr: &str| default_url(addr.parse().unwrap());
        assert_eq!(
            url("127.0.0.1:8787").unwrap(),
            "http://127.0.0.1:8787/webhooks/stripe"
        );
        assert_eq!(
            url("0.0.0.0:8080").unwrap(),
            "http://127.0.0.1:8080/webhooks/stripe"
        );
        assert_eq!(
            url("[::]:8080").unwrap(),
            "http://[::1]:8080/webhooks/stripe"
        );
        assert!(url("127.0.0.1:0")
            .unwrap_err()
            .to_string()
            .contains("--url"));
    }

    #[test]
    fn the_config_gives_what_the_flags_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "[server]\nlisten = \"0.0.0.0:9000\"\n[sources.stripe]\nsecret = \"${S}\"\n",
        )
        .unwrap();
        let env = HashMap::from([("S".to_owned(), "whsec_env".to_owned())]);
        let target = resolve(&path, None, None, &env).unwrap();
        assert_eq!(target.url, "http://127.0.0.1:9000/webhooks/stripe");
        assert_eq!(target.secret, "whsec_env");
        let target = resolve(&path, Some("http://x/y"), Some("whsec_flag"), &env).unwrap();
        assert_eq!(
            (target.url.as_str(), target.secret.as_str()),
            ("http://x/y", "whsec_flag")
        );

        let err = resolve(&path, None, None, &HashMap::new()).unwrap_err();
        assert!(format!("{err:#}").contains("`S` is not set"), "{err:#}");
        let missing = resolve(&dir.path().join("none.toml"), None, Some("s"), &env).unwrap_err();
        assert!(
            missing.to_string().contains("--url and --secret"),
            "{missing}"
        );
    }
}
