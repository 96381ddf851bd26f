//! [`ValidatedSubscriptions`] as herald's start-up sees it.

use std::sync::Arc;

use herald_plugin_api::{
    async_trait, ActionContext, ActionSpec, BuildContext, Instance, Issues, Plugin, PluginError,
};

use crate::config::ValidatedSubscriptions;

#[async_trait]
impl Instance for ValidatedSubscriptions {
    fn describe(&self) -> String {
        "keeps subscriptions and access in herald's database".to_owned()
    }

    /// A subscriptions action takes no parameters and renders nothing.
    fn validate_action(&self, cx: &ActionContext<'_>) -> Result<ActionSpec, Issues> {
        let unknown: Vec<String> = cx
            .params
            .keys()
            .map(|key| format!("unknown key `{key}`: a subscriptions action takes none"))
            .collect();
        cx.finish(
            herald_plugin_api::or_problems((), unknown),
            ActionSpec::none,
        )
    }

    fn max_in_flight(&self) -> Option<usize> {
        Some(self.max_concurrency)
    }

    async fn build(&self, cx: &BuildContext) -> Result<Arc<dyn Plugin>, PluginError> {
        crate::plugin::build(self.clone(), cx)
    }
}
