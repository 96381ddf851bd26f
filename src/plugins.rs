//! The closed set of plugin kinds, matched here rather than registered at run time.
//!
//! Config validation asks this module whether an action's parameters suit its
//! plugin's kind; start-up asks it to build each configured instance.

use std::collections::HashMap;
use std::sync::Arc;

use herald_plugin_api::{Plugin, PluginError, RetryConfig, Templates};
use herald_plugin_email::{TransportSettings, ValidatedEmail};
use herald_plugin_exec::ValidatedExec;
use herald_plugin_inventory::ValidatedInventory;
use herald_plugin_orders::ValidatedOrders;
use herald_plugin_push::{PushSettings, ValidatedPush};
use herald_plugin_sms::{ProviderSettings as SmsProviderSettings, ValidatedSms};
use herald_plugin_webhook::ValidatedWebhook;
use serde_json::{Map, Value};

use crate::store::Store;

/// A kind of plugin herald can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluginKind {
    /// `[plugins.email.*]`
    Email,
    /// `[plugins.webhook.*]`
    Webhook,
    /// `[plugins.exec.*]`
    Exec,
    /// `[plugins.sms.*]`
    Sms,
    /// `[plugins.push.*]`
    Push,
    /// `[plugins.orders.*]`
    Orders,
    /// `[plugins.inventory.*]`
    Inventory,
}

impl PluginKind {
    /// The kind as written in `[plugins.<kind>.<name>]`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Webhook => "webhook",
            Self::Exec => "exec",
            Self::Sms => "sms",
            Self::Push => "push",
            Self::Orders => "orders",
            Self::Inventory => "inventory",
        }
    }
}

/// A configured instance, validated but not yet built.
#[derive(Debug, Clone)]
pub struct PluginSpec {
    pub name: String,
    pub settings: PluginSettings,
    /// Retry overrides for this instance's jobs.
    pub retry: RetryConfig,
}

/// The in-flight limit of an instance whose kind sets none: above any sane
/// `dispatch.concurrency`, so the dispatcher's own limit is what applies.
const UNLIMITED: usize = 1024;

/// Validated settings per kind.
#[derive(Debug, Clone)]
pub enum PluginSettings {
    Email(ValidatedEmail),
    Webhook(ValidatedWebhook),
    Exec(ValidatedExec),
    Sms(ValidatedSms),
    Push(ValidatedPush),
    Orders(ValidatedOrders),
    Inventory(ValidatedInventory),
}

impl PluginSpec {
    /// Most deliveries in flight to this instance at once: the SMTP pool's size
    /// (lettre's pool caps idle connections only, so this is what bounds them), or
    /// the webhook's `max_concurrency`.
    pub fn max_concurrency(&self) -> usize {
        match &self.settings {
            PluginSettings::Email(settings) => match &settings.transport {
                TransportSettings::Smtp(smtp) => {
                    usize::try_from(smtp.pool_max_size).unwrap_or(UNLIMITED)
                }
                TransportSettings::File { .. } => UNLIMITED,
            },
            PluginSettings::Webhook(settings) => settings.max_concurrency,
            PluginSettings::Exec(settings) => settings.max_concurrency,
            PluginSettings::Sms(settings) => settings.max_concurrency,
            PluginSettings::Push(settings) => settings.max_concurrency,
            PluginSettings::Orders(settings) => settings.max_concurrency,
            PluginSettings::Inventory(settings) => settings.max_concurrency,
        }
    }

    /// One line for the start-up log: what the instance is and where its output goes.
    pub fn describe(&self) -> String {
        match &self.settings {
            PluginSettings::Email(settings) => match &settings.transport {
                TransportSettings::File { outbox } => format!(
                    "{} (email) writes mail as .eml files into {}",
                    self.name,
                    outbox.display()
                ),
                TransportSettings::Smtp(smtp) => format!(
                    "{} (email) sends mail through SMTP {}:{}",
                    self.name, smtp.host, smtp.port
                ),
            },
            // The origin only: a query string might hold a token.
            PluginSettings::Webhook(settings) => format!(
                "{} (webhook) posts to {}{}",
                self.name,
                settings.url.origin().ascii_serialization(),
                settings.url.path()
            ),
            PluginSettings::Exec(settings) => {
                format!("{} (exec) runs {}", self.name, settings.command.display())
            }
            PluginSettings::Sms(settings) => {
                let provider = match &settings.provider {
                    SmsProviderSettings::Twilio(_) => "Twilio",
                    SmsProviderSettings::Json(_) => "a JSON gateway",
                };
                format!("{} (sms) sends texts through {provider}", self.name)
            }
            PluginSettings::Push(settings) => {
                let provider = match &settings.provider {
                    PushSettings::Ntfy(_) => "ntfy",
                    PushSettings::Fcm(_) => "Firebase Cloud Messaging",
                    PushSettings::Json(_) => "a JSON endpoint",
                };
                format!("{} (push) notifies through {provider}", self.name)
            }
            PluginSettings::Orders(_) => {
                format!(
                    "{} (orders) keeps order statuses in herald's database",
                    self.name
                )
            }
            PluginSettings::Inventory(_) => format!(
                "{} (inventory) keeps stock levels in herald's database",
                self.name
            ),
        }
    }

    /// An email instance.
    pub fn email(name: String, settings: ValidatedEmail, retry: RetryConfig) -> Self {
        Self {
            name,
            settings: PluginSettings::Email(settings),
            retry,
        }
    }

    /// An exec instance.
    pub fn exec(name: String, settings: ValidatedExec) -> Self {
        let retry = settings.retry;
        Self {
            name,
            settings: PluginSettings::Exec(settings),
            retry,
        }
    }

    /// An SMS instance.
    pub fn sms(name: String, settings: ValidatedSms) -> Self {
        let retry = settings.retry;
        Self {
            name,
            settings: PluginSettings::Sms(settings),
            retry,
        }
    }

    /// An orders instance.
    pub fn orders(name: String, settings: ValidatedOrders) -> Self {
        let retry = settings.retry;
        Self {
            name,
            settings: PluginSettings::Orders(settings),
            retry,
        }
    }

    /// An inventory instance.
    pub fn inventory(name: String, settings: ValidatedInventory) -> Self {
        let retry = settings.retry;
        Self {
            name,
            settings: PluginSettings::Inventory(settings),
            retry,
        }
    }

    /// A push instance.
    pub fn push(name: String, settings: ValidatedPush) -> Self {
        let retry = settings.retry;
        Self {
            name,
            settings: PluginSettings::Push(settings),
            retry,
        }
    }

    /// A webhook instance.
    pub fn webhook(name: String, settings: ValidatedWebhook) -> Self {
        let retry = settings.retry;
        Self {
            name,
            settings: PluginSettings::Webhook(settings),
            retry,
        }
    }
}

/// Checks one action's parameters against the instance that will carry it out
/// (push rules, for one, depend on the instance's provider).
///
/// # Errors
/// Every problem, as a sentence.
pub fn validate_action(
    spec: &PluginSpec,
    params: &Map<String, Value>,
    templates: &dyn Templates,
) -> Result<(), Vec<String>> {
    match &spec.settings {
        PluginSettings::Email(_) => herald_plugin_email::validate_action(params, templates),
        PluginSettings::Webhook(_) => herald_plugin_webhook::validate_action(params, templates),
        PluginSettings::Exec(_) => herald_plugin_exec::validate_action(params, templates),
        PluginSettings::Sms(_) => herald_plugin_sms::validate_action(params, templates),
        PluginSettings::Push(settings) => settings.validate_action(params, templates),
        PluginSettings::Orders(_) => herald_plugin_orders::validate_action(params),
        PluginSettings::Inventory(_) => herald_plugin_inventory::validate_action(params, templates),
    }
}

/// The running plugin instances, by name.
#[derive(Clone, Default)]
pub struct PluginSet {
    instances: HashMap<String, Arc<dyn Plugin>>,
    retry: HashMap<String, RetryConfig>,
    max_concurrency: HashMap<String, usize>,
}

impl PluginSet {
    /// Builds every configured instance (this is where plugins do their I/O set-up).
    ///
    /// # Errors
    /// The first instance that could not be built.
    pub async fn build(
        specs: &[PluginSpec],
        templates: Arc<dyn Templates>,
        store: &Store,
    ) -> Result<Self, PluginError> {
        let mut instances = HashMap::new();
        let mut retry = HashMap::new();
        let mut max_concurrency = HashMap::new();
        for spec in specs {
            let plugin = match &spec.settings {
                PluginSettings::Email(settings) => {
                    herald_plugin_email::build(&spec.name, settings.clone(), templates.clone())
                        .await?
                }
                PluginSettings::Webhook(settings) => {
                    herald_plugin_webhook::build(&spec.name, settings.clone(), templates.clone())
                        .await?
                }
                PluginSettings::Exec(settings) => {
                    herald_plugin_exec::build(&spec.name, settings.clone(), templates.clone())
                        .await?
                }
                PluginSettings::Sms(settings) => {
                    herald_plugin_sms::build(&spec.name, settings.clone(), templates.clone())
                        .await?
                }
                PluginSettings::Push(settings) => {
                    herald_plugin_push::build(&spec.name, settings.clone(), templates.clone())
                        .await?
                }
                PluginSettings::Orders(settings) => herald_plugin_orders::build(
                    &spec.name,
                    settings.clone(),
                    Arc::new(store.clone()),
                ),
                PluginSettings::Inventory(settings) => herald_plugin_inventory::build(
                    &spec.name,
                    settings.clone(),
                    Arc::new(store.clone()),
                    templates.clone(),
                ),
            };
            instances.insert(spec.name.clone(), plugin);
            retry.insert(spec.name.clone(), spec.retry);
            max_concurrency.insert(spec.name.clone(), spec.max_concurrency());
        }
        Ok(Self {
            instances,
            retry,
            max_concurrency,
        })
    }

    /// The retry overrides of the instance named `name`.
    pub fn retry_for(&self, name: &str) -> RetryConfig {
        self.retry.get(name).copied().unwrap_or_default()
    }

    /// Most deliveries in flight to the instance named `name` at once.
    pub fn max_concurrency(&self, name: &str) -> usize {
        self.max_concurrency.get(name).copied().unwrap_or(UNLIMITED)
    }

    /// The names of every instance.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.instances.keys().map(String::as_str)
    }

    /// The instance named `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn Plugin>> {
        self.instances.get(name)
    }
}
