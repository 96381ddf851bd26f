//! What triggers a reload: an edit of `config.toml` or of a file under the
//! templates folder (debounced, so an editor's several writes make one reload),
//! and `SIGHUP`, which `systemctl reload` sends.

use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::apply::Reloader;

/// Quiet time after the last file event before the reload starts: an editor's
/// save is often a truncate and a write, or a write and a rename.
const DEBOUNCE: Duration = Duration::from_millis(250);

/// How long the config file's size and modification time must stay the same before
/// an edit is read: a slow writer (`cat > config.toml`, an upload) can pause longer
/// than [`DEBOUNCE`] half-way through.
const SETTLED: Duration = Duration::from_millis(500);

/// The longest an edit is waited for; a file still changing after that is read anyway
/// (and a reload that empties the rules is still held back).
const SETTLE_AT_MOST: Duration = Duration::from_secs(10);

/// Starts watching for reload triggers until `stop` is cancelled: `SIGHUP`, and
/// the files too when `watch_files` is set. The `SIGHUP`
/// handler is in place when this returns, so a reload right after start-up does
/// not kill herald.
///
/// # Errors
/// When the signal handler cannot be installed. A file watcher that cannot be
/// set up is logged, and `SIGHUP` still works.
pub fn spawn(
    reloader: Reloader,
    watch_files: bool,
    stop: CancellationToken,
) -> std::io::Result<()> {
    let hangups = Hangups::install()?;
    let (tx, rx) = mpsc::unbounded_channel();
    let files = if watch_files {
        Watched::start(&reloader, tx)
    } else {
        info!("not watching the config and templates: reload with SIGHUP");
        None
    };
    tokio::spawn(run(reloader, files, rx, hangups, stop));
    Ok(())
}

async fn run(
    mut reloader: Reloader,
    mut files: Option<Watched>,
    mut events: mpsc::UnboundedReceiver<()>,
    mut hangups: Hangups,
    stop: CancellationToken,
) {
    loop {
        let edited = tokio::select! {
            () = stop.cancelled() => return,
            () = hangups.recv() => false,
            Some(()) = events.recv() => {
                // Wait for the edits to settle.
                while let Ok(Some(())) = tokio::time::timeout(DEBOUNCE, events.recv()).await {}
                settled(reloader.path()).await;
                true
            }
        };
        let reloaded = if edited {
            reloader.reload_edited().await
        } else {
            reloader.reload("SIGHUP").await
        };
        if reloaded.is_ok() {
            if let Some(files) = &mut files {
                files.follow_templates(&reloader.templates_dir());
            }
        }
    }
}

/// Waits until `path` has kept its size and modification time for [`SETTLED`], or
/// [`SETTLE_AT_MOST`] has passed.
async fn settled(path: &Path) {
    let stamp = |path: &Path| {
        std::fs::metadata(path)
            .ok()
            .map(|meta| (meta.len(), meta.modified().ok()))
    };
    let deadline = tokio::time::Instant::now() + SETTLE_AT_MOST;
    let mut last = stamp(path);
    while tokio::time::Instant::now() < deadline {
        tokio::time::sleep(SETTLED).await;
        let now = stamp(path);
        if now == last {
            return;
        }
        last = now;
    }
}

/// `SIGHUP`s received.
struct Hangups {
    #[cfg(unix)]
    signal: tokio::signal::unix::Signal,
}

impl Hangups {
    fn install() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Self {
                signal: signal(SignalKind::hangup())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        {
            if self.signal.recv().await.is_some() {
                info!("SIGHUP received");
                return;
            }
        }
        std::future::pending::<()>().await;
    }
}

/// The file watcher, on the config file's folder and the templates folder.
struct Watched {
    watcher: RecommendedWatcher,
    /// The templates folder watched, shared with the event handler.
    templates: Arc<RwLock<PathBuf>>,
}

impl Watched {
    /// Watches `reloader`'s config file's folder and templates; the paths of
    /// every edit go to `tx`. `None`, logged, when the OS will not watch.
    fn start(reloader: &Reloader, tx: mpsc::UnboundedSender<()>) -> Option<Self> {
        let config = absolute(reloader.path());
        let templates = absolute(&reloader.templates_dir());
        let folder = config
            .parent()
            .map_or_else(|| PathBuf::from("/"), Path::to_owned);
        let followed = Arc::new(RwLock::new(PathBuf::new()));
        let watched = followed.clone();
        // The folder may hold the database too: only the events that touch the
        // config file or the templates count.
        let handler = move |result: notify::Result<notify::Event>| {
            let Ok(event) = result else { return };
            // Reading a file (the reload itself does) is no edit.
            if matches!(event.kind, EventKind::Access(_)) {
                return;
            }
            let templates = watched.read().unwrap_or_else(PoisonError::into_inner);
            // In the templates folder, only what the loader reads: the editor's
            // backups and temporary files are no edit to reload for.
            let ours = event.paths.iter().any(|path| {
                *path == config
                    || (!templates.as_os_str().is_empty()
                        && path.starts_with(&*templates)
                        && (path.is_dir() || super::diff::is_template_file(path)))
            });
            drop(templates);
            if ours {
                let _ = tx.send(());
            }
        };
        let started = notify::recommended_watcher(handler).and_then(|mut watcher| {
            watcher.watch(&folder, RecursiveMode::NonRecursive)?;
            Ok(watcher)
        });
        let mut watched = match started {
            Ok(watcher) => Self {
                watcher,
                templates: followed,
            },
            Err(err) => {
                warn!(error = %err, "cannot watch the config file; reload with SIGHUP");
                return None;
            }
        };
        watched.follow_templates(&templates);
        info!(config = %folder.display(), templates = %templates.display(), "watching the config and templates for edits");
        Some(watched)
    }

    /// Watches `dir` (recursively) instead of the templates folder watched so far.
    fn follow_templates(&mut self, dir: &Path) {
        let dir = absolute(dir);
        let old = self
            .templates
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if dir == old {
            return;
        }
        if !old.as_os_str().is_empty() {
            let _ = self.watcher.unwatch(&old);
        }
        match self.watcher.watch(&dir, RecursiveMode::Recursive) {
            Ok(()) => {
                *self
                    .templates
                    .write()
                    .unwrap_or_else(PoisonError::into_inner) = dir;
            }
            Err(err) => {
                warn!(templates = %dir.display(), error = %err, "cannot watch the templates folder; reload with SIGHUP");
            }
        }
    }
}

/// `path` with symlinks and `..` resolved where it exists, so it compares with
/// the paths the watcher reports.
fn absolute(path: &Path) -> PathBuf {
    let path = if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    };
    if let Ok(real) = path.canonicalize() {
        return real;
    }
    // The file may be gone for a moment (an editor's rename); resolve its folder.
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => absolute(parent).join(name),
        _ => path.to_owned(),
    }
}
