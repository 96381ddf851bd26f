//! Subscription facts and states: herald's database as the subscriptions plugin's
//! ledger. Like orders, each subscription's transactions take a lock on it first
//! (PostgreSQL; SQLite's single writer serializes them anyway).

use herald_plugin_subscriptions::ledger::{
    terms_changed, Entitlements, LedgerError, Recorded, SubscriptionFact, SubscriptionFilter,
    SubscriptionFold, SubscriptionLedger, SubscriptionState,
};
use serde::de::DeserializeOwned;

use super::error::{Result, StoreError};
use super::sql::{Run, Sql, Tx};
use super::Store;

/// A stored fact's columns.
#[derive(Debug, sqlx::FromRow)]
struct FactRow {
    event_id: String,
    event_type: String,
    created: i64,
    observation: String,
}

fn json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn parse<T: DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Corrupt(format!("a stored subscription: {e}")))
}

/// The facts of `id` as read in `run`, oldest first.
async fn facts(run: &mut impl Run, id: &str) -> Result<Vec<SubscriptionFact>> {
    let sql = Sql::new(
        "SELECT event_id, event_type, created, observation FROM subscription_facts
         WHERE subscription_id = $1 ORDER BY created, event_id",
    )
    .bind(id);
    let rows: Vec<FactRow> = run.fetch_all(&sql).await?;
    rows.into_iter()
        .map(|row| {
            Ok(SubscriptionFact {
                event_id: row.event_id,
                event_type: row.event_type,
                created: row.created,
                observation: parse(&row.observation)?,
            })
        })
        .collect()
}

/// The saved state of `id` as read in `run`.
async fn state(run: &mut impl Run, id: &str) -> Result<Option<SubscriptionState>> {
    let sql = Sql::new("SELECT state FROM subscriptions WHERE subscription_id = $1").bind(id);
    let text: Option<String> = run.scalar(&sql).await?;
    text.map(|text| parse(&text)).transpose()
}

/// Records `fact` of `id` in `tx`, folds, saves the state.
async fn apply_fact(
    tx: &mut Tx<'_>,
    id: &str,
    fact: &SubscriptionFact,
    fold: &SubscriptionFold,
) -> Result<Recorded> {
    let now = crate::clock::now_ms();
    tx.lock(&format!("subscription:{id}")).await?;
    // The INSERT first: it finds a repeat, and takes SQLite's write lock before reading.
    let insert = Sql::new(
        "INSERT INTO subscription_facts
             (subscription_id, event_id, event_type, created, observation, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (subscription_id, event_id) DO NOTHING",
    )
    .bind(id)
    .bind(&fact.event_id)
    .bind(&fact.event_type)
    .bind(fact.created)
    .bind(json(&fact.observation)?)
    .bind(now);
    if tx.execute(&insert).await? != 1 {
        let changed = Sql::new(
            "SELECT changed FROM subscription_facts WHERE subscription_id = $1 AND event_id = $2",
        )
        .bind(id)
        .bind(&fact.event_id);
        let changed: Option<bool> = tx.scalar(&changed).await?;
        return Ok(Recorded {
            state: state(tx, id).await?,
            changed: changed.unwrap_or(false),
        });
    }
    let after = facts(tx, id).await?;
    let before: Vec<SubscriptionFact> = after
        .iter()
        .filter(|known| known.event_id != fact.event_id)
        .cloned()
        .collect();
    let old = fold(id, &before);
    let new = fold(id, &after);
    let changed = terms_changed(old.as_ref(), new.as_ref());
    if changed {
        let mark = Sql::new(
            "UPDATE subscription_facts SET changed = $3 WHERE subscription_id = $1 AND event_id = $2",
        )
        .bind(id)
        .bind(&fact.event_id)
        .bind(true);
        tx.execute(&mark).await?;
    }
    if let Some(state) = &new {
        let upsert = Sql::new(
            "INSERT INTO subscriptions (subscription_id, customer, status, state, updated_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (subscription_id) DO UPDATE SET customer = $2, status = $3,
                 state = $4, updated_at = $5",
        )
        .bind(id)
        .bind(state.customer.as_deref())
        .bind(state.status.as_str())
        .bind(json(state)?)
        .bind(now);
        tx.execute(&upsert).await?;
    }
    Ok(Recorded {
        state: new,
        changed,
    })
}

fn ledger_error(err: StoreError) -> LedgerError {
    LedgerError(err.to_string())
}

/// herald's database is the subscriptions plugin's ledger, on either backend.
#[herald_plugin_api::async_trait]
impl SubscriptionLedger for Store {
    async fn apply(
        &self,
        subscription_id: &str,
        fact: &SubscriptionFact,
        fold: &SubscriptionFold,
    ) -> std::result::Result<Recorded, LedgerError> {
        async {
            let mut write = self.durable().await?;
            let mut tx = write.begin().await?;
            let recorded = apply_fact(&mut tx, subscription_id, fact, fold).await?;
            tx.commit().await?;
            Ok(recorded)
        }
        .await
        .map_err(ledger_error)
    }

    async fn get(
        &self,
        subscription_id: &str,
    ) -> std::result::Result<Option<(SubscriptionState, Vec<SubscriptionFact>)>, LedgerError> {
        async {
            let mut read = self.read().await?;
            let Some(state) = state(&mut read, subscription_id).await? else {
                return Ok(None);
            };
            Ok(Some((state, facts(&mut read, subscription_id).await?)))
        }
        .await
        .map_err(ledger_error)
    }

    async fn list(
        &self,
        filter: &SubscriptionFilter,
    ) -> std::result::Result<Vec<SubscriptionState>, LedgerError> {
        let mut sql = Sql::new("SELECT state FROM subscriptions WHERE 1 = 1");
        if let Some(status) = filter.status {
            sql.push_bound(" AND status = {}", status.as_str());
        }
        if let Some(customer) = &filter.customer {
            sql.push_bound(" AND customer = {}", customer.as_str());
        }
        sql.push_bound(
            " ORDER BY updated_at DESC, subscription_id LIMIT {}",
            i64::try_from(filter.limit).unwrap_or(i64::MAX),
        );
        async {
            let texts: Vec<String> = self.read().await?.scalars(&sql).await?;
            texts
                .iter()
                .map(|text| parse(text))
                .collect::<Result<Vec<_>>>()
        }
        .await
        .map_err(ledger_error)
    }

    async fn set_entitlements(
        &self,
        entitlements: &Entitlements,
    ) -> std::result::Result<(), LedgerError> {
        async {
            let sql = Sql::new(
                "INSERT INTO customer_entitlements (customer, created, features) VALUES ($1, $2, $3)
                 ON CONFLICT (customer) DO UPDATE SET created = excluded.created,
                     features = excluded.features
                 WHERE excluded.created >= customer_entitlements.created",
            )
            .bind(entitlements.customer.as_str())
            .bind(entitlements.created)
            .bind(json(&entitlements.features)?);
            let mut write = self.durable().await?;
            let mut tx = write.begin().await?;
            tx.execute(&sql).await?;
            tx.commit().await?;
            Ok(())
        }
        .await
        .map_err(ledger_error)
    }

    async fn entitlements(&self, customer: &str) -> std::result::Result<Vec<String>, LedgerError> {
        async {
            let sql = Sql::new("SELECT features FROM customer_entitlements WHERE customer = $1")
                .bind(customer);
            let text: Option<String> = self.read().await?.scalar(&sql).await?;
            text.map(|text| parse(&text))
                .transpose()
                .map(Option::unwrap_or_default)
        }
        .await
        .map_err(ledger_error)
    }
}
