//! Durability for the writer's commits, with the fsync off the writer's path.
//!
//! The writer connection commits with `synchronous = NORMAL`: SQLite appends the
//! transaction to the WAL file and returns without an fsync. Whoever was promised
//! durability (an acknowledged webhook, an operator's replay) then waits for
//! [`WalSync::sync`], which fsyncs the WAL file on a thread of its own. Meanwhile
//! the writer goes on with the next batch, and one fsync covers every commit
//! before it.
//!
//! Why that is as durable as `synchronous = FULL`:
//! - A sync starts after the commit it serves returned, so the commit's frames
//!   are in the file it flushes.
//! - SQLite replaces or rewinds the WAL only after a checkpoint has copied every
//!   frame into the database file and synced it (NORMAL still syncs checkpoints),
//!   so frames that are no longer in the file we open are already on disk. The
//!   file is opened by path for every sync for the same reason.
//! - The WAL is checksummed frame by frame: after a power loss, recovery keeps the
//!   longest valid prefix, so nothing that was synced is lost and nothing later
//!   survives without what came before it.
//! - A WAL file that is new (the first start, or the first after a clean shutdown
//!   removed it) is reachable after a power loss only once its directory entry is
//!   on disk too. SQLite syncs the directory on the first sync of a new WAL; with
//!   the syncs done here, so does [`WalSync`]: whenever the file it opens is not
//!   the one it synced last (another inode), it syncs the directory as well. SQLite
//!   removes the WAL only when the database's last connection closes, and the
//!   checkpointer keeps one open, so within a process a new WAL comes only at start.

use std::fs::File;
use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use async_trait::async_trait;

use super::file_identity::DatabaseFile;
use crate::store::error::{Result, StoreError};
use crate::store::group_commit::{BatchWriter, Committed, GroupCommit};

/// Sync requests one fsync answers at most; more than the callers ever queue.
const SYNCS_PER_FSYNC: usize = 4096;

/// Makes every commit so far survive a power loss; cheap to clone.
#[derive(Clone)]
pub(super) struct WalSync {
    /// `None` for an in-memory database, which has no file to sync.
    syncer: Option<GroupCommit<(), ()>>,
}

impl WalSync {
    /// Syncs the WAL of the database file at `database`; `None` for in memory. With
    /// `opened`, a sync also fails once that file is no longer at its path.
    pub(super) fn spawn(database: Option<PathBuf>, opened: Option<DatabaseFile>) -> Self {
        let syncer = database.map(|database| {
            let mut wal = database.into_os_string();
            wal.push("-wal");
            let mut file = WalFile::new(PathBuf::from(wal));
            file.database = opened;
            // Requests that queue during one fsync share the next.
            GroupCommit::spawn("herald-wal-sync", file, SYNCS_PER_FSYNC)
        });
        Self { syncer }
    }

    /// Waits until everything committed before this call is on disk.
    ///
    /// # Errors
    /// [`StoreError::NotDurable`] once an fsync has failed: from then on nothing
    /// is reported durable, because the failed pages may never reach the disk.
    pub(super) async fn sync(&self) -> Result<()> {
        match &self.syncer {
            Some(syncer) => syncer.submit(()).await,
            None => Ok(()),
        }
    }
}

/// What one fsync of the WAL did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Synced {
    /// There was no WAL file: nothing to flush.
    NoWal,
    /// The WAL file, which was synced before.
    File,
    /// A WAL file new since the last sync, and its directory.
    FileAndDirectory,
}

/// Which file a path names: `(device, inode)`.
type FileId = (u64, u64);

/// The WAL file, the last one synced, and the first fsync failure if there was one.
struct WalFile {
    path: PathBuf,
    /// The database file, checked after each fsync: a commit into a deleted file
    /// is synced but cannot be kept.
    database: Option<DatabaseFile>,
    state: Mutex<SyncState>,
}

#[derive(Default)]
struct SyncState {
    /// The WAL file synced last, whose directory entry is on disk.
    synced: Option<FileId>,
    failure: Option<String>,
}

impl WalFile {
    fn new(path: PathBuf) -> Self {
        Self {
            path,
            database: None,
            state: Mutex::new(SyncState::default()),
        }
    }

    fn fsync(&self) -> Result<Synced> {
        // Held across the blocking syscalls: this writer has its thread to itself.
        let mut state = self
            .state
            .lock()
            .map_err(|_| StoreError::NotDurable("the WAL syncer panicked".to_owned()))?;
        if let Some(failure) = &state.failure {
            return Err(StoreError::NotDurable(failure.clone()));
        }
        let synced = match File::open(&self.path) {
            Ok(file) => sync_file(&file, &self.path, &mut state.synced),
            // No WAL: the last connection checkpointed it into the synced database
            // file and removed it, so there is nothing left to flush. The next one
            // will be a new file.
            Err(err) if err.kind() == ErrorKind::NotFound => {
                state.synced = None;
                Ok(Synced::NoWal)
            }
            Err(err) => Err(err),
        };
        // Deleted or replaced: what was just committed is in a file no restart opens.
        if let Some(Err(message)) = self.database.as_ref().map(DatabaseFile::check) {
            tracing::error!(error = %message, "the database file is no longer the one herald opened");
            state.failure = Some(message.clone());
            return Err(StoreError::NotDurable(message));
        }
        synced.map_err(|err| {
            // Linux may drop the dirty pages of a failed fsync and report the
            // next one clean; never trust this file again.
            let message = format!("fsync of {} failed: {err}", self.path.display());
            tracing::error!(error = %message, "the database can no longer promise durability; restart herald");
            state.failure = Some(message.clone());
            StoreError::NotDurable(message)
        })
    }
}

/// Syncs the open WAL `file` at `path`, and its directory if it is not the file
/// `last` names; `last` then names it.
fn sync_file(file: &File, path: &Path, last: &mut Option<FileId>) -> std::io::Result<Synced> {
    let metadata = file.metadata()?;
    let id = (metadata.dev(), metadata.ino());
    file.sync_all()?;
    if *last == Some(id) {
        return Ok(Synced::File);
    }
    let directory = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    File::open(directory)?.sync_all()?;
    *last = Some(id);
    Ok(Synced::FileAndDirectory)
}

#[async_trait]
impl BatchWriter<()> for WalFile {
    type Output = ();

    async fn write_batch(&self, items: &[()]) -> Result<Committed<()>> {
        // Blocking is fine: this writer has its thread to itself.
        self.fsync()?;
        Ok(Committed::now(vec![(); items.len()]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn syncs_a_wal_that_exists_and_one_that_is_gone() {
        let dir = tempfile::TempDir::new().expect("dir");
        let database = dir.path().join("herald.db");
        let sync = WalSync::spawn(Some(database.clone()), None);
        sync.sync().await.expect("no WAL yet");
        std::fs::write(dir.path().join("herald.db-wal"), b"frames").expect("wal");
        sync.sync().await.expect("WAL");
    }

    #[tokio::test]
    async fn an_in_memory_database_has_nothing_to_sync() {
        WalSync::spawn(None, None).sync().await.expect("sync");
    }

    #[test]
    fn a_new_wal_file_has_its_directory_synced_once() {
        let dir = tempfile::TempDir::new().expect("dir");
        let path = dir.path().join("herald.db-wal");
        let wal = WalFile::new(path.clone());
        assert_eq!(wal.fsync().expect("no WAL"), Synced::NoWal);
        std::fs::write(&path, b"frames").expect("wal");
        assert_eq!(wal.fsync().expect("new"), Synced::FileAndDirectory);
        assert_eq!(wal.fsync().expect("again"), Synced::File);
        // Removed by a clean shutdown and created anew: a new directory entry.
        // The old file is kept open so the new one cannot reuse its inode.
        let old = File::open(&path).expect("old");
        std::fs::remove_file(&path).expect("rm");
        std::fs::write(&path, b"frames").expect("wal again");
        assert_eq!(wal.fsync().expect("replaced"), Synced::FileAndDirectory);
        drop(old);
        // Gone, then back: new again whatever its inode.
        std::fs::remove_file(&path).expect("rm");
        assert_eq!(wal.fsync().expect("gone"), Synced::NoWal);
        std::fs::write(&path, b"frames").expect("wal back");
        assert_eq!(wal.fsync().expect("back"), Synced::FileAndDirectory);
    }

    #[test]
    fn after_a_failed_fsync_nothing_is_durable_again() {
        let dir = tempfile::TempDir::new().expect("dir");
        let blocker = dir.path().join("herald.db");
        std::fs::write(&blocker, b"").expect("file");
        // A WAL path under a regular file fails to open with ENOTDIR, as a
        // failing disk would, rather than NotFound.
        let wal = WalFile::new(blocker.join("herald.db-wal"));
        assert!(matches!(wal.fsync(), Err(StoreError::NotDurable(_))));
        // Once the path would be fine (NotFound), the failure still stands.
        std::fs::remove_file(&blocker).expect("rm");
        assert!(matches!(wal.fsync(), Err(StoreError::NotDurable(_))));
    }
}
