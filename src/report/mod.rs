//! The accountant's report: one row per money movement in a window (payments, refunds,
//! dispute withdrawals and reinstatements), each counted once however many events
//! announced it, keyed on what moved the money (the payment intent, the refund, the
//! dispute), with totals per currency.

pub mod csv;

use std::collections::BTreeMap;

use herald_plugin_api::Event;
use serde::Serialize;
use serde_json::Value;

/// The event types that announce a movement, and what they count.
pub const MONEY_TYPES: [&str; 7] = [
    "payment_intent.succeeded",
    "charge.succeeded",
    "checkout.session.completed",
    "refund.created",
    "charge.refunded",
    "charge.dispute.funds_withdrawn",
    "charge.dispute.funds_reinstated",
];

/// One money movement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Movement {
    /// What moved the money: `pi_…`, `re_…`, `du_…:withdrawn`; a row per key.
    pub key: String,
    /// When it happened (the announcing event's `created`, Unix seconds).
    pub created: i64,
    /// The first event (by `created`) that announced it.
    pub event_id: String,
    /// `payment`, `refund`, `dispute_withdrawal` or `dispute_reinstatement`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub order_id: Option<String>,
    pub customer_email: Option<String>,
    pub currency: String,
    /// Minor units; negative for money going out.
    pub amount: i64,
    /// Stripe's fee and the net, when the balance transaction is known.
    pub fee: Option<i64>,
    pub net: Option<i64>,
    /// The balance transaction (`txn_…`) an announcing event named, if any.
    #[serde(skip)]
    pub balance_transaction: Option<String>,
}

/// The movements `events` announce, one per key (the earliest announcement wins),
/// oldest first.
pub fn movements(events: &[Event]) -> Vec<Movement> {
    let mut found: BTreeMap<String, Movement> = BTreeMap::new();
    let mut sorted: Vec<&Event> = events.iter().collect();
    sorted.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
    for event in sorted {
        for movement in announced(event) {
            let known = found
                .entry(movement.key.clone())
                .or_insert_with(|| movement.clone());
            // A payment intent names no balance transaction; its charge does.
            if known.balance_transaction.is_none() {
                known.balance_transaction = movement.balance_transaction;
            }
        }
    }
    let mut rows: Vec<Movement> = found.into_values().collect();
    rows.sort_by(|a, b| (a.created, &a.key).cmp(&(b.created, &b.key)));
    rows
}

/// What one event announces.
fn announced(event: &Event) -> Vec<Movement> {
    let object = event
        .raw
        .value()
        .pointer("/data/object")
        .cloned()
        .unwrap_or(Value::Null);
    let text =
        |value: &Value, name: &str| value.get(name).and_then(Value::as_str).map(str::to_owned);
    let number = |value: &Value, name: &str| value.get(name).and_then(Value::as_i64);
    let currency = text(&object, "currency").map(|c| c.to_ascii_lowercase());
    let txn = text(&object, "balance_transaction");
    let row = |key: String, kind: &'static str, amount: i64, currency: Option<String>| Movement {
        key,
        created: event.created,
        event_id: event.id.clone(),
        kind,
        order_id: event.order_id.clone(),
        customer_email: event.customer.email.clone(),
        currency: currency.unwrap_or_default(),
        amount,
        fee: None,
        net: None,
        balance_transaction: txn.clone(),
    };
    let own = text(&object, "id").unwrap_or_default();
    let payment_key = text(&object, "payment_intent").unwrap_or_else(|| own.clone());
    match event.kind.as_str() {
        "payment_intent.succeeded" => number(&object, "amount_received")
            .or_else(|| number(&object, "amount"))
            .map(|amount| vec![row(own, "payment", amount, currency)])
            .unwrap_or_default(),
        "charge.succeeded" => number(&object, "amount")
            .map(|amount| vec![row(payment_key, "payment", amount, currency)])
            .unwrap_or_default(),
        "checkout.session.completed"
            if text(&object, "payment_status").as_deref() == Some("paid") =>
        {
            number(&object, "amount_total")
                .map(|amount| vec![row(payment_key, "payment", amount, currency)])
                .unwrap_or_default()
        }
        "refund.created" => number(&object, "amount")
            .map(|amount| vec![row(own, "refund", -amount, currency)])
            .unwrap_or_default(),
        // A charge lists its refunds: each is its own movement, keyed like refund.created.
        "charge.refunded" => object
            .pointer("/refunds/data")
            .and_then(Value::as_array)
            .map(|refunds| {
                refunds
                    .iter()
                    .filter_map(|refund| {
                        let id = text(refund, "id")?;
                        let amount = number(refund, "amount")?;
                        let currency = text(refund, "currency").or_else(|| currency.clone());
                        let mut movement = row(id, "refund", -amount, currency);
                        movement.balance_transaction = text(refund, "balance_transaction");
                        Some(movement)
                    })
                    .collect()
            })
            .unwrap_or_default(),
        "charge.dispute.funds_withdrawn" => number(&object, "amount")
            .map(|amount| {
                vec![row(
                    format!("{own}:withdrawn"),
                    "dispute_withdrawal",
                    -amount,
                    currency,
                )]
            })
            .unwrap_or_default(),
        "charge.dispute.funds_reinstated" => number(&object, "amount")
            .map(|amount| {
                vec![row(
                    format!("{own}:reinstated"),
                    "dispute_reinstatement",
                    amount,
                    currency,
                )]
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// Fills each row's fee and net from `fees` (a refund's fee is the fee's sign as
/// Stripe gives it; its net is negative).
pub fn fill_fees(rows: &mut [Movement], fees: &[crate::store::BalanceFee]) {
    for row in rows {
        let Some(txn) = &row.balance_transaction else {
            continue;
        };
        if let Some(fee) = fees.iter().find(|fee| &fee.txn == txn) {
            row.fee = Some(fee.fee);
            row.net = Some(fee.net);
        }
    }
}

/// Fills `rows`' fee and net from the fees stored, first fetching the missing ones
/// from Stripe's API when `api` is given (and keeping them); how many stay unknown.
///
/// # Errors
/// When the database fails; a fee Stripe does not give is left empty and counted.
pub async fn with_fees(
    store: &crate::store::Store,
    api: Option<&crate::stripe_api::StripeApi>,
    rows: &mut [Movement],
) -> Result<usize, crate::store::StoreError> {
    let txns = transactions(rows);
    let mut fees = store.balance_fees("stripe", &txns).await?;
    if let Some(api) = api {
        for txn in &txns {
            if fees.iter().any(|fee| &fee.txn == txn) {
                continue;
            }
            match api.balance_transaction(txn).await {
                Ok(Some(fee)) => {
                    store.keep_balance_fee("stripe", &fee).await?;
                    fees.push(fee);
                }
                Ok(None) => {}
                Err(err) => {
                    tracing::warn!(txn, error = %err, "could not fetch a balance transaction; its fee stays empty");
                }
            }
        }
    }
    fill_fees(rows, &fees);
    Ok(rows
        .iter()
        .filter(|row| row.balance_transaction.is_some() && row.fee.is_none())
        .count())
}

/// The movements created in `[from, to)` (Unix seconds), of `currency` when given,
/// with the fees already kept: what `/api/report` and the console show, never
/// waiting on Stripe.
///
/// # Errors
/// On a database error.
pub async fn stored(
    store: &crate::store::Store,
    (from, to): (i64, i64),
    currency: Option<&str>,
) -> Result<Vec<Movement>, crate::store::StoreError> {
    let events = store
        .events_created("stripe", &MONEY_TYPES, from, to)
        .await?;
    let mut rows = movements(&events);
    if let Some(currency) = currency {
        let currency = currency.to_ascii_lowercase();
        rows.retain(|row| row.currency == currency);
    }
    with_fees(store, None, &mut rows).await?;
    Ok(rows)
}

/// The balance transactions `rows` name, each once.
pub fn transactions(rows: &[Movement]) -> Vec<String> {
    let mut txns: Vec<String> = rows
        .iter()
        .filter_map(|row| row.balance_transaction.clone())
        .collect();
    txns.sort_unstable();
    txns.dedup();
    txns
}

/// Per currency: the count and sum of each kind of movement, and the net.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub payments: (usize, i64),
    pub refunds: (usize, i64),
    pub disputes: (usize, i64),
    pub net: i64,
}

impl Totals {
    /// `payments`, `refunds`, `disputes` (each `count` and `amount`) and `net`, the
    /// amounts as decimals in `currency`: the report's JSON and a digest's `money`.
    pub fn as_json(&self, currency: &str) -> Value {
        let money = |minor: i64| decimal(minor, currency);
        serde_json::json!({
            "payments": {"count": self.payments.0, "amount": money(self.payments.1)},
            "refunds": {"count": self.refunds.0, "amount": money(self.refunds.1)},
            "disputes": {"count": self.disputes.0, "amount": money(self.disputes.1)},
            "net": money(self.net),
        })
    }
}

/// The totals of `rows`, per currency.
pub fn totals(rows: &[Movement]) -> BTreeMap<String, Totals> {
    let mut totals: BTreeMap<String, Totals> = BTreeMap::new();
    for row in rows {
        let total = totals.entry(row.currency.clone()).or_default();
        let bucket = match row.kind {
            "payment" => &mut total.payments,
            "refund" => &mut total.refunds,
            _ => &mut total.disputes,
        };
        bucket.0 += 1;
        bucket.1 = bucket.1.saturating_add(row.amount);
        total.net = total.net.saturating_add(row.amount);
    }
    totals
}

/// The report as JSON: `movements` (the CSV's columns and each row's `key`) and
/// `totals` per currency, for `herald report --format json` and `/api/report`.
pub fn as_json(rows: &[Movement], from: i64, to: i64) -> Value {
    let totals: serde_json::Map<String, Value> = totals(rows)
        .iter()
        .map(|(currency, total)| (currency.clone(), total.as_json(currency)))
        .collect();
    let rows: Vec<Value> = rows.iter().map(row_json).collect();
    serde_json::json!({"from": from, "to": to, "movements": rows, "totals": totals})
}

fn row_json(row: &Movement) -> Value {
    let created = chrono::DateTime::from_timestamp(row.created, 0).map(|time| time.to_rfc3339());
    let money = |minor: Option<i64>| minor.map(|m| decimal(m, &row.currency));
    serde_json::json!({
        "created": created, "event_id": row.event_id, "type": row.kind,
        "order_id": row.order_id, "customer_email": row.customer_email,
        "currency": row.currency, "amount": decimal(row.amount, &row.currency),
        "fee": money(row.fee), "net": money(row.net), "key": row.key,
    })
}

/// `-4998, "usd"` → `-49.98`: minor units as a decimal in the major unit.
pub fn decimal(amount: i64, currency: &str) -> String {
    let digits = crate::render::minor_digits(currency);
    if digits == 0 {
        return amount.to_string();
    }
    let scale = 10u64.pow(digits);
    let units = amount.unsigned_abs();
    let sign = if amount < 0 { "-" } else { "" };
    format!(
        "{sign}{}.{:0width$}",
        units / scale,
        units % scale,
        width = digits as usize
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_follow_the_currency() {
        assert_eq!(decimal(4998, "usd"), "49.98");
        assert_eq!(decimal(-5, "eur"), "-0.05");
        assert_eq!(decimal(-5000, "jpy"), "-5000");
        assert_eq!(decimal(1234, "kwd"), "1.234");
        assert_eq!(decimal(i64::MIN, "usd"), "-92233720368547758.08");
    }
}
