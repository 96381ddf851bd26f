//! Saving a set: refused when the rendering check finds a problem the files in
//! force do not have; otherwise every changed part, and the old text of each as
//! `<file>.bak`, is replaced at once ([`super::files`]). The file watcher's reload
//! then puts the new templates in force.

use std::sync::Arc;

use serde::Serialize;

use super::files::{self, FileError};
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
    #[error(transparent)]
    File(FileError),
}

impl From<FileError> for SaveError {
    /// A file that is not the editor's to write is a refusal the editor shows, like a
    /// template problem; only a failing disk is an error of herald's.
    fn from(err: FileError) -> SaveError {
        match err {
            FileError::Outside { .. } => SaveError::Refused(vec![Problem {
                part: None,
                line: None,
                column: None,
                message: err.to_string(),
            }]),
            FileError::Io { .. } => SaveError::File(err),
        }
    }
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
        .reloadable
        .templates
        .with_drafts(name, &drafts)
        .map_err(|err| SaveError::Refused(vec![Problem::from_load(name, &err)]))?;
    let before = check::check(config, samples).problems;
    let mut trial = config.clone();
    trial.reloadable.templates = Arc::new(candidate);
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
    let dir = &config.reloadable.templates_dir;
    // (file, new text, old text): every part and backup, written together or not at all.
    let mut writes: Vec<(String, String, Option<String>)> = Vec::new();
    for (part, text) in drafts {
        let file = format!("{name}.{}.hbs", part.as_str());
        files::check_inside(dir, &dir.join(&file))?;
        let old = files::read(dir, &file);
        if old.as_deref() == Some(text) {
            saved.unchanged.push(file);
            continue;
        }
        if let Some(old) = old.clone() {
            let backup = format!("{file}.bak");
            let previous = files::read(dir, &backup);
            writes.push((backup.clone(), old, previous));
            saved.backups.push(backup);
        }
        writes.push((file.clone(), text.to_owned(), old));
        saved.written.push(file);
    }
    files::replace_all(dir, &writes)?;
    Ok(saved)
}
