//! The console's sign-in link for a herald started without `[admin] token`.
//!
//! Such a herald makes up its admin token, which nobody is told: the browser signs
//! in through a link whose code works once. The link is never logged (a log pipeline
//! would keep it): `serve` prints it to an interactive terminal, and writes it to a
//! file only herald's user can read. When a code is spent, a new one replaces it in
//! that file, so the file always holds a link that works, and a link copied from a
//! screen, a history or a proxy's log does not.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use hmac::digest::CtOutput;
use rand::Rng as _;

use super::{tag, HmacSha256};

/// The current code (as its tag), where the link goes, and the file that holds it.
pub struct OneTimeLink {
    /// `http://<admin address>`.
    base: String,
    probe: HmacSha256,
    current: Mutex<CtOutput<HmacSha256>>,
    file: Option<PathBuf>,
}

impl OneTimeLink {
    /// A link to `base` (`http://host:port`), kept in `file` when given; the first URL.
    pub fn new(base: String, probe: HmacSha256, file: Option<PathBuf>) -> (Self, String) {
        let code = fresh_code();
        let link = Self {
            current: Mutex::new(tag(&probe, &code)),
            base,
            probe,
            file,
        };
        let url = link.url(&code);
        link.keep(&url);
        (link, url)
    }

    /// The file the current link is kept in.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    fn url(&self, code: &str) -> String {
        format!("{}/login?code={code}", self.base)
    }

    /// Whether `code` is the current one; if so it is spent, and a new one takes its
    /// place in the file.
    pub fn redeem(&self, code: &str) -> bool {
        let mut current = self
            .current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if tag(&self.probe, code) != *current {
            return false;
        }
        let next = fresh_code();
        *current = tag(&self.probe, &next);
        drop(current);
        self.keep(&self.url(&next));
        true
    }

    /// Writes `url` to the file, readable by this user alone; a failure is logged.
    fn keep(&self, url: &str) {
        let Some(file) = &self.file else { return };
        if let Err(err) = write_private(file, url) {
            tracing::warn!(file = %file.display(), error = %err, "cannot write the console's sign-in link; set [admin] token to sign in with a token");
        }
    }
}

fn fresh_code() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    hex::encode(bytes)
}

/// Replaces `path` with `text`, mode 0600, through a new file renamed into place.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let suffix: u64 = rand::rng().random();
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = path.with_file_name(format!(".{name}.{suffix:016x}"));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temp)?;
    let written = file
        .write_all(format!("{text}\n").as_bytes())
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::rename(&temp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}
