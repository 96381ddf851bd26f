//! Deliver stage, file transport: writes each message as `<outbox>/<token>.eml`.
//!
//! The file name is the job's [`crate::message_token`], so a redelivery of the same job
//! replaces its file instead of adding a second one. Files appear atomically: the
//! message is written to a temporary name in the same folder, flushed to disk and then
//! renamed, so a reader never sees half a message and a crash leaves no `.eml` behind.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::AsyncWriteExt;

/// Why the outbox could not be prepared or written.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OutboxError {
    /// The folder could not be created.
    #[error("could not create outbox folder {path}: {source}")]
    Create {
        /// The folder.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// A file in the folder could not be written or renamed.
    #[error("could not write {path}: {source}")]
    Write {
        /// The file being written.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The path exists but is not a folder.
    #[error("outbox {path} is not a folder")]
    NotAFolder {
        /// The path.
        path: PathBuf,
    },
}

/// Distinguishes temporary files of concurrent writes, even of the same token.
static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// The outbox folder of one plugin instance.
#[derive(Debug)]
pub(crate) struct Outbox {
    dir: PathBuf,
}

impl Outbox {
    /// Creates the folder (and its parents) if needed.
    pub(crate) async fn create(dir: PathBuf) -> Result<Self, OutboxError> {
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|source| OutboxError::Create {
                path: dir.clone(),
                source,
            })?;
        Ok(Self { dir })
    }

    /// Writes `<token>.eml` atomically, replacing an earlier file of the same job.
    pub(crate) async fn write(&self, token: &str, contents: &[u8]) -> Result<PathBuf, OutboxError> {
        let path = self.dir.join(format!("{token}.eml"));
        let tmp = self.tmp_path(token);
        if let Err(source) = write_synced(&tmp, contents).await {
            // Best effort: a leftover .tmp is harmless, but there is no reason to keep it.
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(OutboxError::Write { path: tmp, source });
        }
        if let Err(source) = tokio::fs::rename(&tmp, &path).await {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(OutboxError::Write { path, source });
        }
        Ok(path)
    }

    /// Checks that the folder exists and accepts a new file.
    pub(crate) async fn check(&self) -> Result<(), OutboxError> {
        let metadata =
            tokio::fs::metadata(&self.dir)
                .await
                .map_err(|source| OutboxError::Write {
                    path: self.dir.clone(),
                    source,
                })?;
        if !metadata.is_dir() {
            return Err(OutboxError::NotAFolder {
                path: self.dir.clone(),
            });
        }
        // Permission bits do not tell the whole story (ACLs, read-only mounts), so try it.
        let probe = self.tmp_path("healthcheck");
        let written = write_synced(&probe, b"").await;
        let _ = tokio::fs::remove_file(&probe).await;
        written.map_err(|source| OutboxError::Write {
            path: probe,
            source,
        })
    }

    /// A hidden name that never ends in `.eml`, so readers of the outbox skip it.
    fn tmp_path(&self, token: &str) -> PathBuf {
        let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        self.dir
            .join(format!(".{token}.{}-{n}.tmp", std::process::id()))
    }
}

/// Writes and fsyncs a new file, so the rename that follows publishes complete data.
async fn write_synced(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut file = tokio::fs::File::create(path).await?;
    file.write_all(contents).await?;
    file.sync_all().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn writes_atomically_and_replaces_the_same_token() {
        let dir = tempfile::tempdir().expect("tempdir");
        let outbox = Outbox::create(dir.path().join("nested/outbox"))
            .await
            .expect("create");
        outbox.check().await.expect("writable");

        let first = outbox.write("abc", b"first").await.expect("write");
        let second = outbox.write("abc", b"second").await.expect("write");
        assert_eq!(first, second);
        assert_eq!(std::fs::read(&second).expect("read"), b"second");

        let names: Vec<_> = std::fs::read_dir(&outbox.dir)
            .expect("read_dir")
            .map(|entry| entry.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["abc.eml"]);
    }

    #[tokio::test]
    async fn check_rejects_a_file_in_place_of_the_folder() {
        let dir = tempfile::tempdir().expect("tempdir");
        let outbox = Outbox::create(dir.path().join("outbox"))
            .await
            .expect("create");
        std::fs::remove_dir(&outbox.dir).expect("remove");
        std::fs::write(&outbox.dir, b"").expect("write");
        assert!(matches!(
            outbox.check().await,
            Err(OutboxError::NotAFolder { .. })
        ));
    }
}
