//! The customer directory: each customer's contact as the events that name it tell
//! it, written in the ingest transaction, read at delivery to address an event that
//! names only `cus_…`.
//!
//! Every field keeps the `created` of the event that set it and changes only to a
//! value from an event as new or newer ([`UPSERT`]), so the latest contact wins
//! whatever the arrival order. A field is only ever filled from events that name the
//! same customer id, so a mail never goes to another customer's address.

use herald_plugin_api::{Customer, Event};

use super::error::Result;
use super::sql::{Run, Sql};
use super::Store;

/// What one event tells of its customer: each field with the event's `created`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub source: String,
    pub customer_id: String,
    pub email: Option<(String, i64)>,
    pub name: Option<(String, i64)>,
    pub phone: Option<(String, i64)>,
    /// A JSON array of locales.
    pub locales: Option<(String, i64)>,
}

impl Contact {
    /// What `event` tells of its customer; `None` when it names no customer id or
    /// tells nothing of it.
    pub fn of(event: &Event) -> Option<Self> {
        Self::told(&event.source, &event.customer, event.created)
    }

    /// What `customer` of `source` tells, as of `created` (Unix seconds); `None`
    /// without an id or anything to tell.
    pub fn told(source: &str, customer: &Customer, created: i64) -> Option<Self> {
        let id = customer.id.as_ref()?;
        let at = |value: &Option<String>| value.clone().map(|value| (value, created));
        let locales = (!customer.locales.is_empty())
            .then(|| serde_json::to_string(&customer.locales).ok())
            .flatten()
            .map(|list| (list, created));
        let contact = Self {
            source: source.to_owned(),
            customer_id: id.clone(),
            email: at(&customer.email),
            name: at(&customer.name),
            phone: at(&customer.phone),
            locales,
        };
        let tells = contact.email.is_some()
            || contact.name.is_some()
            || contact.phone.is_some()
            || contact.locales.is_some();
        tells.then_some(contact)
    }

    /// `other`'s fields where they are as new or newer than this one's.
    fn merge(&mut self, other: &Self) {
        fn newest(mine: &mut Option<(String, i64)>, theirs: &Option<(String, i64)>) {
            if let Some((value, at)) = theirs {
                if mine.as_ref().is_none_or(|(_, mine_at)| at >= mine_at) {
                    *mine = Some((value.clone(), *at));
                }
            }
        }
        newest(&mut self.email, &other.email);
        newest(&mut self.name, &other.name);
        newest(&mut self.phone, &other.phone);
        newest(&mut self.locales, &other.locales);
    }
}

/// The contacts of a batch, one per customer (fields merged, newest wins), sorted:
/// one upsert may not touch a row twice, and replicas lock rows in one order.
pub fn batch_contacts<'a>(contacts: impl Iterator<Item = &'a Contact>) -> Vec<Contact> {
    let mut merged: Vec<Contact> = Vec::new();
    let mut sorted: Vec<&Contact> = contacts.collect();
    sorted.sort_by(|a, b| (&a.source, &a.customer_id).cmp(&(&b.source, &b.customer_id)));
    for contact in sorted {
        match merged.last_mut() {
            Some(last)
                if last.source == contact.source && last.customer_id == contact.customer_id =>
            {
                last.merge(contact);
            }
            _ => merged.push(contact.clone()),
        }
    }
    merged
}

/// The columns a contact row fills, in bind order.
pub const COLUMNS: &str =
    "source, customer_id, email, email_at, name, name_at, phone, phone_at, locales, locales_at";

/// What an upsert does with a stored customer: each field takes the new value when
/// the new one is there and as new or newer. Both backends read `customers.…` in
/// `SET` as the row before the update.
pub const UPSERT: &str = " ON CONFLICT (source, customer_id) DO UPDATE SET
    email = CASE WHEN excluded.email IS NOT NULL AND excluded.email_at >= COALESCE(customers.email_at, excluded.email_at) THEN excluded.email ELSE customers.email END,
    email_at = CASE WHEN excluded.email IS NOT NULL AND excluded.email_at >= COALESCE(customers.email_at, excluded.email_at) THEN excluded.email_at ELSE customers.email_at END,
    name = CASE WHEN excluded.name IS NOT NULL AND excluded.name_at >= COALESCE(customers.name_at, excluded.name_at) THEN excluded.name ELSE customers.name END,
    name_at = CASE WHEN excluded.name IS NOT NULL AND excluded.name_at >= COALESCE(customers.name_at, excluded.name_at) THEN excluded.name_at ELSE customers.name_at END,
    phone = CASE WHEN excluded.phone IS NOT NULL AND excluded.phone_at >= COALESCE(customers.phone_at, excluded.phone_at) THEN excluded.phone ELSE customers.phone END,
    phone_at = CASE WHEN excluded.phone IS NOT NULL AND excluded.phone_at >= COALESCE(customers.phone_at, excluded.phone_at) THEN excluded.phone_at ELSE customers.phone_at END,
    locales = CASE WHEN excluded.locales IS NOT NULL AND excluded.locales_at >= COALESCE(customers.locales_at, excluded.locales_at) THEN excluded.locales ELSE customers.locales END,
    locales_at = CASE WHEN excluded.locales IS NOT NULL AND excluded.locales_at >= COALESCE(customers.locales_at, excluded.locales_at) THEN excluded.locales_at ELSE customers.locales_at END";

/// A stored customer's columns.
#[derive(Debug, sqlx::FromRow)]
struct CustomerRow {
    customer_id: String,
    email: Option<String>,
    name: Option<String>,
    phone: Option<String>,
    locales: Option<String>,
}

impl Store {
    /// Merges `contact` into the directory, each field newest first, as the ingest
    /// batch does; for a contact learned outside an event (from Stripe's API).
    ///
    /// # Errors
    /// On a database error.
    pub async fn learn_contact(&self, contact: &Contact) -> Result<()> {
        let field = |field: &Option<(String, i64)>| {
            field
                .as_ref()
                .map_or((None, None), |(value, at)| (Some(value.clone()), Some(*at)))
        };
        let (email, email_at) = field(&contact.email);
        let (name, name_at) = field(&contact.name);
        let (phone, phone_at) = field(&contact.phone);
        let (locales, locales_at) = field(&contact.locales);
        let sql = Sql::new(format!(
            "INSERT INTO customers ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10){UPSERT}"
        ))
        .bind(contact.source.as_str())
        .bind(contact.customer_id.as_str())
        .bind(email.as_deref())
        .bind(email_at)
        .bind(name.as_deref())
        .bind(name_at)
        .bind(phone.as_deref())
        .bind(phone_at)
        .bind(locales.as_deref())
        .bind(locales_at);
        let mut write = self.durable().await?;
        let mut tx = write.begin().await?;
        tx.execute(&sql).await?;
        tx.commit().await?;
        Ok(())
    }

    /// What the directory knows of customer `customer_id` of `source`.
    ///
    /// # Errors
    /// On a database error.
    pub async fn customer(&self, source: &str, customer_id: &str) -> Result<Option<Customer>> {
        let sql = Sql::new(
            "SELECT customer_id, email, name, phone, locales FROM customers
             WHERE source = $1 AND customer_id = $2",
        )
        .bind(source)
        .bind(customer_id);
        let row: Option<CustomerRow> = self.read().await?.fetch_optional(&sql).await?;
        Ok(row.map(|row| Customer {
            id: Some(row.customer_id),
            email: row.email,
            name: row.name,
            phone: row.phone,
            locales: row
                .locales
                .and_then(|list| serde_json::from_str(&list).ok())
                .unwrap_or_default(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact(id: &str, email: Option<(&str, i64)>, name: Option<(&str, i64)>) -> Contact {
        let own = |field: Option<(&str, i64)>| field.map(|(value, at)| (value.to_owned(), at));
        Contact {
            source: "stripe".into(),
            customer_id: id.into(),
            email: own(email),
            name: own(name),
            phone: None,
            locales: None,
        }
    }

    #[test]
    fn a_batch_merges_each_customers_fields_newest_first_in_any_order() {
        let old = contact("cus_A", Some(("old@example.com", 1)), Some(("Ada", 1)));
        let new = contact("cus_A", Some(("new@example.com", 5)), None);
        let other = contact("cus_B", Some(("b@example.com", 3)), None);
        for batch in [[&old, &new, &other], [&new, &other, &old]] {
            let merged = batch_contacts(batch.into_iter());
            assert_eq!(merged.len(), 2);
            assert_eq!(merged[0].email, Some(("new@example.com".into(), 5)));
            assert_eq!(merged[0].name, Some(("Ada".into(), 1)));
            assert_eq!(merged[1].customer_id, "cus_B");
        }
    }
}
