//! Saving a set: refused when the rendering check finds a problem the files in
//! force do not have; otherwise each changed part is written to a temporary file
//! and renamed over the old one, whose text is kept as `<file>.bak`. The file
//! watcher's reload then puts the new templates in force.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use super::{Parts, Problem};
use crate::check::{self, SampleEvent};
use crate::config::Config;

/// What a save wrote.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Saved {
    /// Files written, relative to the templates folder.
    pub written: Vec<String>,
    /// The previous versions kept, relative to the templates folder.
    pub backups: Vec<String>,
    /// Parts sent that were already as saved.
    pub unchanged: Vec<String>,
}

/// Why a save did not happen.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// The draft would fail: these problems, each with its part and line.
    #[error("the templates do not pass the rendering check")]
    Refused(Vec<Problem>),
    /// A file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Checks `parts` of set `name` against `samples` with `config`'s rules, then writes them.
///
/// # Errors
/// [`SaveError::Refused`] with every problem the draft brings, or nothing to save;
/// [`SaveError::Io`] when a file cannot be written.
pub fn save(
    config: &Config,
    name: &str,
    parts: &Parts,
    samples: &[SampleEvent],
) -> Result<Saved, SaveError> {
    let drafts = parts.drafts();
    if drafts.is_empty() {
        return Err(SaveError::Refused(vec![Problem {
            part: None,
            line: None,
            column: None,
            message: "nothing to save: send subject, html or text".to_owned(),
        }]));
    }
    let candidate = config
        .templates
        .with_drafts(name, &drafts)
        .map_err(|err| SaveError::Refused(vec![Problem::from_load(name, &err)]))?;
    let before = check::check(config, samples).problems;
    let mut trial = config.clone();
    trial.templates = Arc::new(candidate);
    let after = check::check(&trial, samples).problems;
    let new: Vec<Problem> = after
        .iter()
        .filter(|problem| !before.contains(problem))
        .map(|problem| Problem {
            part: None,
            line: None,
            column: None,
            message: problem.to_string(),
        })
        .collect();
    if !new.is_empty() {
        return Err(SaveError::Refused(new));
    }
    let mut saved = Saved::default();
    for (part, text) in drafts {
        let file = format!("{name}.{}.hbs", part.as_str());
        let path = config.templates_dir.join(&file);
        let old = std::fs::read_to_string(&path).ok();
        if old.as_deref() == Some(text) {
            saved.unchanged.push(file);
            continue;
        }
        if let Some(old) = old {
            let backup = format!("{file}.bak");
            write_atomically(&config.templates_dir.join(&backup), &old)?;
            saved.backups.push(backup);
        }
        write_atomically(&path, text)?;
        saved.written.push(file);
    }
    Ok(saved)
}

/// Writes `text` to a dotfile beside `path` (the loader skips dotfiles), flushes it
/// to disk, and renames it over `path`: a reader sees the old file or the new one.
fn write_atomically(path: &Path, text: &str) -> Result<(), SaveError> {
    let io = |source| SaveError::Io {
        path: path.to_owned(),
        source,
    };
    let file_name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = path.with_file_name(format!(".{file_name}.saving"));
    let mut file = std::fs::File::create(&temp).map_err(io)?;
    file.write_all(text.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    drop(file);
    std::fs::rename(&temp, path).map_err(io)
}
