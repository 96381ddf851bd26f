//! `herald relink`: the links and customer contacts of the events stored before
//! herald kept them, learned by reading those events again.
//!
//! After an upgrade, a dispute on a payment made before it would find no order: the
//! payment's links were never written. Each stored Stripe event is normalized again
//! from its payload as received and handed to the ingest path, which stores nothing
//! new for an event it has (no job is added, none is sent) but writes its links and
//! merges its contact as it does for a new one. Running it twice changes nothing more.

use tokio::task::JoinSet;

use super::ops::open;
use super::progress;
use crate::config::StoreConfig;
use crate::source::stripe::{normalize, Verified};
use crate::store::{EventPage, Store, StoreError};

/// Events read and handed to the ingest path at a time.
const PAGE: usize = 500;

/// What a relink read and wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelinkReport {
    /// Stored events read.
    pub read: usize,
    /// Stripe events whose links and contact were written.
    pub relinked: usize,
    /// Stored Stripe events whose payload no longer normalizes (left as they are).
    pub unreadable: usize,
}

/// Relinks every stored event, page by page, calling `progress` with the events read.
///
/// # Errors
/// When the database cannot be read or written.
pub async fn relink(
    store: &Store,
    progress: &mut dyn FnMut(usize),
) -> Result<RelinkReport, StoreError> {
    let mut report = RelinkReport::default();
    let mut page = EventPage {
        after_pk: 0,
        since_ms: None,
        until_ms: None,
        limit: PAGE,
    };
    loop {
        let events = store.events_page(&page).await?;
        let Some(last) = events.last() else {
            return Ok(report);
        };
        page.after_pk = last.pk;
        report.read += events.len();
        // Concurrent submissions share the ingest writer's transactions.
        let mut writes = JoinSet::new();
        for stored in events
            .into_iter()
            .filter(|stored| stored.event.source == "stripe")
        {
            match normalize(Verified::local(stored.event.raw.text().as_bytes())) {
                Ok(event) => {
                    let store = store.clone();
                    writes.spawn(async move {
                        store
                            .ingest(&event, Vec::new(), stored.received_at_ms)
                            .await
                    });
                }
                Err(_) => report.unreadable += 1,
            }
        }
        while let Some(written) = writes.join_next().await {
            written
                .map_err(|err| StoreError::Corrupt(format!("a relink task failed: {err}")))??;
            report.relinked += 1;
        }
        progress(report.read);
    }
}

/// `herald relink`
///
/// # Errors
/// When the database cannot be opened, read or written.
pub async fn run(config: &StoreConfig) -> anyhow::Result<()> {
    let store = open(config).await?;
    let spinner = progress::spinner("relinking: 0 events read".to_owned());
    let mut report_progress = |read: usize| {
        spinner.set_message(format!("relinking: {read} events read"));
    };
    let report = relink(&store, &mut report_progress).await;
    spinner.finish_and_clear();
    let report = report?;
    println!(
        "{} events read: the links and customer contacts of {} Stripe events are stored \
         (no job added, nothing sent){}",
        report.read,
        report.relinked,
        if report.unreadable > 0 {
            format!(
                "; {} could not be read again and were left as they are",
                report.unreadable
            )
        } else {
            String::new()
        }
    );
    Ok(())
}
