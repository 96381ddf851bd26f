//! Events in, email out: through the outbox folder and through a real SMTP server.

use std::time::Duration;

use crate::helpers::{base_config, mailed_payments, spawn_app, spawn_app_with};
use herald_testkit::{DataReply, SmtpSink};

/// Undoes quoted-printable soft breaks and escapes, enough to search a message's text.
pub fn decoded(mail: &str) -> String {
    let joined = mail.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(byte) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn a_payment_becomes_an_eml_in_the_outbox() {
    let app = spawn_app().await;
    app.accept_fixture("payment_intent.succeeded").await;
    // The confirmation email, and the order's status.
    assert_eq!(app.dispatch_all_pending().await, 2);
    let mails = app.outbox();
    assert_eq!(mails.len(), 1);
    let mail = decoded(&mails[0]);
    assert!(mail.contains("To: jenny.rosen@example.com"), "{mail}");
    assert!(mail.contains("Subject: "), "{mail}");
    assert!(mail.contains("$49.98"), "{mail}");
    assert!(mail.contains("ORDER12345"), "{mail}");
    assert!(mail.contains("multipart/alternative"), "{mail}");
    assert!(
        mail.contains(
            "X-Herald-Idempotency-Key: stripe:evt_1R4QrlHrLd9TstBbciwU1NSl:payment-confirmation:0"
        ),
        "{mail}"
    );
    let jobs = app.jobs("evt_1R4QrlHrLd9TstBbciwU1NSl").await;
    assert_eq!(jobs[0].status, "delivered");
    let attempts = app.store.attempts(jobs[0].id).await.expect("attempts");
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].outcome, "delivered");
}

#[tokio::test]
async fn the_same_event_posted_twice_yields_one_email() {
    let app = spawn_app().await;
    for _ in 0..2 {
        app.accept_fixture("payment_intent.succeeded").await;
        app.dispatch_all_pending().await;
    }
    assert_eq!(app.outbox().len(), 1);
}

#[tokio::test]
async fn every_shipped_route_sends_its_email() {
    let app = spawn_app().await;
    // In the order they happen, each delivered before the next arrives: the
    // payment mails read the order at delivery (see tests/api/order_rules.rs).
    let mut attempted = 0;
    for name in [
        "payment_intent.payment_failed",
        "payment_intent.succeeded",
        "charge.refunded",
        "checkout.session.completed",
        "charge.dispute.created",
    ] {
        app.accept_fixture(name).await;
        attempted += app.dispatch_all_pending().await;
    }
    // Five emails, five order updates (the dispute's order found through its
    // charge), the alert for a dispute without an order skipped, and the
    // evidence-due follow-up: the fixture's deadline is long past, so it runs at once.
    assert_eq!(attempted, 12);
    let mails: Vec<String> = app.outbox().iter().map(|m| decoded(m)).collect();
    assert_eq!(mails.len(), 6, "{mails:#?}");
    assert!(
        mails.iter().any(|m| m.contains("Dispute evidence due")),
        "{mails:#?}"
    );
    assert_eq!(
        mails
            .iter()
            .filter(|m| m.contains("To: jenny.rosen@example.com"))
            .count(),
        4
    );
    assert!(mails.iter().any(|m| m.contains("To: support@example.com")));
}

fn smtp_config(port: u16) -> String {
    smtp_config_with(port, "")
}

fn smtp_config_with(port: u16, extra: &str) -> String {
    format!("{}\n{}", base_config(), mailed_payments(port, extra))
}

#[tokio::test]
async fn a_payment_is_mailed_through_a_real_smtp_server() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(&smtp_config(sink.port())).await;
    app.accept_fixture("payment_intent.succeeded").await;
    assert_eq!(app.dispatch_all_pending().await, 1);
    let mails = sink.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(mails.len(), 1);
    assert!(mails[0].mail_from.contains("shop@example.com"));
    assert_eq!(mails[0].rcpt_to.len(), 1);
    assert!(mails[0].rcpt_to[0].contains("jenny.rosen@example.com"));
    let data = decoded(&mails[0].data);
    assert!(data.contains("Subject: "), "{data}");
    assert!(data.contains("$49.98"), "{data}");
    assert!(data.contains("Test Shop"), "{data}");
}

#[tokio::test]
async fn an_smtp_4xx_is_retried_and_a_5xx_is_a_dead_letter() {
    for (reply, status, outcome) in [
        (DataReply::TempFail, "pending", "retry"),
        (DataReply::PermFail, "dead", "failed"),
    ] {
        let sink = SmtpSink::start_with(reply).await;
        let app = spawn_app_with(&smtp_config(sink.port())).await;
        app.accept_fixture("payment_intent.succeeded").await;
        assert_eq!(app.dispatch_all_pending().await, 1);
        let jobs = app.jobs("evt_1R4QrlHrLd9TstBbciwU1NSl").await;
        assert_eq!(jobs[0].status, status);
        assert!(jobs[0].last_error.is_some());
        let attempts = app.store.attempts(jobs[0].id).await.expect("attempts");
        assert_eq!(attempts.len(), 1);
        assert_eq!(attempts[0].outcome, outcome);
    }
}

#[tokio::test]
async fn the_smtp_pool_size_bounds_connections_however_many_jobs_are_due() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(&smtp_config_with(sink.port(), "pool_max_size = 2")).await;
    for i in 0..12 {
        let body =
            crate::helpers::fixture_with_id("payment_intent.succeeded", &format!("evt_pool_{i}"));
        assert_eq!(app.post_webhook(&body).await.status(), 200);
    }
    // The dispatcher claims up to dispatch.concurrency (8) jobs at once.
    assert_eq!(app.dispatch_all_pending().await, 12);
    assert_eq!(sink.wait_for(12, Duration::from_secs(10)).await.len(), 12);
    assert!(
        sink.max_connections() <= 2,
        "{} connections were open at once",
        sink.max_connections()
    );
}
