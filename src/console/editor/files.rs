//! The template files the editor reads and writes, kept inside the templates folder.
//!
//! The console runs as herald's user, which can write more than templates. So a file is
//! read or replaced only when it is a regular file, or a link that resolves inside the
//! templates folder (a Kubernetes ConfigMap mounts its files as such links); the temporary
//! files are created exclusively under names no one can guess, so a link planted in the
//! folder is never written through; and a save writes every part or none.

use std::fs::OpenOptions;
use std::io::{self, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use rand::Rng as _;

/// A file of the templates folder that the editor will not touch, and why.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// A link, or something other than a file, that leads out of the folder.
    #[error("{} {why}; the console reads and writes only files inside the templates folder", path.display())]
    Outside {
        /// The file.
        path: PathBuf,
        /// What it is.
        why: &'static str,
    },
    /// Reading, writing or renaming failed.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

/// Fails unless `path` is absent, a regular file, or a link that resolves to a regular
/// file inside `dir`.
pub fn check_inside(dir: &Path, path: &Path) -> Result<(), FileError> {
    let outside = |why| FileError::Outside {
        path: path.to_owned(),
        why,
    };
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(FileError::Io {
                path: path.to_owned(),
                source,
            })
        }
    };
    if meta.file_type().is_file() {
        return Ok(());
    }
    if !meta.file_type().is_symlink() {
        return Err(outside("is not a regular file"));
    }
    let (Ok(target), Ok(dir)) = (path.canonicalize(), dir.canonicalize()) else {
        return Err(outside("is a link that leads nowhere"));
    };
    if !target.starts_with(&dir) {
        return Err(outside("is a link that leads out of the templates folder"));
    }
    if !target.is_file() {
        return Err(outside("is a link to something other than a file"));
    }
    Ok(())
}

/// The text of `dir/file`, or `None` when it is absent, unreadable, or not inside `dir`.
pub fn read(dir: &Path, file: &str) -> Option<String> {
    let path = dir.join(file);
    check_inside(dir, &path).ok()?;
    std::fs::read_to_string(path).ok()
}

/// Replaces each `(file, text)` in `dir`: every temporary file is written and synced
/// first, then renamed over its file. Nothing is renamed if any write fails, and a rename
/// that fails puts back the files already replaced (from `old`, their previous text), so
/// a save lands whole or not at all, and leaves no temporary file behind.
///
/// # Errors
/// When a file is not inside `dir` or cannot be written.
pub fn replace_all(
    dir: &Path,
    writes: &[(String, String, Option<String>)],
) -> Result<(), FileError> {
    for (file, _, _) in writes {
        check_inside(dir, &dir.join(file))?;
    }
    let mut temps: Vec<PathBuf> = Vec::new();
    for (file, text, _) in writes {
        match write_temp(dir, file, text) {
            Ok(temp) => temps.push(temp),
            Err(err) => {
                remove_all(&temps);
                return Err(err);
            }
        }
    }
    for (index, ((file, _, _), temp)) in writes.iter().zip(&temps).enumerate() {
        let path = dir.join(file);
        if let Err(source) = std::fs::rename(temp, &path) {
            remove_all(&temps[index..]);
            put_back(dir, &writes[..index]);
            return Err(FileError::Io { path, source });
        }
    }
    Ok(())
}

/// Writes `text` to a new dotfile beside `dir/file` (the loader skips dotfiles) and syncs
/// it. Created exclusively (`O_CREAT | O_EXCL`), which fails on any existing name, a link
/// included, rather than following it.
fn write_temp(dir: &Path, file: &str, text: &str) -> Result<PathBuf, FileError> {
    let suffix: u64 = rand::rng().random();
    let temp = dir.join(format!(".{file}.{suffix:016x}.saving"));
    let io = |source| FileError::Io {
        path: temp.clone(),
        source,
    };
    let mut handle = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(&temp)
        .map_err(io)?;
    let written = handle
        .write_all(text.as_bytes())
        .and_then(|()| handle.sync_all());
    if let Err(source) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(io(source));
    }
    Ok(temp)
}

fn remove_all(temps: &[PathBuf]) {
    for temp in temps {
        let _ = std::fs::remove_file(temp);
    }
}

/// After a failed rename: the files replaced so far get their old text back (or are
/// removed, when they were new). Best effort; the failure is already being reported.
fn put_back(dir: &Path, replaced: &[(String, String, Option<String>)]) {
    for (file, _, old) in replaced {
        let path = dir.join(file);
        let restored = match old {
            Some(old) => write_temp(dir, file, old).and_then(|temp| {
                std::fs::rename(&temp, &path).map_err(|source| FileError::Io {
                    path: path.clone(),
                    source,
                })
            }),
            None => std::fs::remove_file(&path).map_err(|source| FileError::Io {
                path: path.clone(),
                source,
            }),
        };
        if let Err(err) = restored {
            tracing::error!(error = %err, "could not put a template back after a failed save");
        }
    }
}
