//! [`Inventory`]: the inventory kind as herald's start-up sees it.

use std::sync::Arc;

use herald_plugin_api::{
    async_trait, ActionContext, ActionSpec, BuildContext, Issues, Plugin, PluginError, PluginKind,
    ValidateContext,
};
use serde_json::{Map, Value};

use crate::action::{validate_action, InventoryAction};
use crate::config::{InventoryConfig, ValidatedInventory};

/// `[plugins.inventory.<name>]`: stock levels kept in the ledger herald hands over in
/// the [`BuildContext`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Inventory;

#[async_trait]
impl PluginKind for Inventory {
    const NAME: &'static str = "inventory";
    type Config = InventoryConfig;
    type Validated = ValidatedInventory;

    fn validate(
        config: InventoryConfig,
        cx: &ValidateContext<'_>,
    ) -> Result<ValidatedInventory, Issues> {
        config.validate(cx)
    }

    fn validate_action(
        _validated: &ValidatedInventory,
        params: &Map<String, Value>,
        cx: &ActionContext<'_>,
    ) -> Result<ActionSpec, Issues> {
        cx.finish(
            validate_action(params, cx.templates),
            || match InventoryAction::from_params(params) {
                Ok(action) => ActionSpec::none().with_inline("items", action.items),
                Err(_) => ActionSpec::none(),
            },
        )
    }

    fn max_in_flight(validated: &ValidatedInventory) -> Option<usize> {
        Some(validated.max_concurrency)
    }

    fn describe(_validated: &ValidatedInventory) -> String {
        "keeps stock levels in herald's database".to_owned()
    }

    async fn build(
        validated: ValidatedInventory,
        cx: &BuildContext,
    ) -> Result<Arc<dyn Plugin>, PluginError> {
        crate::plugin::build(validated, cx)
    }
}
