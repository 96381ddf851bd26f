//! [`PluginSpec`]: one validated instance with its kind erased, so the rest of herald
//! handles every kind the same way, through [`Instance`].

use std::fmt;
use std::sync::Arc;

use herald_plugin_api::{
    ActionContext, ActionSpec, BuildContext, Instance, Issues, Job, Plugin, PluginConfig,
    PluginError, Preview, RetryConfig, Templates, ValidateContext,
};

use super::delivery::Delivery;

/// The in-flight limit of an instance whose kind sets none: above any sane
/// `dispatch.concurrency`, so the dispatcher's own limit is what applies.
pub(super) const UNLIMITED: usize = 1024;

/// A kind's validation of one instance's table, waiting to run.
type Validate = Box<dyn FnOnce(&ValidateContext<'_>) -> Result<Arc<dyn Instance>, Issues>>;

/// A configured instance whose table is parsed but not yet validated.
pub(crate) struct Pending {
    pub(super) kind: &'static str,
    pub(super) name: String,
    validate: Validate,
}

impl Pending {
    /// The instance `name`, configured as `config`.
    pub(super) fn new<C: PluginConfig>(name: String, config: C) -> Self {
        Self {
            kind: C::KIND,
            name,
            validate: Box::new(move |cx| Ok(Arc::new(config.validate(cx)?) as Arc<dyn Instance>)),
        }
    }

    /// Runs the kind's validation.
    pub(super) fn validate(self, cx: &ValidateContext<'_>) -> Result<PluginSpec, Issues> {
        let instance = (self.validate)(cx)?;
        Ok(PluginSpec {
            name: self.name,
            kind: self.kind,
            instance,
            delivery: Delivery::default(),
        })
    }
}

/// A configured instance, validated but not yet built.
#[derive(Clone)]
pub struct PluginSpec {
    name: String,
    kind: &'static str,
    instance: Arc<dyn Instance>,
    delivery: Delivery,
}

impl fmt::Debug for PluginSpec {
    // Validated settings may hold secrets; name the instance only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PluginSpec")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl PluginSpec {
    /// The instance's name, as rules refer to it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The instance's kind, as in `[plugins.<kind>.<name>]`.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// Retry overrides for this instance's jobs.
    pub fn retry(&self) -> RetryConfig {
        self.delivery.retry
    }

    /// The instance's `retry`, `rate_limit` and `failover_after_secs`.
    pub fn delivery(&self) -> Delivery {
        self.delivery
    }

    /// The same instance with these dispatcher settings.
    #[must_use]
    pub fn with_delivery(self, delivery: Delivery) -> Self {
        Self { delivery, ..self }
    }

    /// Most deliveries in flight to this instance at once.
    pub fn max_concurrency(&self) -> usize {
        self.instance.max_in_flight().unwrap_or(UNLIMITED)
    }

    /// One line for the start-up log: what the instance is and where its output goes.
    pub fn describe(&self) -> String {
        format!("{} ({}) {}", self.name, self.kind, self.instance.describe())
    }

    /// Checks one action's parameters against this instance.
    ///
    /// # Errors
    /// Every problem found.
    pub fn validate_action(&self, cx: &ActionContext<'_>) -> Result<ActionSpec, Issues> {
        self.instance.validate_action(cx)
    }

    /// What delivering `job` would send, secrets masked; `None` when the kind has no
    /// preview of its own ([`Instance::preview`]).
    pub fn preview(
        &self,
        job: &Job<'_>,
        templates: &dyn Templates,
    ) -> Option<Result<Preview, String>> {
        self.instance.preview(job, templates)
    }

    /// Builds the running instance.
    ///
    /// # Errors
    /// When the instance cannot be set up.
    pub async fn build(&self, cx: &BuildContext) -> Result<Arc<dyn Plugin>, PluginError> {
        self.instance.build(&cx.for_instance(&self.name)).await
    }
}
