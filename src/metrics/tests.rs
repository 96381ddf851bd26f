use super::*;

#[test]
fn every_family_has_help_and_type_and_known_series_from_the_start() {
    let metrics = Metrics::default();
    metrics.know_plugins(["mail"]);
    metrics.know_refusals(&["header_timeout"]);
    metrics.know_source("stripe", ["charge.refunded"], &["bad_signature"]);
    let text = metrics.render();
    for line in [
        "# HELP herald_deliveries_total Delivery attempts",
        "# TYPE herald_deliveries_total counter",
        "herald_deliveries_total{plugin=\"mail\",outcome=\"exhausted\"} 0",
        "herald_webhooks_total{source=\"stripe\",type=\"charge.refunded\",outcome=\"stored\"} 0",
        "herald_webhooks_rejected_total{source=\"stripe\",reason=\"bad_signature\"} 0",
        "# TYPE herald_webhook_ack_seconds histogram",
        "herald_webhook_ack_seconds_count{source=\"stripe\"} 0",
        "herald_queue_jobs{plugin=\"mail\",state=\"leased\"} 0",
        "herald_breaker_open{plugin=\"mail\"} 0",
        "herald_http_refusals_total{reason=\"header_timeout\"} 0",
        "herald_config_reloads_total{outcome=\"failed\"} 0",
        "herald_build_info{version=\"",
    ] {
        assert!(text.contains(line), "{line} missing from:\n{text}");
    }
}

#[test]
fn recordings_move_their_series() {
    let metrics = Metrics::default();
    metrics.delivery(
        "mail",
        "delivered",
        Duration::from_millis(20),
        Some(Duration::from_secs(3)),
    );
    metrics.delivery("mail", "retry", Duration::from_millis(20), None);
    metrics.refused("connection_limit");
    metrics.leases_taken_back(2);
    metrics.reloaded(false);
    assert_eq!(
        metrics.get(
            "herald_deliveries_total",
            &[("plugin", "mail"), ("outcome", "delivered")]
        ),
        1
    );
    assert_eq!(
        metrics.get("herald_delivery_seconds_count", &[("plugin", "mail")]),
        2
    );
    assert_eq!(
        metrics.get(
            "herald_webhook_to_delivery_seconds_count",
            &[("plugin", "mail")]
        ),
        1
    );
    assert_eq!(
        metrics.get(
            "herald_http_refusals_total",
            &[("reason", "connection_limit")]
        ),
        1
    );
    assert_eq!(metrics.get("herald_leases_taken_back_total", &[]), 2);
    assert_eq!(
        metrics.get("herald_config_reloads_total", &[("outcome", "failed")]),
        1
    );
    let loaded = metrics
        .value("herald_config_last_reload_success_timestamp_seconds")
        .unwrap_or_default();
    assert!(loaded > 1.0e9, "{loaded}");
}

/// A sender of made-up types once grew `/metrics` by a series per type, without end.
#[test]
fn event_type_series_are_bounded_and_the_rest_count_as_other() {
    let metrics = Metrics::default();
    metrics.know_source("stripe", ["charge.refunded"], &[]);
    for i in 0..MAX_TYPE_SERIES + 50 {
        metrics.webhook_received("stripe", &format!("made.up.{i}"), false);
    }
    metrics.webhook_received("stripe", "charge.refunded", false);
    let received = |kind: &str| {
        metrics.get(
            "herald_webhooks_total",
            &[("source", "stripe"), ("type", kind), ("outcome", "stored")],
        )
    };
    assert_eq!(
        received("charge.refunded"),
        1,
        "a type the rules name keeps its series"
    );
    assert_eq!(received("made.up.0"), 1);
    assert_eq!(received(OTHER_TYPE), 51);
    let series = metrics
        .render()
        .lines()
        .filter(|line| line.starts_with("herald_webhooks_total{"))
        .count();
    assert!(series <= 2 * (MAX_TYPE_SERIES + 1), "{series} series");
}
