//! What the databases under test are stored on, printed above the table: a run
//! whose commits do not reach a disk measures something else than durable ingest.

use std::path::Path;

use anyhow::Context;

/// The filesystem holding `path`: its type and device, e.g. `("ext4", "/dev/vda")`,
/// from the longest mount point that contains it.
pub fn filesystem(path: &Path) -> Option<(String, String)> {
    let path = std::fs::canonicalize(path).ok()?;
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let mut best: Option<(usize, String, String)> = None;
    for line in mounts.lines() {
        // `id parent dev root mount-point options [optional...] - type source super`
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let mut right = right.split(' ');
        let (Some(mount_point), Some(kind), Some(source)) =
            (left.split(' ').nth(4), right.next(), right.next())
        else {
            continue;
        };
        let mount_point = unescape(mount_point);
        if path.starts_with(&mount_point)
            && best
                .as_ref()
                .is_none_or(|(len, ..)| mount_point.len() >= *len)
        {
            best = Some((mount_point.len(), kind.to_owned(), source.to_owned()));
        }
    }
    best.map(|(_, kind, source)| (kind, source))
}

/// mountinfo writes space, tab, newline and backslash as `\ooo`.
fn unescape(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut rest = field;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let code = rest
            .get(at + 1..at + 4)
            .and_then(|digits| u8::from_str_radix(digits, 8).ok());
        match code {
            Some(byte) => {
                out.push(char::from(byte));
                rest = &rest[at + 4..];
            }
            None => {
                out.push('\\');
                rest = &rest[at + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The settings that decide whether a PostgreSQL commit waits for the disk.
pub struct PgDurability {
    pub fsync: String,
    pub synchronous_commit: String,
    pub full_page_writes: String,
}

impl PgDurability {
    /// Asks the server at `url`.
    pub async fn of(url: &str) -> anyhow::Result<Self> {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(url)
            .await
            .with_context(|| format!("connecting to {url}"))?;
        Ok(Self {
            fsync: show(&mut conn, "fsync").await?,
            synchronous_commit: show(&mut conn, "synchronous_commit").await?,
            full_page_writes: show(&mut conn, "full_page_writes").await?,
        })
    }

    /// Whether an acknowledged commit survives a power loss, as in production.
    pub fn durable(&self) -> bool {
        self.fsync == "on" && self.synchronous_commit != "off" && self.full_page_writes == "on"
    }

    /// One line for the report.
    pub fn line(&self) -> String {
        let verdict = if self.durable() {
            "each commit waits for the disk"
        } else {
            "NOT durable: commits do not wait for the disk, so the PostgreSQL rows overstate what durable commits allow"
        };
        format!(
            "PostgreSQL: fsync = {}, synchronous_commit = {}, full_page_writes = {} ({verdict})",
            self.fsync, self.synchronous_commit, self.full_page_writes
        )
    }
}

async fn show(conn: &mut sqlx::PgConnection, name: &str) -> anyhow::Result<String> {
    sqlx::query_scalar(&format!("SHOW {name}"))
        .fetch_one(conn)
        .await
        .with_context(|| format!("SHOW {name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_escapes_are_decoded() {
        assert_eq!(unescape(r"/mnt/my\040disk"), "/mnt/my disk");
        assert_eq!(unescape(r"/a\134b"), r"/a\b");
        assert_eq!(unescape(r"/odd\9"), r"/odd\9");
        assert_eq!(unescape("/plain"), "/plain");
    }

    #[test]
    fn the_root_filesystem_is_found() {
        assert!(filesystem(Path::new("/")).is_some());
    }
}
