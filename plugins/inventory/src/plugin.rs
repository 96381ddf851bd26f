//! The inventory [`Plugin`]: built once at start-up by [`build`], then called by the
//! dispatcher's workers in the deliver stage.
//!
//! A delivery decides the direction (the action's `adjust`, or the event's type), skips
//! partial refunds unless configured to restock them or their refund names its lines,
//! renders and parses the items, and hands them to the [`StockLedger`]:
//!
//! - for an event of an order, as [`OrderLines`]: the order's stock is taken once,
//!   whichever of its announcements comes first, and never more than it took comes back;
//! - for an event without an order, as [`StockMove`]s under the job's idempotency key,
//!   which the ledger applies at most once.

use std::sync::Arc;

use herald_plugin_api::{async_trait, BuildContext, Job, Outcome, Plugin, PluginError, Templates};
use serde_json::Value;

use crate::action::{Direction, InventoryAction, REFUNDS_EVENT, REFUND_EVENT};
use crate::config::ValidatedInventory;
use crate::items::{parse_items, ItemsError};
use crate::ledger::{LedgerError, OrderApplied, OrderLines, StockLedger, StockMove};

/// What to tell the operator when an event carries no items.
const NO_ITEMS_HINT: &str =
    "the storefront should set metadata.items, or the instance line_items_from_stripe";

/// One `[plugins.inventory.<name>]` instance.
struct InventoryPlugin {
    name: String,
    restock_partial_refunds: bool,
    low_stock_at: Option<i64>,
    ledger: Arc<dyn StockLedger>,
    templates: Arc<dyn Templates>,
    line_items_from_stripe: bool,
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
        low_stock_at: config.low_stock_at,
        ledger: cx.stock_ledger()?,
        templates: cx.templates(),
        line_items_from_stripe: config.line_items_from_stripe,
    }))
}

/// Why a job makes no moves: either nothing to do, or a permanent failure.
enum Skip {
    /// Nothing to apply; the job ends skipped, with this reason.
    Nothing(String),
    /// The job cannot succeed, however often it is retried.
    Failed(String),
}

/// What a job asks of the ledger.
enum Plan<'a> {
    /// Lines of order `.0`, applied once per order.
    Order(&'a str, OrderLines),
    /// Moves of an event without an order, applied once per job.
    Job(Vec<StockMove>),
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
    /// What the job asks of the ledger, or why it asks nothing.
    fn plan<'a>(&self, job: &'a Job<'_>) -> Result<Plan<'a>, Skip> {
        let event = job.event;
        let action = InventoryAction::from_params(job.params)
            .map_err(|errors| Skip::Failed(errors.join("; ")))?;
        let direction = action
            .adjust
            .resolve(&event.kind)
            .map_err(|reason| Skip::Failed(format!("inventory `{}`: {reason}", self.name)))?;
        let refund = direction == Direction::Increment && event.kind == REFUND_EVENT;
        let partial = refund && is_partial_refund(&event.raw);
        if let (Some(order_id), true, false) = (event.order_id.as_deref(), refund, partial) {
            // A full refund puts back whatever the order still holds out, lines or not.
            return Ok(Plan::Order(order_id, OrderLines::ReturnAll));
        }
        if partial && !self.restock_partial_refunds {
            return Err(Skip::Nothing(
                "no change: a partial refund puts nothing back (set restock_partial_refunds = \
                 true, or name the lines in the refund's metadata.items)"
                    .to_owned(),
            ));
        }
        let lines = match self.lines(&action, job) {
            Ok(lines) => lines,
            // A refund of money only: nothing names a line to put back.
            Err(Skip::Failed(_)) if event.kind == REFUNDS_EVENT => {
                return Err(Skip::Nothing(
                    "no change: the refund names no lines in metadata.items".to_owned(),
                ))
            }
            Err(skip) => return Err(skip),
        };
        Ok(match (event.order_id.as_deref(), direction) {
            (Some(order_id), Direction::Decrement) => {
                Plan::Order(order_id, OrderLines::Take(lines))
            }
            (Some(order_id), Direction::Increment) => Plan::Order(
                order_id,
                OrderLines::Return {
                    // A refund event's object is the refund; a charge's partial refunds
                    // share the charge, so each event is a return of its own.
                    key: match (&event.object_id, event.kind.as_str()) {
                        (Some(refund), REFUNDS_EVENT) => format!("refund:{refund}"),
                        _ => format!("event:{}", event.id),
                    },
                    lines,
                },
            ),
            (None, Direction::Decrement) => Plan::Job(negated(lines)),
            (None, Direction::Increment) => Plan::Job(lines),
        })
    }

    /// The action's line items, rendered and parsed, with positive quantities; when
    /// they render to nothing, a checkout session's line items fetched from Stripe.
    fn lines(&self, action: &InventoryAction, job: &Job<'_>) -> Result<Vec<StockMove>, Skip> {
        let rendered = self
            .templates
            .render_inline(&action.items, job.context.get())
            .map(|text| text.trim().to_owned())
            .ok()
            .filter(|text| !text.is_empty());
        let fetched = || {
            let object = job.event.raw.value().pointer("/data/object")?;
            crate::items::from_line_items(object)
        };
        let text = match rendered.or_else(fetched) {
            Some(text) => text,
            None => {
                // Rendered again for the error the operator needs to see.
                let text = self
                    .templates
                    .render_inline(&action.items, job.context.get())
                    .map_err(|err| {
                        Skip::Failed(format!("no line items: {err} ({NO_ITEMS_HINT})"))
                    })?;
                text
            }
        };
        let items = parse_items(&text).map_err(|err| match err {
            ItemsError::Empty => Skip::Failed(format!(
                "no line items: `items` rendered empty ({NO_ITEMS_HINT})"
            )),
            other => Skip::Failed(format!("bad line items: {other}")),
        })?;
        Ok(items
            .into_iter()
            .map(|(sku, quantity)| StockMove::new(sku, quantity))
            .collect())
    }

    /// The ledger's answer as the job's outcome, raising `herald.stock_low` for each
    /// level the job took low.
    async fn outcome(&self, job: &Job<'_>, applied: Result<OrderApplied, LedgerError>) -> Outcome {
        let key = job.idempotency_key;
        match applied {
            Ok(OrderApplied::Moved(moved)) => {
                // The key and a count only: line items can be read as customer data.
                tracing::info!(plugin = %self.name, key, skus = moved.len(), "stock adjusted");
                crate::low_stock::raise(job, &moved, self.low_stock_at);
                Outcome::Delivered
            }
            // This very event, delivered again after its moves were committed: raise
            // again what its first delivery may not have got to store.
            Ok(OrderApplied::Already { by }) if by == job.event.id => self.again(job).await,
            Ok(OrderApplied::Already { by }) => Outcome::skipped(format!(
                "no change: event {by} already moved this order's stock (the order is \
                 taken once, whichever of its announcements arrives first)"
            )),
            // An overflow is refused the same way every time: dead-letter it at once.
            Err(err) if err.is_permanent() => {
                Outcome::failed(format!("inventory `{}`: {err}", self.name))
            }
            Err(err) => Outcome::retry(err.to_string()),
        }
    }
}

impl InventoryPlugin {
    /// A job whose moves were applied by an earlier delivery: delivered, raising
    /// again the events those moves call for.
    async fn again(&self, job: &Job<'_>) -> Outcome {
        match self.ledger.moved_by(job.idempotency_key).await {
            Ok(moved) => {
                crate::low_stock::raise(job, &moved, self.low_stock_at);
                Outcome::Delivered
            }
            Err(err) => Outcome::retry(err.to_string()),
        }
    }
}

/// Lines leaving stock.
fn negated(lines: Vec<StockMove>) -> Vec<StockMove> {
    lines
        .into_iter()
        .map(|line| StockMove::new(line.sku, line.delta.saturating_neg()))
        .collect()
}

#[async_trait]
impl Plugin for InventoryPlugin {
    fn name(&self) -> &str {
        &self.name
    }

    fn wants_line_items(&self) -> bool {
        self.line_items_from_stripe
    }

    async fn deliver(&self, job: &Job<'_>) -> Outcome {
        let plan = match self.plan(job) {
            Ok(plan) => plan,
            Err(Skip::Nothing(reason)) => {
                tracing::info!(plugin = %self.name, event_id = %job.event.id, "{reason}");
                return Outcome::skipped(reason);
            }
            Err(Skip::Failed(reason)) => return Outcome::failed(reason),
        };
        let key = job.idempotency_key;
        match plan {
            Plan::Order(order_id, lines) => {
                let applied = self
                    .ledger
                    .apply_to_order(order_id, key, &job.event.id, &lines)
                    .await;
                self.outcome(job, applied).await
            }
            Plan::Job(moves) => match self.ledger.apply(key, &job.event.id, &moves).await {
                Ok(true) => match self.ledger.moved_by(key).await {
                    Ok(moved) => self.outcome(job, Ok(OrderApplied::Moved(moved))).await,
                    Err(err) => Outcome::retry(err.to_string()),
                },
                Ok(false) => {
                    tracing::debug!(plugin = %self.name, key, "stock moves already applied");
                    self.again(job).await
                }
                Err(err) => self.outcome(job, Err(err)).await,
            },
        }
    }
}
