//! Links between the objects of one case (a payment intent, its charges, its checkout
//! session, an invoice, a subscription), the shop's order and the customer.
//!
//! Each event adds edges from its own object to every object it names, in the
//! transaction that stores it. An event whose payload lacks its order (a dispute, an
//! early fraud warning, a review name only the charge and the payment intent) finds
//! it by walking the edges at delivery, so the event that carries the order may come
//! before or after it.
//!
//! Orders and customers are nodes of their own kind (`order:A17`,
//! `customer:cus_…`) and end a walk: a customer has many orders, and walking
//! through one would reach them all.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, PoisonError};

use herald_plugin_api::Event;

use super::error::Result;
use super::sql::{Run, Sql};
use super::Store;

/// The prefix of an order's node.
const ORDER: &str = "order:";
/// The prefix of a customer's node.
const CUSTOMER: &str = "customer:";

/// How many edges a walk follows from the event's own object at most: a dispute
/// reaches its order in two (charge → payment intent → order), a subscription's
/// charge in four (charge → invoice → subscription → checkout session → order).
const MAX_STEPS: usize = 4;

/// How many objects a walk visits at most, so a hub (a subscription of years of
/// invoices) cannot make one delivery read the whole table.
const MAX_NODES: usize = 256;

/// The edges `event` adds, both ways; none when the event names no object of its own.
/// The writers sort and dedupe a whole batch's edges (`new_event::batch_links`).
pub(super) fn edges(event: &Event) -> Vec<(String, String)> {
    let Some(object) = event.object_id.as_deref() else {
        return Vec::new();
    };
    let mut ends: Vec<String> = event
        .links
        .iter()
        .filter(|id| id.as_str() != object)
        .cloned()
        .collect();
    ends.extend(event.order_id.as_ref().map(|id| format!("{ORDER}{id}")));
    ends.extend(
        event
            .customer
            .id
            .as_ref()
            .map(|id| format!("{CUSTOMER}{id}")),
    );
    let mut edges = Vec::with_capacity(ends.len() * 2);
    for end in ends {
        edges.push((object.to_owned(), end.clone()));
        edges.push((end, object.to_owned()));
    }
    edges
}

/// How many stored edges [`RecentLinks`] remembers before it starts over.
const REMEMBERED: usize = 16_384;

/// The edges this process stored lately. A case's events repeat most of their edges (a
/// payment intent names its charge and its customer in every event about it), so a
/// batch writes only those not stored lately; one another replica stored is left to
/// `ON CONFLICT DO NOTHING`, as every edge was before.
#[derive(Default)]
pub(super) struct RecentLinks(Mutex<HashSet<String>>);

impl RecentLinks {
    /// The edges of `links` not stored lately.
    pub(super) fn unwritten<'a>(
        &self,
        links: Vec<(&'a str, &'a str, &'a str)>,
    ) -> Vec<(&'a str, &'a str, &'a str)> {
        let stored = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let mut key = String::new();
        links
            .into_iter()
            .filter(|link| {
                link_key(&mut key, *link);
                !stored.contains(key.as_str())
            })
            .collect()
    }

    /// Records `links` as stored: called once their transaction committed.
    pub(super) fn remember(&self, links: &[(&str, &str, &str)]) {
        let mut stored = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if stored.len() + links.len() > REMEMBERED {
            stored.clear();
        }
        let mut key = String::new();
        for link in links {
            link_key(&mut key, *link);
            stored.insert(key.clone());
        }
    }
}

/// One edge as one string: its parts joined by NUL, which no id holds.
fn link_key(key: &mut String, (source, a, b): (&str, &str, &str)) {
    key.clear();
    for (index, part) in [source, a, b].into_iter().enumerate() {
        if index > 0 {
            key.push('\0');
        }
        key.push_str(part);
    }
}

/// Where a walk from an event's object found its order and customer, and through
/// which objects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolution {
    /// The order id, without its prefix.
    pub order_id: Option<String>,
    /// The objects from the event's own to the one that names the order.
    pub order_via: Vec<String>,
    /// The customer id, without its prefix.
    pub customer_id: Option<String>,
    /// The objects from the event's own to the one that names the customer.
    pub customer_via: Vec<String>,
}

/// Whether herald looks `event`'s order up through the links at delivery: it lacks
/// its order and names other objects. Its customer id is then filled in on the way
/// when missing; an event that names its order is never looked up. `herald event`
/// asks the same question, so it shows what delivery does.
pub fn resolves(event: &Event) -> bool {
    event.order_id.is_none() && !event.links.is_empty()
}

impl Store {
    /// Walks the links from the objects `event` names, nearest first, until its
    /// order is found or the walk ends, taking the nearest customer met on the way. When two orders are equally
    /// near, the one whose id sorts first is taken.
    ///
    /// # Errors
    /// On a database error.
    pub async fn resolve(&self, event: &Event) -> Result<Resolution> {
        let mut found = Resolution::default();
        let Some(start) = event.object_id.clone() else {
            return Ok(found);
        };
        let mut came_from: HashMap<String, Option<String>> = HashMap::new();
        came_from.insert(start.clone(), None);
        let mut frontier = vec![start];
        for link in &event.links {
            if !came_from.contains_key(link) {
                came_from.insert(link.clone(), Some(frontier[0].clone()));
                frontier.push(link.clone());
            }
        }
        let dialect = self.dialect();
        for _ in 0..MAX_STEPS {
            // The order ends the walk: a customer further on is another case's as often.
            if frontier.is_empty() || found.order_id.is_some() {
                break;
            }
            let sql = Sql::new(format!(
                "SELECT a, b FROM links WHERE source = $1 AND a {} ORDER BY a, b",
                dialect.any(2)
            ))
            .bind(event.source.as_str())
            .bind(frontier.as_slice());
            let edges: Vec<(String, String)> = self.read().await?.fetch_all(&sql).await?;
            let mut next = Vec::new();
            let (mut orders, mut customers) = (Vec::new(), Vec::new());
            for (from, to) in edges {
                if came_from.contains_key(&to) || came_from.len() >= MAX_NODES {
                    continue;
                }
                came_from.insert(to.clone(), Some(from.clone()));
                if let Some(order) = to.strip_prefix(ORDER) {
                    orders.push((order.to_owned(), from));
                } else if let Some(customer) = to.strip_prefix(CUSTOMER) {
                    customers.push((customer.to_owned(), from));
                } else {
                    next.push(to);
                }
            }
            if found.order_id.is_none() {
                if let Some((order, from)) = orders.into_iter().min() {
                    found.order_via = path(&came_from, &from);
                    found.order_id = Some(order);
                }
            }
            if found.customer_id.is_none() {
                if let Some((customer, from)) = customers.into_iter().min() {
                    found.customer_via = path(&came_from, &from);
                    found.customer_id = Some(customer);
                }
            }
            frontier = next;
        }
        Ok(found)
    }
}

/// The objects from the walk's start to `to`, in that order.
fn path(came_from: &HashMap<String, Option<String>>, to: &str) -> Vec<String> {
    let mut path = vec![to.to_owned()];
    let mut at = to;
    while let Some(Some(from)) = came_from.get(at) {
        path.push(from.clone());
        at = from;
    }
    path.reverse();
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_edges_not_stored_lately_are_written() {
        let recent = RecentLinks::default();
        let batch = vec![("stripe", "pi_1", "ch_1"), ("stripe", "ch_1", "pi_1")];
        assert_eq!(recent.unwritten(batch.clone()), batch);
        recent.remember(&batch);
        assert!(recent.unwritten(batch.clone()).is_empty());
        // Another edge, and the same ids from another source, are new.
        let other = vec![("stripe", "pi_1", "order:A1"), ("shop", "pi_1", "ch_1")];
        assert_eq!(recent.unwritten(other.clone()), other);
        // Ids that only join up the same way are not mistaken for each other.
        assert_eq!(
            recent.unwritten(vec![("stripe", "pi_1c", "h_1")]),
            [("stripe", "pi_1c", "h_1")]
        );
    }

    #[test]
    fn a_full_memory_starts_over() {
        let recent = RecentLinks::default();
        let ids: Vec<String> = (0..=REMEMBERED).map(|n| format!("ch_{n}")).collect();
        let batch: Vec<(&str, &str, &str)> = ids
            .iter()
            .map(|id| ("stripe", "pi_1", id.as_str()))
            .collect();
        recent.remember(&batch[..REMEMBERED]);
        assert!(recent.unwritten(batch[..1].to_vec()).is_empty());
        recent.remember(&batch[REMEMBERED..]);
        assert_eq!(recent.unwritten(batch[..1].to_vec()), batch[..1]);
    }
}
