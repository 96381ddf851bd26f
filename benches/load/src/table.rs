//! The report: the machine it ran on, then one row per scenario with its ratio to
//! the ceiling.

use hdrhistogram::Histogram;

use crate::scenario::Row;

/// The rows so far; the first is the ceiling.
pub struct Table {
    rows: Vec<Row>,
}

impl Table {
    pub fn new() -> Self {
        Self { rows: Vec::new() }
    }

    /// Adds a row and prints it at once (the header first), as Markdown, so a
    /// long run shows progress and the table pastes into docs/performance.md as is.
    pub fn push(&mut self, row: Row) {
        if self.rows.is_empty() {
            println!(
                "| scenario | load | acked/s | of ceiling | ack p50 | p90 | p99 | max | errors | delivered/s | 200→delivery p50 | p99 | peak RSS | cores | CPU/event | host slow |"
            );
            println!("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
        }
        let ceiling = self
            .rows
            .first()
            .map_or(row.load.per_sec(), |c| c.load.per_sec());
        print_row(&row, ceiling);
        self.rows.push(row);
    }

    /// Prints what went wrong, after the table.
    pub fn print_notes(&self) {
        for row in &self.rows {
            if let Some(error) = &row.load.first_error {
                println!("\n{}: first error: {error}", row.name);
            }
            if row.warnings > 0 {
                println!("{}: herald logged {} warnings", row.name, row.warnings);
            }
        }
    }
}

fn print_row(row: &Row, ceiling: f64) {
    let load = &row.load;
    let ratio = if ceiling > 0.0 {
        format!("{:.0}%", 100.0 * load.per_sec() / ceiling)
    } else {
        "-".to_owned()
    };
    let (delivered, lag50, lag99) = match &row.delivered {
        Some(d) => {
            let queued = if d.missing > 0 {
                format!(" ({} still queued)", d.missing)
            } else {
                String::new()
            };
            (
                format!("{:.0}{queued}", d.per_sec),
                ms(&d.lag, 50.0),
                ms(&d.lag, 99.0),
            )
        }
        None => ("-".to_owned(), "-".to_owned(), "-".to_owned()),
    };
    println!(
        "| {} | {} | {:.0} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
        row.name,
        row.pace,
        load.per_sec(),
        ratio,
        ms(&load.latency, 50.0),
        ms(&load.latency, 90.0),
        ms(&load.latency, 99.0),
        ms(&load.latency, 100.0),
        load.errors,
        delivered,
        lag50,
        lag99,
        row.rss_mib
            .map_or("-".to_owned(), |mib| format!("{mib:.0} MiB")),
        row.cpu
            .as_ref()
            .map_or("-".to_owned(), |cpu| format!("{:.2}", cpu.cores)),
        row.cpu.as_ref().map_or("-".to_owned(), |cpu| format!(
            "{:.0} µs",
            cpu.per_event.as_secs_f64() * 1e6
        )),
        row.host_slow
            .map_or("-".to_owned(), |percent| format!("{percent:.0}%")),
    );
}

/// A percentile in milliseconds.
fn ms(histogram: &Histogram<u64>, percentile: f64) -> String {
    if histogram.is_empty() {
        return "-".to_owned();
    }
    format!(
        "{:.1} ms",
        histogram.value_at_percentile(percentile) as f64 / 1000.0
    )
}

/// Where this ran: date, CPU, cores, memory, kernel.
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown CPU", |(_, v)| v.trim())
        .to_owned();
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_gib = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kib| kib.parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0 / 1024.0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "herald-load, {} · {model} · {cores} cores · {mem_gib:.0} GiB · Linux {}",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        kernel.trim()
    )
}
