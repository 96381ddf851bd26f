//! Order facts and statuses: herald's database as the orders plugin's ledger.
//!
//! On PostgreSQL replicas apply facts concurrently, so each transaction takes a
//! lock on its order first ([`Tx::lock`]): facts of one order are folded one
//! after the other, facts of different orders in parallel. SQLite's single writer
//! serializes them anyway.

use herald_plugin_api::Event;
use herald_plugin_orders::ledger::{Fact, Fold, LedgerError, OrderLedger, OrderState};
use serde_json::Value;

use super::error::{Result, StoreError};
use super::rows::EventRow;
use super::sql::{Run, Sql, Tx};
use super::Store;

/// The most events of one order read to see it at delivery: far more than a
/// real order has, few enough that a hostile id reused on every event stays cheap.
const ORDER_EVENTS_MAX: usize = 500;

/// A signal or status as stored: its serde name (`paid`, `partially_refunded`, …).
fn to_text<T: serde::Serialize>(value: &T) -> Result<String> {
    match serde_json::to_value(value) {
        Ok(Value::String(text)) => Ok(text),
        _ => Err(StoreError::Corrupt(
            "an order status is not a name".to_owned(),
        )),
    }
}

/// A stored name back into a signal or status.
fn from_text<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_value(Value::String(text.to_owned()))
        .map_err(|_| StoreError::Corrupt(format!("unknown order status `{text}`")))
}

/// A stored fact's columns.
#[derive(Debug, sqlx::FromRow)]
struct FactRow {
    event_id: String,
    event_type: String,
    created: i64,
    signal: String,
    amount: Option<i64>,
}

impl FactRow {
    fn into_fact(self) -> Result<Fact> {
        Ok(Fact {
            event_id: self.event_id,
            event_type: self.event_type,
            created: self.created,
            signal: from_text(&self.signal)?,
            amount: self.amount,
        })
    }
}

/// A stored state's columns.
#[derive(Debug, sqlx::FromRow)]
struct StateRow {
    order_id: String,
    status: String,
    decided_by: String,
    decided_at: i64,
    facts: i64,
    on_hold: bool,
}

impl StateRow {
    fn into_state(self) -> Result<OrderState> {
        Ok(OrderState {
            order_id: self.order_id,
            status: from_text(&self.status)?,
            decided_by: self.decided_by,
            decided_at: self.decided_at,
            facts: usize::try_from(self.facts.max(0)).unwrap_or(usize::MAX),
            on_hold: self.on_hold,
        })
    }
}

/// How many orders the console's list shows, the most recently changed first.
pub const RECENT_ORDERS: usize = 50;

/// An order's facts (`$1`), oldest first.
const FACTS_SQL: &str = "SELECT event_id, event_type, created, signal, amount FROM order_facts
     WHERE order_id = $1 ORDER BY created, event_id";

/// The facts of `order_id` as read in `run`.
async fn facts(run: &mut impl Run, order_id: &str) -> Result<Vec<Fact>> {
    let rows: Vec<FactRow> = run.fetch_all(&Sql::new(FACTS_SQL).bind(order_id)).await?;
    rows.into_iter().map(FactRow::into_fact).collect()
}

/// Records `fact` of `order_id` in `tx` and folds the order's facts into its state.
async fn apply_fact(
    tx: &mut Tx<'_>,
    order_id: &str,
    fact: &Fact,
    fold: &Fold,
) -> Result<Option<OrderState>> {
    let now = crate::clock::now_ms();
    tx.lock(order_id).await?;
    // The INSERT comes first so a SQLite transaction holds the write lock before it reads.
    let insert = Sql::new(
        "INSERT INTO order_facts (order_id, event_id, event_type, created, signal, amount, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (order_id, event_id) DO NOTHING",
    )
    .bind(order_id)
    .bind(&fact.event_id)
    .bind(&fact.event_type)
    .bind(fact.created)
    .bind(to_text(&fact.signal)?)
    .bind(fact.amount)
    .bind(now);
    tx.execute(&insert).await?;
    let facts = facts(tx, order_id).await?;
    let state = fold(order_id, &facts);
    if let Some(state) = &state {
        let upsert = Sql::new(
            "INSERT INTO orders (order_id, status, decided_by, decided_at, facts, updated_at, on_hold)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (order_id) DO UPDATE SET status = $2, decided_by = $3,
                 decided_at = $4, facts = $5, updated_at = $6, on_hold = $7",
        )
        .bind(order_id)
        .bind(to_text(&state.status)?)
        .bind(&state.decided_by)
        .bind(state.decided_at)
        .bind(i64::try_from(state.facts).unwrap_or(i64::MAX))
        .bind(now)
        .bind(state.on_hold);
        tx.execute(&upsert).await?;
    }
    Ok(state)
}

/// One order in a listing: its id and its status as the orders plugin saved it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderListing {
    pub state: OrderState,
}

impl Store {
    /// The orders the orders plugin changed last (`RECENT_ORDERS` of them), newest first.
    ///
    /// # Errors
    /// On a database error, or a stored status herald does not know.
    pub async fn recent_orders(&self) -> Result<Vec<OrderListing>> {
        let sql = Sql::new(format!(
            "SELECT order_id, status, decided_by, decided_at, facts, on_hold FROM orders \
             ORDER BY updated_at DESC, order_id LIMIT {RECENT_ORDERS}"
        ));
        let rows: Vec<StateRow> = self.read().await?.fetch_all(&sql).await?;
        rows.into_iter()
            .map(|row| row.into_state().map(|state| OrderListing { state }))
            .collect()
    }

    /// The stored events of order `order_id` (oldest first, at most a few
    /// hundred) and the facts the orders plugin recorded for it.
    ///
    /// # Errors
    /// On a database error, or when a stored event does not read back.
    pub async fn order_record(&self, order_id: &str) -> Result<(Vec<Event>, Vec<Fact>)> {
        let mut read = self.read().await?;
        let sql = Sql::new(format!(
            "SELECT pk, normalized, payload FROM events WHERE order_id = $1
             ORDER BY received_at LIMIT {ORDER_EVENTS_MAX}"
        ))
        .bind(order_id);
        let rows: Vec<EventRow> = read.fetch_all(&sql).await?;
        let events = rows
            .into_iter()
            .map(EventRow::into_event)
            .collect::<Result<_>>()?;
        Ok((events, facts(&mut read, order_id).await?))
    }

    /// The amount and currency of order `order_id`: those of its latest stored event
    /// that has both (a payment, a checkout). For events that name an order only
    /// through the links and carry no amount (a fraud warning, a review), so an
    /// alert can say what is at stake.
    ///
    /// # Errors
    /// On a database error.
    pub async fn order_amount(&self, order_id: &str) -> Result<Option<(i64, String)>> {
        #[derive(sqlx::FromRow)]
        struct Normalized {
            normalized: String,
        }
        /// The normalized members read here; the rest is not parsed.
        #[derive(serde::Deserialize)]
        struct Money {
            amount: Option<i64>,
            currency: Option<String>,
        }
        let sql = Sql::new(
            "SELECT normalized FROM events WHERE order_id = $1
             ORDER BY received_at DESC LIMIT 20",
        )
        .bind(order_id);
        let rows: Vec<Normalized> = self.read().await?.fetch_all(&sql).await?;
        Ok(rows.iter().find_map(|row| {
            let money: Money = serde_json::from_str(&row.normalized).ok()?;
            Some((money.amount?, money.currency?))
        }))
    }

    /// An order's state and facts; `None` before its first fact.
    async fn order(&self, order_id: &str) -> Result<Option<(OrderState, Vec<Fact>)>> {
        let mut read = self.read().await?;
        let sql = Sql::new(
            "SELECT order_id, status, decided_by, decided_at, facts, on_hold FROM orders
             WHERE order_id = $1",
        )
        .bind(order_id);
        let Some(row) = read.fetch_optional::<StateRow>(&sql).await? else {
            return Ok(None);
        };
        Ok(Some((row.into_state()?, facts(&mut read, order_id).await?)))
    }
}

/// herald's database is the orders plugin's ledger, on either backend.
#[herald_plugin_api::async_trait]
impl OrderLedger for Store {
    async fn apply(
        &self,
        order_id: &str,
        fact: &Fact,
        fold: &Fold,
    ) -> std::result::Result<Option<OrderState>, LedgerError> {
        async {
            let mut write = self.durable().await?;
            let mut tx = write.begin().await?;
            let state = apply_fact(&mut tx, order_id, fact, fold).await?;
            tx.commit().await?;
            Ok(state)
        }
        .await
        .map_err(|err: StoreError| LedgerError(err.to_string()))
    }

    async fn get(
        &self,
        order_id: &str,
    ) -> std::result::Result<Option<(OrderState, Vec<Fact>)>, LedgerError> {
        self.order(order_id)
            .await
            .map_err(|err| LedgerError(err.to_string()))
    }
}
