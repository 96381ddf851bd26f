//! The customer directory (issue 30): contacts learned from the events that name a
//! customer, newest first whatever the arrival order, fill `customer.*` for events
//! that carry only `cus_…`, and never give one customer another's address.

use herald::store::JobStatus;
use serde_json::Value;

use crate::helpers::{base_config, normalized, received, rule, sample, BackendShop};

const CUSTOMER: &str = "cus_WK59PFkl0JfI2y";
const CHECKOUT: &str = "checkout.session.completed";
const UPDATED: &str = "customer.updated";
const SUBSCRIBED: &str = "customer.subscription.created";

/// A shop on SQLite or `postgres` that mails a welcome for each new subscription.
type Shop = BackendShop;

/// The welcome shop's config in `dir`, on the database at `url`.
fn welcoming(dir: &std::path::Path, url: &str) -> String {
    // A welcome of the shop's own, in a templates folder of its own.
    let templates = dir.join("templates");
    std::fs::create_dir_all(&templates).expect("templates");
    std::fs::write(
        templates.join("welcome.subject.hbs"),
        "Welcome, {{customer.name}}",
    )
    .expect("subject");
    std::fs::write(templates.join("welcome.txt.hbs"), "Your plan starts today.").expect("text");
    let shipped = crate::helpers::repo()
        .join("templates")
        .display()
        .to_string();
    [
        base_config().replace(&shipped, &templates.display().to_string()),
        format!("[database]\nurl = \"{url}\"\n"),
        format!(
            "[plugins.email.mail]\ntransport = \"file\"\noutbox = \"{}\"\nfrom = \"Shop <shop@example.com>\"\n",
            dir.join("outbox").display()
        ),
        rule(
            "welcome",
            &format!("[\"{SUBSCRIBED}\"]\nwhen = \"customer.email exists\""),
            r#"plugin = "mail", template = "welcome", to = "{{customer.email}}""#,
        ),
    ]
    .concat()
}

impl Shop {
    async fn known(&self) -> herald_plugin_api::Customer {
        self.shop
            .store
            .customer("stripe", CUSTOMER)
            .await
            .expect("read")
            .expect("known")
    }
}

#[tokio::test]
async fn the_newest_contact_wins_whatever_the_arrival_order_on_every_backend() {
    for (backend, shop) in Shop::each(&welcoming).await {
        // The profile update is newer than the checkout, but arrives first.
        shop.receive_event(&received(UPDATED)).await;
        shop.receive_event(&received(CHECKOUT)).await;
        let known = shop.known().await;
        assert_eq!(
            known.email.as_deref(),
            Some("jenny@rosen.example.com"),
            "{backend}"
        );
        assert_eq!(known.name.as_deref(), Some("Jenny Rosen"), "{backend}");
        assert_eq!(known.locales, ["en-US"], "{backend}");

        // An older event naming another address changes nothing; a newer one does.
        let mut older = sample(UPDATED);
        older["id"] = "evt_older_update".into();
        older["created"] = Value::from(1_000);
        older["data"]["object"]["email"] = "stale@example.com".into();
        shop.receive_event(&normalized(&older)).await;
        let mut newer = older.clone();
        newer["id"] = "evt_newer_update".into();
        newer["created"] = Value::from(2_000_000_000);
        newer["data"]["object"]["email"] = "jenny@new.example.com".into();
        shop.receive_event(&normalized(&newer)).await;
        assert_eq!(
            shop.known().await.email.as_deref(),
            Some("jenny@new.example.com"),
            "{backend}"
        );
    }
}

#[tokio::test]
async fn an_event_naming_only_its_customer_id_is_mailed_at_the_address_the_directory_knows() {
    for (backend, shop) in Shop::each(&welcoming).await {
        shop.receive_event(&received(CHECKOUT)).await;
        let subscribed = received(SUBSCRIBED);
        assert!(
            subscribed.customer.email.is_none(),
            "the sample names only cus_…"
        );
        shop.receive_event(&subscribed).await;
        // Another customer's subscription: the directory knows nothing of them.
        let mut stranger = sample(SUBSCRIBED);
        stranger["id"] = "evt_stranger".into();
        stranger["data"]["object"]["customer"] = "cus_Stranger".into();
        shop.receive_event(&normalized(&stranger)).await;
        shop.deliver().await;

        let store = &shop.shop.store;
        let jobs =
            |id: String| async move { store.jobs_for_event("stripe", &id).await.expect("jobs") };
        let mine = jobs(subscribed.id.clone()).await;
        assert_eq!(mine[0].status, JobStatus::Delivered, "{backend}: {mine:?}");
        let theirs = jobs("evt_stranger".into()).await;
        assert_eq!(
            theirs[0].status,
            JobStatus::Skipped,
            "{backend}: {theirs:?}"
        );
        let reason = theirs[0].last_error.as_deref().unwrap_or_default();
        assert!(reason.contains("customer.email"), "{backend}: {reason}");

        let outbox = shop.dir.path().join("outbox");
        let mails = herald_testkit::file_names(&outbox);
        assert_eq!(mails.len(), 1, "{backend}: {mails:?}");
        let mail = std::fs::read_to_string(outbox.join(&mails[0])).expect("mail");
        assert!(
            mail.contains("To: jenny.rosen@example.com"),
            "{backend}: {mail}"
        );
    }
}

#[tokio::test]
async fn herald_customer_and_the_api_show_what_the_directory_knows() {
    let config = format!("{}{}", base_config(), crate::helpers::ADMIN_TABLE);
    let app = crate::helpers::spawn_app_with(&config).await;
    app.accept_fixture(CHECKOUT).await;
    let (ok, out, err) = crate::helpers::cli(&app.config_path(), &["customer", CUSTOMER]).await;
    assert!(ok, "{err}");
    assert!(out.contains("email     jenny.rosen@example.com"), "{out}");
    let answer = app
        .admin_json(&format!("/api/customers/stripe/{CUSTOMER}"))
        .await;
    assert_eq!(answer["customer"]["name"], "Jenny Rosen", "{answer}");
    let (ok, _, err) = crate::helpers::cli(&app.config_path(), &["customer", "cus_Nobody"]).await;
    assert!(!ok && err.contains("no customer cus_Nobody"), "{err}");
}
