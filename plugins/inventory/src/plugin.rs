//! The inventory [`Plugin`]: built once at start-up by [`build`], then called by the
//! dispatcher's workers in the deliver stage.
//!
//! A delivery decides the direction (the action's `adjust`, or the event's type), skips
//! partial refunds unless configured to restock them, renders and parses the items, and
//! hands the resulting [`StockMove`]s to the [`StockLedger`] under the job's idempotency
//! key, which the ledger applies at most once.

use std::sync::Arc;

use herald_plugin_api::{async_trait, BuildContext, Job, Outcome, Plugin, PluginError, Templates};
use serde_json::Value;

use crate::action::{Direction, InventoryAction, REFUND_EVENT};
use crate::config::ValidatedInventory;
use crate::items::{parse_items, ItemsError};
use crate::ledger::{StockLedger, StockMove};

/// What to tell the operator when an event carries no items.
const NO_ITEMS_HINT: &str = "the storefront should set metadata.items";

/// One `[plugins.inventory.<name>]` instance.
struct InventoryPlugin {
    name: String,
    restock_partial_refunds: bool,
    ledger: Arc<dyn StockLedger>,
    templates: Arc<dyn Templates>,
}

/// Builds a plugin instance from its validated config and the context's stock ledger
/// and template registry (for the actions' `items` templates).
///
/// Of `config`, the instance keeps `restock_partial_refunds`; the dispatcher settings
/// (concurrency, retry) are herald's to read through [`Inventory`](crate::Inventory).
///
/// # Errors
/// When the context holds no stock ledger.
pub(crate) fn build(
    config: ValidatedInventory,
    cx: &BuildContext,
) -> Result<Arc<dyn Plugin>, PluginError> {
    Ok(Arc::new(InventoryPlugin {
        name: cx.name().to_owned(),
        restock_partial_refunds: config.restock_partial_refunds,
        ledger: cx.stock_ledger()?,
        templates: cx.templates(),
    }))
}

/// Why a job makes no moves: either nothing to do, or a permanent failure.
enum Skip {
    /// Nothing to apply; the job is done.
    Done,
    /// The job cannot succeed, however often it is retried.
    Failed(String),
}

/// Whether a `charge.refunded` payload refunds less than was charged.
///
/// Unknown amounts count as a full refund: Stripe always sends both, and an operator
/// who wrote a refund rule expects the refund to restock.
fn is_partial_refund(raw: &Value) -> bool {
    let object = &raw["data"]["object"];
    match (
        object["amount_refunded"].as_i64(),
        object["amount"].as_i64(),
    ) {
        (Some(refunded), Some(amount)) => refunded < amount,
        _ => false,
    }
}

impl InventoryPlugin {
    /// The moves the job makes, or why it makes none.
    fn moves(&self, job: &Job<'_>) -> Result<Vec<StockMove>, Skip> {
        let event = job.event;
        let action = InventoryAction::from_params(job.params)
            .map_err(|errors| Skip::Failed(errors.join("; ")))?;
        let direction = action
            .adjust
            .resolve(&event.kind)
            .map_err(|reason| Skip::Failed(format!("inventory `{}`: {reason}", self.name)))?;

        if direction == Direction::Increment
            && event.kind == REFUND_EVENT
            && !self.restock_partial_refunds
            && is_partial_refund(&event.raw)
        {
            tracing::info!(
                plugin = %self.name,
                event_id = %event.id,
                "partial refund: not restocked (set restock_partial_refunds = true to restock)"
            );
            return Err(Skip::Done);
        }

        let text = self
            .templates
            .render_inline(&action.items, job.context.get())
            .map_err(|err| Skip::Failed(format!("no line items: {err} ({NO_ITEMS_HINT})")))?;
        let items = parse_items(&text).map_err(|err| match err {
            ItemsError::Empty => Skip::Failed(format!(
                "no line items: `items` rendered empty ({NO_ITEMS_HINT})"
            )),
            other => Skip::Failed(format!("bad line items: {other}")),
        })?;

        let sign = match direction {
            Direction::Decrement => -1,
            Direction::Increment => 1,
        };
        Ok(items
            .into_iter()
            .map(|(sku, quantity)| StockMove::new(sku, sign * quantity))
            .collect())
    }
}

#[async_trait]
impl Plugin for InventoryPlugin {
    fn name(&self) -> &str {
        &self.name
    }

    async fn deliver(&self, job: &Job<'_>) -> Outcome {
        let moves = match self.moves(job) {
            Ok(moves) => moves,
            Err(Skip::Done) => return Outcome::Delivered,
            Err(Skip::Failed(reason)) => return Outcome::failed(reason),
        };
        let key = job.idempotency_key;
        match self.ledger.apply(key, &job.event.id, &moves).await {
            Ok(true) => {
                // The key and a count only: line items can be read as customer data.
                tracing::info!(plugin = %self.name, key, skus = moves.len(), "stock adjusted");
                Outcome::Delivered
            }
            Ok(false) => {
                tracing::debug!(plugin = %self.name, key, "stock moves already applied");
                Outcome::Delivered
            }
            // An overflow is refused the same way every time: dead-letter it at once.
            Err(err) if err.is_permanent() => {
                Outcome::failed(format!("inventory `{}`: {err}", self.name))
            }
            Err(err) => Outcome::retry(err.to_string()),
        }
    }
}
