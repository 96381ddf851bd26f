//! `herald purge --queued --plugin NAME`: delete the jobs still queued for a plugin
//! instance that a reload removed. They wait for it (they are not dead), so only
//! an operator can say it is not coming back.

use anyhow::bail;

use super::ops::open;
use crate::clock::now_ms;
use crate::config::StoreConfig;

/// Lists (or, with `yes`, deletes) the queued jobs of `plugin`, refused while the
/// config still has that instance.
///
/// # Errors
/// When the instance is configured, or the database cannot be opened or written.
pub async fn purge_queued(config: &StoreConfig, plugin: &str, yes: bool) -> anyhow::Result<()> {
    if config.instances.iter().any(|name| name == plugin) {
        bail!(
            "plugin instance `{plugin}` is in {}: its queued jobs will be delivered; \
             remove it from the config first",
            config.path.display()
        );
    }
    let store = open(config).await?;
    if !yes {
        let jobs = store.queued_for(plugin).await?;
        println!(
            "{:>8}  {:<28}  {:<20}  {:>8}",
            "job", "event", "rule", "attempts"
        );
        for job in &jobs {
            println!(
                "{:>8}  {:<28}  {:<20}  {:>8}",
                job.id, job.event_id, job.rule, job.attempts
            );
        }
        println!(
            "{} jobs queued for `{plugin}` would be deleted for good; add --yes to do it",
            jobs.len()
        );
        return Ok(());
    }
    let purged = store.purge_queued(plugin, now_ms()).await?;
    println!("purged {purged} jobs queued for `{plugin}` and their attempts");
    Ok(())
}
