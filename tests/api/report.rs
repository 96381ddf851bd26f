//! The accountant's report (issue 33): a row per money movement, never two for one
//! payment however many events announced it; `--format csv` reads back with a CSV
//! reader.

use serde_json::Value;

/// `herald ARGS` on `config`, off the test's runtime, which serves the fake Stripe.
async fn cli(config: std::path::PathBuf, args: &[&str]) -> (bool, String, String) {
    let args: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        crate::helpers::run_cli(&config, &args)
    })
    .await
    .expect("cli ran")
}

#[tokio::test]
async fn a_payment_announced_three_times_is_one_row_and_the_csv_reads_back() {
    let fake = herald_testkit::stripe_api::FakeStripe::start(Vec::new()).await;
    let txn = |id: &str, amount: i64, fee: i64| {
        serde_json::json!({"id": id, "object": "balance_transaction", "amount": amount,
                           "currency": "usd", "fee": fee, "net": amount - fee})
    };
    let paid = "txn_1R4LP4HrLd9TstAzUdIG1OHq";
    fake.set_object(
        &format!("/v1/balance_transactions/{paid}"),
        txn(paid, 4998, 175),
    );
    let dir = tempfile::TempDir::new().expect("dir");
    let mut table: toml::Table =
        toml::from_str(&crate::helpers::shipped_config_in(dir.path())).expect("toml");
    let stripe = table["sources"]["stripe"].as_table_mut().expect("stripe");
    stripe.insert("api_key".into(), "rk_test_report".into());
    stripe.insert("api_base".into(), fake.url().into());
    stripe.insert("api_requests_per_second".into(), 50.into());
    table["admin"]
        .as_table_mut()
        .expect("[admin]")
        .insert("token".into(), "${HERALD_ADMIN_TOKEN}".into());
    let app = crate::helpers::spawn_app_in(dir, &toml::to_string(&table).expect("toml")).await;
    for name in [
        "payment_intent.succeeded",
        "charge.succeeded",
        "checkout.session.completed",
        "charge.refunded",
        "refund.created",
    ] {
        let body = serde_json::to_vec(&crate::helpers::sample(name)).expect("json");
        assert_eq!(app.post_webhook(&body).await.status(), 200, "{name}");
    }
    let window = ["--from", "2020-01-01", "--to", "2030-12-31"];
    let args: Vec<&str> = ["report"]
        .into_iter()
        .chain(window)
        .chain(["--format", "csv"])
        .collect();
    let (ok, out, err) = cli(app.config_path(), &args).await;
    assert!(ok, "{err}");
    let mut reader = csv::Reader::from_reader(out.as_bytes());
    let headers = reader.headers().expect("headers").clone();
    assert_eq!(
        headers.iter().collect::<Vec<_>>(),
        [
            "created",
            "event_id",
            "type",
            "order_id",
            "customer_email",
            "currency",
            "amount",
            "fee",
            "net"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|row| row.expect("row")).collect();
    let payments: Vec<_> = rows.iter().filter(|row| &row[2] == "payment").collect();
    assert_eq!(
        payments.len(),
        1,
        "one payment, announced three times: {out}"
    );
    assert_eq!(&payments[0][6], "49.98", "{out}");
    assert_eq!(&payments[0][3], "ORDER12345", "{out}");
    // Its fee and net from the charge's balance transaction, fetched once and kept.
    assert_eq!(
        (&payments[0][7], &payments[0][8]),
        ("1.75", "48.23"),
        "{out}"
    );
    let refunds: Vec<_> = rows.iter().filter(|row| &row[2] == "refund").collect();
    assert!(!refunds.is_empty(), "{out}");
    assert!(
        refunds.iter().all(|row| row[6].starts_with('-')),
        "money going out: {out}"
    );
    let ids: std::collections::HashSet<&str> = refunds.iter().map(|row| &row[1]).collect();
    assert_eq!(ids.len(), refunds.len(), "no refund twice: {out}");

    let args: Vec<&str> = ["report"]
        .into_iter()
        .chain(window)
        .chain(["--format", "json"])
        .collect();
    let (ok, out, err) = cli(app.config_path(), &args).await;
    assert!(ok, "{err}");
    let report: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(
        report["totals"]["usd"]["payments"]["count"], 1,
        "{report:#}"
    );
    assert_eq!(
        report["movements"].as_array().map(Vec::len),
        Some(rows.len())
    );
    let (ok, out, err) = cli(
        app.config_path(),
        &["report", "--from", "2020-01-01", "--to", "2030-12-31"],
    )
    .await;
    assert!(ok, "{err}");
    assert!(out.contains("usd: 1 payments 49.98"), "{out}");
    let (ok, _, err) = cli(
        app.config_path(),
        &["report", "--from", "November", "--to", "2030-12-31"],
    )
    .await;
    assert!(!ok && err.contains("is not a date"), "{err}");

    // The console's page: the same totals, the fee kept, and a chart per currency.
    let (status, html) = crate::console::page(&app, "/report?from=2020-01-01&to=2030-12-31").await;
    assert_eq!(status, 200);
    assert!(html.contains("1 · 49.98"), "{html}");
    assert!(html.contains("Net per day, USD"), "{html}");
    assert!(html.contains(r#"<svg class="chart""#), "{html}");
    assert!(
        html.contains(">1.75<"),
        "the fee kept by herald report: {html}"
    );
    let (status, html) = crate::console::page(&app, "/report?from=tomorrow&to=2020-01-01").await;
    assert_eq!(status, 200);
    assert!(html.contains("The window does not read"), "{html}");
}
