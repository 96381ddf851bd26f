//! `[database]`: the connection URL, with `${VAR}`s expanded and a relative SQLite
//! path taken from the config file's folder; shared by full validation and the
//! operator commands' [`StoreConfig`](super::StoreConfig).

use std::path::{Path, PathBuf};

use herald_plugin_api::Env;
use secrecy::SecretString;

use super::locate::Collector;
use super::raw::DatabaseConfig;
use super::DatabaseSettings;

/// The database a config without `[database]` uses: a file beside the config.
const DEFAULT_DATABASE_URL: &str = "sqlite://herald.db";

/// The folder relative paths in the config at `path` are taken from.
pub(super) fn base_dir(path: &Path) -> PathBuf {
    let base_dir = path
        .parent()
        .map(Path::to_path_buf)
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."));
    // Absolute, so logs tell an operator exactly which files herald uses.
    std::path::absolute(&base_dir).unwrap_or(base_dir)
}

pub(super) fn database_settings(
    raw: &DatabaseConfig,
    base_dir: &Path,
    env: &dyn Env,
    issues: &mut Collector<'_>,
) -> Option<DatabaseSettings> {
    let url = match &raw.url {
        Some(url) => issues.expand(url, "database.url", env)?,
        None => DEFAULT_DATABASE_URL.to_owned(),
    };
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Some(DatabaseSettings {
            display: redact_password(&url),
            url: SecretString::from(url),
        });
    }
    let Some(rest) = url.strip_prefix("sqlite:") else {
        let message = "expected sqlite://PATH or postgres://USER@HOST/DB";
        match &raw.url {
            Some(spanned) => issues.at(spanned.span(), "database.url", message),
            None => issues.unplaced("database.url", message),
        }
        return None;
    };
    let rest = rest.trim_start_matches("//");
    let (file, query) = rest.split_once('?').unwrap_or((rest, ""));
    let resolved = if file == ":memory:" || Path::new(file).is_absolute() {
        PathBuf::from(file)
    } else {
        base_dir.join(file)
    };
    let mut full = format!("sqlite://{}", resolved.display());
    if !query.is_empty() {
        full.push('?');
        full.push_str(query);
    }
    Some(DatabaseSettings {
        display: full.clone(),
        url: SecretString::from(full),
    })
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`, for logs.
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            let hidden = if userinfo.contains(':') { ":***" } else { "" };
            format!("{scheme}://{user}{hidden}@{host}/{path}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_passwords_stay_out_of_logs() {
        assert_eq!(
            redact_password("postgres://herald:s3cret@db:5432/herald"),
            "postgres://herald:***@db:5432/herald"
        );
        assert_eq!(
            redact_password("postgres://herald@127.0.0.1/herald"),
            "postgres://herald@127.0.0.1/herald"
        );
    }
}
