//! [`Orders`]: the orders kind as herald's start-up sees it.

use std::sync::Arc;

use herald_plugin_api::{
    async_trait, ActionContext, ActionSpec, BuildContext, Issues, Plugin, PluginError, PluginKind,
    ValidateContext,
};
use serde_json::{Map, Value};

use crate::action::validate_action;
use crate::config::{OrdersConfig, ValidatedOrders};

/// `[plugins.orders.<name>]`: order statuses kept in the ledger herald hands over in
/// the [`BuildContext`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Orders;

#[async_trait]
impl PluginKind for Orders {
    const NAME: &'static str = "orders";
    type Config = OrdersConfig;
    type Validated = ValidatedOrders;

    fn validate(config: OrdersConfig, cx: &ValidateContext<'_>) -> Result<ValidatedOrders, Issues> {
        config.validate(cx)
    }

    /// An orders action renders nothing.
    fn validate_action(
        _validated: &ValidatedOrders,
        params: &Map<String, Value>,
        cx: &ActionContext<'_>,
    ) -> Result<ActionSpec, Issues> {
        cx.finish(validate_action(params), ActionSpec::none)
    }

    fn max_in_flight(validated: &ValidatedOrders) -> Option<usize> {
        Some(validated.max_concurrency)
    }

    fn describe(_validated: &ValidatedOrders) -> String {
        "keeps order statuses in herald's database".to_owned()
    }

    async fn build(
        validated: ValidatedOrders,
        cx: &BuildContext,
    ) -> Result<Arc<dyn Plugin>, PluginError> {
        crate::plugin::build(validated, cx)
    }
}
