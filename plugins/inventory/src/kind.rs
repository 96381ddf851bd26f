//! [`ValidatedInventory`] as herald's start-up sees it: stock levels kept in the ledger
//! herald hands over in the [`BuildContext`].

use std::sync::Arc;

use herald_plugin_api::{
    async_trait, ActionContext, ActionSpec, BuildContext, Instance, Issues, Plugin, PluginError,
};

use crate::action::{validate_action, InventoryAction};
use crate::config::ValidatedInventory;

#[async_trait]
impl Instance for ValidatedInventory {
    fn describe(&self) -> String {
        "keeps stock levels in herald's database".to_owned()
    }

    fn validate_action(&self, cx: &ActionContext<'_>) -> Result<ActionSpec, Issues> {
        let params = cx.params;
        cx.finish(
            validate_action(params, cx.templates),
            || match InventoryAction::from_params(params) {
                Ok(action) => ActionSpec::none().with_inline("items", action.items),
                Err(_) => ActionSpec::none(),
            },
        )
    }

    fn max_in_flight(&self) -> Option<usize> {
        Some(self.max_concurrency)
    }

    async fn build(&self, cx: &BuildContext) -> Result<Arc<dyn Plugin>, PluginError> {
        crate::plugin::build(self.clone(), cx)
    }
}
