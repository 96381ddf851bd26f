//! [`BuildContext`]: the shared handles herald gives [`Instance::build`](crate::Instance::build):
//! templates, HTTP clients, ledgers.
//!
//! Plugins reach herald's database only through the ledger traits handed over here,
//! so neither they nor herald's list of kinds depend on the store.

use std::sync::Arc;
use std::time::Duration;

use crate::ledger::orders::OrderLedger;
use crate::ledger::stock::StockLedger;
use crate::ledger::subscriptions::SubscriptionLedger;
use crate::plugin::PluginError;
use crate::templates::{RenderError, TemplatePart, Templates};

/// The `User-Agent` of every request herald's plugins make.
pub const USER_AGENT: &str = concat!("herald/", env!("CARGO_PKG_VERSION"));

/// What one instance's HTTP client must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientSettings {
    /// The whole request, connecting included, must finish within this.
    pub timeout: Duration,
    /// Pooled idle connections kept; the instance's in-flight limit is a good value.
    pub max_idle: usize,
}

/// Makes the HTTP clients plugins send with; one client per instance.
pub trait HttpClients: Send + Sync {
    /// A client with herald's [`USER_AGENT`], `settings`' timeouts and pool, and no
    /// redirects (a configured URL should be the final one).
    ///
    /// # Errors
    /// When the client cannot be built (its TLS set-up failed).
    fn client(&self, settings: ClientSettings) -> Result<reqwest::Client, reqwest::Error>;
}

/// The clients herald uses in production.
#[derive(Debug, Clone, Copy, Default)]
pub struct StandardClients;

impl HttpClients for StandardClients {
    fn client(&self, settings: ClientSettings) -> Result<reqwest::Client, reqwest::Error> {
        reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(settings.max_idle)
            .build()
    }
}

/// A registry with no templates, for contexts that render nothing.
struct NoTemplates;

impl Templates for NoTemplates {
    fn render(
        &self,
        name: &str,
        _: TemplatePart,
        _: &serde_json::Value,
    ) -> Result<String, RenderError> {
        Err(RenderError(format!(
            "no templates are loaded (asked for `{name}`)"
        )))
    }

    fn has(&self, _: &str, _: TemplatePart) -> bool {
        false
    }

    fn render_inline(&self, _: &str, _: &serde_json::Value) -> Result<String, RenderError> {
        Err(RenderError("no templates are loaded".to_owned()))
    }

    fn check_inline(&self, _: &str) -> Result<(), RenderError> {
        Err(RenderError("no templates are loaded".to_owned()))
    }
}

/// The handles every instance's build may use, and the instance's name.
#[derive(Clone)]
pub struct BuildContext {
    name: String,
    templates: Arc<dyn Templates>,
    http: Arc<dyn HttpClients>,
    orders: Option<Arc<dyn OrderLedger>>,
    stock: Option<Arc<dyn StockLedger>>,
    subscriptions: Option<Arc<dyn SubscriptionLedger>>,
}

impl Default for BuildContext {
    /// A context with no templates, [`StandardClients`] and no ledgers, for kinds
    /// that render nothing.
    fn default() -> Self {
        Self::new(Arc::new(NoTemplates))
    }
}

impl BuildContext {
    /// A context rendering with `templates`, with [`StandardClients`] and no ledgers.
    pub fn new(templates: Arc<dyn Templates>) -> Self {
        Self {
            name: String::new(),
            templates,
            http: Arc::new(StandardClients),
            orders: None,
            stock: None,
            subscriptions: None,
        }
    }

    /// The same context making HTTP clients with `http`.
    #[must_use]
    pub fn with_http(self, http: Arc<dyn HttpClients>) -> Self {
        Self { http, ..self }
    }

    /// The same context with the order ledger the orders plugin keeps statuses in.
    #[must_use]
    pub fn with_order_ledger(self, ledger: Arc<dyn OrderLedger>) -> Self {
        Self {
            orders: Some(ledger),
            ..self
        }
    }

    /// The same context with the stock ledger the inventory plugin moves stock in.
    #[must_use]
    pub fn with_stock_ledger(self, ledger: Arc<dyn StockLedger>) -> Self {
        Self {
            stock: Some(ledger),
            ..self
        }
    }

    /// The same context with the ledger the subscriptions plugin keeps subscriptions in.
    #[must_use]
    pub fn with_subscription_ledger(self, ledger: Arc<dyn SubscriptionLedger>) -> Self {
        Self {
            subscriptions: Some(ledger),
            ..self
        }
    }

    /// The same handles, for building the instance named `name`.
    #[must_use]
    pub fn for_instance(&self, name: &str) -> Self {
        Self {
            name: name.to_owned(),
            ..self.clone()
        }
    }

    /// The instance's name from `config.toml`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The template registry.
    pub fn templates(&self) -> Arc<dyn Templates> {
        self.templates.clone()
    }

    /// An HTTP client for this instance.
    ///
    /// # Errors
    /// When the client cannot be built; the error names the instance.
    pub fn http_client(&self, settings: ClientSettings) -> Result<reqwest::Client, PluginError> {
        self.http.client(settings).map_err(|err| {
            PluginError(format!(
                "`{}`: cannot build the HTTP client: {err}",
                self.name
            ))
        })
    }

    /// The order ledger.
    ///
    /// # Errors
    /// When herald gave none (a bug in herald, or a test that forgot one).
    pub fn order_ledger(&self) -> Result<Arc<dyn OrderLedger>, PluginError> {
        self.orders
            .clone()
            .ok_or_else(|| self.missing("an order ledger"))
    }

    /// The stock ledger.
    ///
    /// # Errors
    /// When herald gave none (a bug in herald, or a test that forgot one).
    pub fn stock_ledger(&self) -> Result<Arc<dyn StockLedger>, PluginError> {
        self.stock
            .clone()
            .ok_or_else(|| self.missing("a stock ledger"))
    }

    /// The subscription ledger.
    ///
    /// # Errors
    /// When herald gave none (a bug in herald, or a test that forgot one).
    pub fn subscription_ledger(&self) -> Result<Arc<dyn SubscriptionLedger>, PluginError> {
        self.subscriptions
            .clone()
            .ok_or_else(|| self.missing("a subscription ledger"))
    }

    fn missing(&self, what: &str) -> PluginError {
        PluginError(format!("`{}` needs {what}, and none was given", self.name))
    }
}
