//! `GET /v1/webhook_endpoints` (where the account sends its events, and which) and
//! `GET /v1/customers/{id}` (a customer's contact, for an event that names only its id).

use serde_json::Value;

use super::{ApiError, StripeApi};

/// One webhook endpoint of the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub id: String,
    pub url: String,
    /// `enabled` or `disabled`.
    pub status: String,
    /// The types it sends; `*` for every type.
    pub enabled_events: Vec<String>,
    /// The API version its events are shaped on; `None`: the account's default.
    pub api_version: Option<String>,
}

impl Endpoint {
    /// Whether it is enabled and sends events of type `kind`.
    pub fn sends(&self, kind: &str) -> bool {
        self.status == "enabled"
            && self
                .enabled_events
                .iter()
                .any(|enabled| enabled == "*" || enabled == kind)
    }
}

impl StripeApi {
    /// `GET /v1/customers/{id}`: the customer object; `None` for an id that is not a
    /// Stripe customer id (never sent) or a deleted customer.
    ///
    /// # Errors
    /// As [`StripeApi::get`].
    pub async fn customer(&self, id: &str) -> Result<Option<Value>, ApiError> {
        if !stripe_id(id, "cus_") {
            return Ok(None);
        }
        let customer = self.get(&format!("/v1/customers/{id}"), &[]).await?;
        let deleted = customer.get("deleted").and_then(Value::as_bool) == Some(true);
        Ok((!deleted).then_some(customer))
    }

    /// `GET /v1/checkout/sessions/{id}/line_items` (the first 100 lines, Stripe's
    /// largest page), as Stripe's `expand[]=line_items` would put it on the session;
    /// `None` for an id that is not a checkout session id (never sent).
    ///
    /// # Errors
    /// As [`StripeApi::get`].
    pub async fn checkout_line_items(&self, id: &str) -> Result<Option<Value>, ApiError> {
        if !stripe_id(id, "cs_") {
            return Ok(None);
        }
        let path = format!("/v1/checkout/sessions/{id}/line_items");
        let list = self.get(&path, &[("limit", "100".to_owned())]).await?;
        Ok(Some(list))
    }

    /// `GET /v1/balance_transactions/{id}`: its fee and net; `None` for an id that is
    /// not a balance transaction id (never sent).
    ///
    /// # Errors
    /// As [`StripeApi::get`], and an answer without `fee` or `net`.
    pub async fn balance_transaction(
        &self,
        id: &str,
    ) -> Result<Option<crate::store::BalanceFee>, ApiError> {
        if !stripe_id(id, "txn_") {
            return Ok(None);
        }
        let txn = self
            .get(&format!("/v1/balance_transactions/{id}"), &[])
            .await?;
        let number = |name: &str| {
            txn.get(name).and_then(Value::as_i64).ok_or_else(|| {
                ApiError::Unreadable(format!("a balance transaction without `{name}`"))
            })
        };
        Ok(Some(crate::store::BalanceFee {
            txn: id.to_owned(),
            currency: txn
                .get("currency")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_ascii_lowercase(),
            fee: number("fee")?,
            net: number("net")?,
        }))
    }

    /// The account's webhook endpoints (at most 100, Stripe's largest page).
    ///
    /// # Errors
    /// As [`StripeApi::get`], and a list without `data`.
    pub async fn webhook_endpoints(&self) -> Result<Vec<Endpoint>, ApiError> {
        let list = self
            .get("/v1/webhook_endpoints", &[("limit", "100".to_owned())])
            .await?;
        let data = list
            .get("data")
            .and_then(Value::as_array)
            .ok_or_else(|| ApiError::Unreadable("a list without `data`".to_owned()))?;
        let text =
            |value: &Value, name: &str| value.get(name).and_then(Value::as_str).map(str::to_owned);
        Ok(data
            .iter()
            .map(|endpoint| Endpoint {
                id: text(endpoint, "id").unwrap_or_default(),
                url: text(endpoint, "url").unwrap_or_default(),
                status: text(endpoint, "status").unwrap_or_default(),
                enabled_events: endpoint
                    .get("enabled_events")
                    .and_then(Value::as_array)
                    .map(|events| {
                        events
                            .iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
                api_version: text(endpoint, "api_version"),
            })
            .collect())
    }
}

/// Whether `id`, which comes from a payload, is a Stripe id with `prefix` in Stripe's
/// own alphabet: only such an id goes into a request path.
fn stripe_id(id: &str, prefix: &str) -> bool {
    id.starts_with(prefix)
        && id.len() <= 255
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}
