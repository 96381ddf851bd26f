//! The part of the config operator commands need: `[database]` and `[dispatch]`.
//!
//! `herald dead-letters` and the like act on the database only, so they must not
//! demand the webhook secret or every plugin's credentials: the rest of the file is
//! parsed as TOML and otherwise left alone (`herald check` judges it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use herald_plugin_api::Env;
use serde::de::IgnoredAny;
use serde::Deserialize;

use super::database::{base_dir, database_settings};
use super::locate::Collector;
use super::raw::{DatabaseConfig, DispatchConfig};
use super::validate::dispatch_settings;
use super::{ConfigError, DatabaseSettings};

/// What operator commands read from the config file.
#[derive(Clone)]
pub struct StoreConfig {
    /// The file it was read from.
    pub path: PathBuf,
    pub database: DatabaseSettings,
    /// `dispatch.retention_days`; `None` keeps everything.
    pub retention: Option<Duration>,
    /// The names of the `[plugins.<kind>.<name>]` tables in the file, unchecked.
    pub instances: Vec<String>,
}

/// The two sections, every other key ignored.
#[derive(Deserialize)]
struct Sections {
    #[serde(default)]
    database: DatabaseConfig,
    #[serde(default)]
    dispatch: DispatchConfig,
    /// Only the instance names: their settings (and secrets) are not read.
    #[serde(default)]
    plugins: BTreeMap<String, BTreeMap<String, IgnoredAny>>,
}

impl StoreConfig {
    /// Reads `[database]` and `[dispatch]` of the config file at `path`; only their
    /// `${VAR}` references are looked up in `env`.
    ///
    /// # Errors
    /// When the file cannot be read, is not TOML, or those sections have problems.
    pub fn load(path: &Path, env: &dyn Env) -> Result<Self, ConfigError> {
        Self::from_toml(&super::read(path)?, path, env)
    }

    /// [`StoreConfig::load`] on config text as if it were read from `path`.
    ///
    /// # Errors
    /// When the text is not TOML, or those sections have problems.
    pub fn from_toml(text: &str, path: &Path, env: &dyn Env) -> Result<Self, ConfigError> {
        let parsed = super::schema::parse::<Sections>(text).map_err(|err| ConfigError::Parse {
            path: path.to_owned(),
            message: err.to_string().trim_end().to_owned(),
        })?;
        let mut issues = Collector {
            text,
            issues: parsed.issues,
        };
        let Some(sections) = parsed.raw else {
            return Err(ConfigError::Invalid {
                path: path.to_owned(),
                issues: issues.issues,
            });
        };
        let database = database_settings(&sections.database, &base_dir(path), env, &mut issues);
        let dispatch = dispatch_settings(&sections.dispatch, &mut issues);
        match database {
            Some(database) if issues.issues.is_empty() => Ok(Self {
                path: path.to_owned(),
                database,
                retention: dispatch.retention,
                instances: sections
                    .plugins
                    .into_values()
                    .flat_map(BTreeMap::into_keys)
                    .collect(),
            }),
            _ => Err(ConfigError::Invalid {
                path: path.to_owned(),
                issues: issues.issues,
            }),
        }
    }
}

impl From<&super::Config> for StoreConfig {
    fn from(config: &super::Config) -> Self {
        Self {
            path: config.path.clone(),
            database: config.restart.database.clone(),
            retention: config.restart.dispatch.retention,
            instances: config
                .reloadable
                .plugins
                .iter()
                .map(|spec| spec.name().to_owned())
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn secrets_elsewhere_in_the_file_are_not_looked_up() {
        let text = "[database]\nurl = \"sqlite://${DB_FILE}\"\n\n[sources.stripe]\n\
                    secret = \"${STRIPE_WEBHOOK_SECRET}\"\n\n[plugins.email.mailer]\n\
                    password = \"${SMTP_PASSWORD}\"\n";
        let env = HashMap::from([("DB_FILE".to_owned(), "ops.db".to_owned())]);
        let config = StoreConfig::from_toml(text, Path::new("/srv/herald/config.toml"), &env)
            .unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(config.database.display, "sqlite:///srv/herald/ops.db");
        assert_eq!(config.retention, Some(Duration::from_secs(30 * 24 * 3600)));
    }

    #[test]
    fn problems_in_the_two_sections_are_all_reported() {
        let text = "[database]\nurl = 5\n\n[dispatch]\nconcurency = 8\n\n[sever]\n";
        let Err(err) = StoreConfig::from_toml(text, Path::new("c.toml"), &HashMap::new()) else {
            panic!("accepted");
        };
        let err = err.to_string();
        assert!(err.starts_with("c.toml has 2 problems:"), "{err}");
        assert!(
            err.contains("c.toml:2: database.url: invalid type"),
            "{err}"
        );
        assert!(
            err.contains("c.toml:5: dispatch.concurency: unknown field"),
            "{err}"
        );
    }

    #[test]
    fn the_database_url_still_needs_its_variable() {
        let text = "[database]\nurl = \"${DATABASE_URL}\"\n";
        let Err(err) = StoreConfig::from_toml(text, Path::new("c.toml"), &HashMap::new()) else {
            panic!("accepted without DATABASE_URL");
        };
        assert_eq!(
            err.to_string(),
            "c.toml has 1 problem:\n  c.toml:2: database.url: environment variable `DATABASE_URL` is not set"
        );
    }
}
