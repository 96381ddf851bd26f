//! `herald customer`: what the customer directory knows of one customer.

use anyhow::bail;
use herald_plugin_api::Customer;
use serde_json::json;

use super::ops::open;
use crate::config::StoreConfig;

/// `herald customer`
///
/// # Errors
/// When the database cannot be opened or read, or the customer is not known.
pub async fn show(
    config: &StoreConfig,
    source: &str,
    customer_id: &str,
    json: bool,
) -> anyhow::Result<()> {
    let store = open(config).await?;
    let Some(customer) = store.customer(source, customer_id).await? else {
        bail!(
            "no customer {customer_id}: no {source} event naming it told herald a contact \
             (an email, a name, a phone or locales)"
        );
    };
    if json {
        println!("{:#}", json!({ "customer": as_json(&customer) }));
        return Ok(());
    }
    let shown = |value: &Option<String>| value.clone().unwrap_or_else(|| "-".to_owned());
    println!("customer  {customer_id} ({source})");
    println!("email     {}", shown(&customer.email));
    println!("name      {}", shown(&customer.name));
    println!("phone     {}", shown(&customer.phone));
    let locales = customer.locales.join(", ");
    println!(
        "locales   {}",
        if locales.is_empty() { "-" } else { &locales }
    );
    Ok(())
}

/// The admin API's and `--json`'s shape of a customer.
pub fn as_json(customer: &Customer) -> serde_json::Value {
    json!({
        "id": customer.id,
        "email": customer.email,
        "name": customer.name,
        "phone": customer.phone,
        "locales": customer.locales,
    })
}
