//! The report's rows as CSV (RFC 4180, a header row): `herald report --format csv`
//! and a digest's attachment.

use super::{decimal, Movement};

/// The CSV columns, in order.
pub const COLUMNS: [&str; 9] = [
    "created",
    "event_id",
    "type",
    "order_id",
    "customer_email",
    "currency",
    "amount",
    "fee",
    "net",
];

/// Writes the header and `rows` to `out`.
///
/// # Errors
/// When `out` cannot be written.
pub fn write<W: std::io::Write>(out: &mut csv::Writer<W>, rows: &[Movement]) -> csv::Result<()> {
    out.write_record(COLUMNS)?;
    for row in rows {
        out.write_record(fields(row))?;
    }
    out.flush()?;
    Ok(())
}

/// `rows` as CSV text.
pub fn text(rows: &[Movement]) -> String {
    let mut out = csv::Writer::from_writer(Vec::new());
    // Writing to memory fails only if a record does not encode, and text always does.
    let _ = write(&mut out, rows);
    out.into_inner()
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}

/// A row's CSV fields, in [`COLUMNS`] order.
pub fn fields(row: &Movement) -> [String; 9] {
    let created = chrono::DateTime::from_timestamp(row.created, 0)
        .map(|time| time.to_rfc3339())
        .unwrap_or_default();
    let money = |minor: Option<i64>| minor.map(|m| decimal(m, &row.currency)).unwrap_or_default();
    [
        created,
        row.event_id.clone(),
        row.kind.to_owned(),
        row.order_id.clone().unwrap_or_default(),
        row.customer_email.clone().unwrap_or_default(),
        row.currency.clone(),
        decimal(row.amount, &row.currency),
        money(row.fee),
        money(row.net),
    ]
}
