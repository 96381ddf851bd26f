//! [`ValidatedOrders`] as herald's start-up sees it: order statuses kept in the ledger
//! herald hands over in the [`BuildContext`].

use std::sync::Arc;

use herald_plugin_api::{
    async_trait, ActionContext, ActionSpec, BuildContext, Instance, Issues, Plugin, PluginError,
};

use crate::action::validate_action;
use crate::config::ValidatedOrders;

#[async_trait]
impl Instance for ValidatedOrders {
    fn describe(&self) -> String {
        "keeps order statuses in herald's database".to_owned()
    }

    /// An orders action renders nothing.
    fn validate_action(&self, cx: &ActionContext<'_>) -> Result<ActionSpec, Issues> {
        let params = cx.params;
        cx.finish(validate_action(params), ActionSpec::none)
    }

    fn max_in_flight(&self) -> Option<usize> {
        Some(self.max_concurrency)
    }

    async fn build(&self, cx: &BuildContext) -> Result<Arc<dyn Plugin>, PluginError> {
        crate::plugin::build(self.clone(), cx)
    }
}
