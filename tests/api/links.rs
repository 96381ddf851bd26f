//! Links between Stripe objects (issue 30): a dispute names only its charge and payment
//! intent, yet reaches its order, whichever of it and the payment arrives first, on
//! both backends, with the shipped config. The clock stands still unless a test moves
//! it, so a job waiting for its order is seen waiting without a sleep.

use std::time::Duration;

use herald::store::JobStatus;
use herald_testkit::assert_contains;

use crate::helpers::{received, sample, shipped_config_in, BackendShop};

const ORDER: &str = "ORDER12345";
const PAYMENT: &str = "payment_intent.succeeded";
const DISPUTE: &str = "charge.dispute.created";
const WARNING: &str = "radar.early_fraud_warning.created";
const REVIEW: &str = "review.opened";

/// The shipped config on SQLite or on `postgres`, delivering on a clock of its own.
type Shop = BackendShop;

/// The shipped config in `dir`, on the database at `url`.
fn shipped(dir: &std::path::Path, url: &str) -> String {
    let mut table: toml::Table = toml::from_str(&shipped_config_in(dir)).expect("toml");
    table["database"]["url"] = url.into();
    toml::to_string(&table).expect("toml")
}

impl Shop {
    /// Stores the fixture `name` with the jobs the shipped rules plan for it.
    async fn receive(&self, name: &str) {
        self.receive_event(&received(name)).await;
    }

    /// The order's status as the orders ledger folded it.
    async fn status(&self) -> Option<String> {
        self.order()
            .await
            .map(|order| order.status.as_str().to_owned())
    }

    /// Whether the orders ledger holds the order.
    async fn on_hold(&self) -> bool {
        self.order().await.is_some_and(|order| order.on_hold)
    }

    async fn order(&self) -> Option<herald_plugin_orders::ledger::OrderState> {
        self.shop
            .store
            .recent_orders()
            .await
            .expect("orders")
            .into_iter()
            .find(|order| order.state.order_id == ORDER)
            .map(|order| order.state)
    }

    /// The job of rule `rule` for fixture `name`'s event.
    async fn job(&self, name: &str, rule: &str) -> herald::store::JobSummary {
        let id = sample(name)["id"].as_str().expect("id").to_owned();
        self.shop
            .store
            .jobs_for_event("stripe", &id)
            .await
            .expect("jobs")
            .into_iter()
            .find(|job| job.rule == rule)
            .unwrap_or_else(|| panic!("no {rule} job for {name}"))
    }

    /// The mail the outbox holds whose subject has `subject`.
    fn mail(&self, subject: &str) -> String {
        let outbox = self.dir.path().join("outbox");
        herald_testkit::file_names(&outbox)
            .into_iter()
            .map(|name| std::fs::read_to_string(outbox.join(name)).expect("mail"))
            .find(|mail| mail.contains(subject))
            .unwrap_or_else(|| panic!("no mail about {subject:?}"))
    }
}

#[tokio::test]
async fn a_dispute_after_its_payment_reaches_the_order_and_the_alert_names_it() {
    for (backend, shop) in Shop::each(&shipped).await {
        shop.receive(PAYMENT).await;
        shop.deliver().await;
        shop.receive(DISPUTE).await;
        shop.deliver().await;
        assert_eq!(
            shop.status().await.as_deref(),
            Some("disputed"),
            "{backend}"
        );
        let orders = shop.job(DISPUTE, "order-status").await;
        assert_eq!(orders.status, JobStatus::Delivered, "{backend}");
        assert_contains(
            &shop.mail("Dispute opened"),
            &[&format!("Order:        {ORDER}")],
        );
    }
}

#[tokio::test]
async fn a_dispute_before_its_payment_waits_for_the_order_then_reaches_it() {
    for (backend, shop) in Shop::each(&shipped).await {
        shop.receive(DISPUTE).await;
        shop.deliver().await;
        // Nothing names the order yet: the jobs that read it wait, with no attempt spent.
        for rule in ["order-status", "dispute-alert"] {
            let job = shop.job(DISPUTE, rule).await;
            assert_eq!(
                (job.status, job.attempts),
                (JobStatus::Pending, 0),
                "{backend} {rule}"
            );
        }
        shop.receive(PAYMENT).await;
        shop.deliver().await;
        shop.clock.advance(Duration::from_secs(10));
        shop.deliver().await;
        assert_eq!(
            shop.status().await.as_deref(),
            Some("disputed"),
            "{backend}"
        );
        assert_contains(
            &shop.mail("Dispute opened"),
            &[&format!("Order:        {ORDER}")],
        );
        let unlinked = shop.job(DISPUTE, "dispute-alert-without-order").await;
        assert_eq!(unlinked.status, JobStatus::Skipped, "{backend}");
    }
}

#[tokio::test]
async fn a_dispute_whose_order_never_comes_is_alerted_without_one_after_the_wait() {
    let shop = Shop::on(None, &shipped).await;
    shop.receive(DISPUTE).await;
    shop.deliver().await;
    shop.clock.advance(Duration::from_secs(15 * 60));
    shop.deliver().await;
    let alert = shop.job(DISPUTE, "dispute-alert-without-order").await;
    assert_eq!(alert.status, JobStatus::Delivered);
    assert_eq!(
        shop.job(DISPUTE, "dispute-alert").await.status,
        JobStatus::Skipped
    );
    assert_eq!(
        shop.job(DISPUTE, "order-status").await.status,
        JobStatus::Skipped
    );
    shop.mail("Dispute opened");
}

#[tokio::test]
async fn herald_event_shows_the_order_found_through_the_links() {
    let shop = Shop::on(None, &shipped).await;
    shop.receive(PAYMENT).await;
    shop.receive(DISPUTE).await;
    let id = sample(DISPUTE)["id"].as_str().expect("id").to_owned();
    let detail = shop
        .shop
        .store
        .event_detail("stripe", &id)
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(detail.resolved.order_id.as_deref(), Some(ORDER));
    let charge = sample(DISPUTE)["data"]["object"]["charge"]
        .as_str()
        .expect("charge")
        .to_owned();
    let dispute = detail.event.object_id.clone().expect("object");
    assert_eq!(detail.resolved.order_via.first(), Some(&dispute));
    assert!(
        detail.resolved.order_via.len() >= 2,
        "{:?}",
        detail.resolved
    );
    assert!(
        detail.resolved.order_via.contains(&charge)
            || detail
                .resolved
                .order_via
                .iter()
                .any(|id| id.starts_with("pi_")),
        "{:?}",
        detail.resolved
    );
    assert_eq!(
        detail.resolved.customer_id.as_deref(),
        sample(PAYMENT)["data"]["object"]["customer"].as_str()
    );
}

#[tokio::test]
async fn a_fraud_warning_and_a_review_before_the_payment_reach_its_order_and_the_alert_names_it() {
    for (backend, shop) in Shop::each(&shipped).await {
        shop.receive(WARNING).await;
        shop.receive(REVIEW).await;
        shop.deliver().await;
        shop.receive(PAYMENT).await;
        shop.deliver().await;
        shop.clock.advance(Duration::from_secs(10));
        shop.deliver().await;
        for name in [WARNING, REVIEW] {
            let named = shop.job(name, "fraud-alert").await;
            assert_eq!(named.status, JobStatus::Delivered, "{backend} {name}");
            let unnamed = shop.job(name, "fraud-alert-without-order").await;
            assert_eq!(unnamed.status, JobStatus::Skipped, "{backend} {name}");
        }
        assert!(shop.on_hold().await, "{backend}");
        assert_eq!(shop.status().await.as_deref(), Some("paid"), "{backend}");
        let order_line = format!("Order:        {ORDER}");
        assert_contains(
            &shop.mail(&format!("Early fraud warning: order {ORDER}")),
            &[
                &order_line,
                "unauthorized_use_of_card",
                "Amount:       $49.98",
                &format!("herald has put order {ORDER} on hold"),
            ],
        );
        assert_contains(
            &shop.mail(&format!("Payment held for review: order {ORDER}")),
            &[&order_line, "Reason:       rule"],
        );
    }
}

#[tokio::test]
async fn a_review_holds_its_order_until_it_is_approved_and_a_later_warning_holds_it_again() {
    for (backend, shop) in Shop::each(&shipped).await {
        shop.receive(PAYMENT).await;
        shop.receive(REVIEW).await;
        shop.deliver().await;
        assert!(shop.on_hold().await, "{backend}: held by the review");
        shop.receive("review.closed").await;
        shop.deliver().await;
        assert!(!shop.on_hold().await, "{backend}: released on approval");
        assert_eq!(shop.status().await.as_deref(), Some("paid"), "{backend}");
        // The warning was created after the review closed: the order is held again.
        shop.receive(WARNING).await;
        shop.deliver().await;
        assert!(shop.on_hold().await, "{backend}: held by the warning");
    }
}

/// `herald event` shows what delivery does: an event that names its order is not
/// looked up, so no customer is shown as found through the links for it either (it
/// used to be, though delivery never filled it in).
#[tokio::test]
async fn herald_event_resolves_only_what_delivery_resolves() {
    let shop = Shop::on(None, &shipped).await;
    shop.receive("charge.succeeded").await;
    let mut payment = sample(PAYMENT);
    payment["id"] = "evt_payment_without_customer".into();
    payment["data"]["object"]["customer"] = serde_json::Value::Null;
    shop.shop
        .receive(&crate::helpers::normalized(&payment), shop.clock.now_ms())
        .await;
    let detail = shop
        .shop
        .store
        .event_detail("stripe", "evt_payment_without_customer")
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(detail.event.order_id.as_deref(), Some(ORDER));
    assert_eq!(detail.resolved.customer_id, None, "{:?}", detail.resolved);
}

/// After an upgrade, the payments stored before it have no links: `herald relink`
/// reads them again, so a dispute on one of them reaches its order.
#[tokio::test]
async fn relink_gives_the_events_stored_before_links_their_links_and_contacts() {
    use sqlx::{Connection, Executor};

    let shop = Shop::on(None, &shipped).await;
    shop.receive(PAYMENT).await;
    shop.receive("charge.succeeded").await;
    let url = format!("sqlite://{}", shop.dir.path().join("herald.db").display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.expect("sqlite");
    conn.execute("DELETE FROM links; DELETE FROM customers;")
        .await
        .expect("as before the upgrade");
    // A fresh process, as `herald relink` is: the running one's writer remembers the
    // links it wrote and would not write them again.
    let store = &herald::store::Store::connect(&shop.shop.config.restart.database)
        .await
        .expect("store");
    let dispute = received(DISPUTE);
    assert_eq!(store.resolve(&dispute).await.expect("walk").order_id, None);

    let mut read = 0;
    let report = herald::cli::relink::relink(store, &mut |n| read = n)
        .await
        .expect("relinked");
    assert_eq!((report.read, report.relinked, report.unreadable), (2, 2, 0));
    assert_eq!(read, 2);
    let found = store.resolve(&dispute).await.expect("walk");
    assert_eq!(found.order_id.as_deref(), Some(ORDER));
    let customer = dispute
        .customer
        .id
        .clone()
        .or(found.customer_id)
        .expect("a customer");
    let known = store.customer("stripe", &customer).await.expect("read");
    assert!(known.and_then(|c| c.email).is_some());
    // Again: nothing more, no job added.
    herald::cli::relink::relink(store, &mut |_| {})
        .await
        .expect("again");
    let jobs = store
        .jobs_for_event("stripe", sample(PAYMENT)["id"].as_str().expect("id"))
        .await
        .expect("jobs");
    let planned = jobs.len();
    assert!(
        jobs.iter().all(|job| job.status == JobStatus::Pending),
        "{jobs:?}"
    );
    assert!(planned > 0);
}
