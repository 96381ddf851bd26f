//! The accountant's report (issue 33): a row per money movement, never two for one
//! payment however many events announced it; `--format csv` reads back with a CSV
//! reader.

use serde_json::Value;

use crate::helpers::run_cli;

#[tokio::test]
async fn a_payment_announced_three_times_is_one_row_and_the_csv_reads_back() {
    let dir = tempfile::TempDir::new().expect("dir");
    let mut table: toml::Table =
        toml::from_str(&crate::helpers::shipped_config_in(dir.path())).expect("toml");
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
    let (ok, out, err) = run_cli(&app.config_path(), &args);
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
    let (ok, out, err) = run_cli(&app.config_path(), &args);
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
    let (ok, out, err) = run_cli(
        &app.config_path(),
        &["report", "--from", "2020-01-01", "--to", "2030-12-31"],
    );
    assert!(ok, "{err}");
    assert!(out.contains("usd: 1 payments 49.98"), "{out}");
    let (ok, _, err) = run_cli(
        &app.config_path(),
        &["report", "--from", "November", "--to", "2030-12-31"],
    );
    assert!(!ok && err.contains("is not a date"), "{err}");
}
