//! The database file herald opened, to notice it being deleted or replaced under it.
//!
//! SQLite keeps writing to an open file after its name is removed (`rm herald.db*`, a
//! clean-up script, a restore copied over it): every commit "succeeds" into an inode
//! nobody can reach, and a restart opens an empty database. So the path is compared
//! with the file opened, by `(device, inode)`, after every durable commit's fsync and
//! by the readiness check, and a mismatch refuses what cannot be kept.

use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

/// The file opened at start-up, by path and identity.
#[derive(Debug, Clone)]
pub(super) struct DatabaseFile {
    path: PathBuf,
    /// `(device, inode)` at start-up.
    id: (u64, u64),
}

impl DatabaseFile {
    /// The file at `path` now.
    pub(super) fn at(path: &Path) -> std::io::Result<Self> {
        let meta = std::fs::metadata(path)?;
        Ok(Self {
            path: path.to_owned(),
            id: (meta.dev(), meta.ino()),
        })
    }

    /// Fails when `path` no longer names the file opened: deleted, or replaced.
    pub(super) fn check(&self) -> Result<(), String> {
        let now = std::fs::metadata(&self.path).map(|meta| (meta.dev(), meta.ino()));
        match now {
            Ok(id) if id == self.id => Ok(()),
            Ok(_) => Err(format!(
                "the database file {} was replaced while herald ran; restart herald to open it",
                self.path.display()
            )),
            Err(err) => Err(format!(
                "the database file {} is gone ({err}): it was deleted while herald ran, and \
                 nothing written now could be kept; restart herald",
                self.path.display()
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deleted_or_replaced_file_is_noticed() {
        let dir = tempfile::TempDir::new().expect("dir");
        let path = dir.path().join("herald.db");
        std::fs::write(&path, b"db").expect("file");
        let file = DatabaseFile::at(&path).expect("stat");
        assert_eq!(file.check(), Ok(()));
        // Kept open, as SQLite keeps it, so the replacement gets another inode.
        let held = std::fs::File::open(&path).expect("open");
        std::fs::remove_file(&path).expect("rm");
        assert!(file.check().unwrap_err().contains("is gone"));
        std::fs::write(&path, b"new").expect("replacement");
        assert!(file.check().unwrap_err().contains("was replaced"));
        drop(held);
    }
}
