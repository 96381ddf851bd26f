//! Signed Stripe webhooks with unique event ids, made from the repository's fixtures.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{bail, Context};
use bytes::Bytes;

/// The prefix of every event id the generator makes; the number after it is the
/// event's sequence number, which the sinks read back to match deliveries to acks.
const ID_PREFIX: &str = "evt_bench";

/// One fixture cut around its event id, so a new id costs one concatenation.
struct Template {
    head: String,
    tail: String,
}

/// Produces signed webhook bodies, each with a fresh event id.
pub struct Payloads {
    templates: Vec<Template>,
    secret: Vec<u8>,
    run: u64,
    next: AtomicU64,
}

/// One request to send.
pub struct Signed {
    /// The sequence number inside the event id.
    pub seq: u64,
    pub body: Bytes,
    pub signature: String,
}

impl Payloads {
    /// Loads the `*.json` fixtures under `dir` as templates: all of them, or those
    /// whose file stem (the event type) is in `only`.
    ///
    /// # Errors
    /// When no fixture with a top-level `"id": "evt_…"` is left.
    pub fn load(dir: &Path, secret: &str, only: Option<&[&str]>) -> anyhow::Result<Self> {
        let mut templates = Vec::new();
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .with_context(|| format!("reading fixtures in {}", dir.display()))?
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .filter(|path| {
                let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
                only.is_none_or(|kinds| kinds.contains(&stem))
            })
            .collect();
        entries.sort();
        for path in entries {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            let Some(start) = text.find("\"evt_") else {
                continue;
            };
            let id_start = start + 1;
            let Some(len) = text[id_start..].find('"') else {
                continue;
            };
            templates.push(Template {
                head: text[..id_start].to_owned(),
                tail: text[id_start + len..].to_owned(),
            });
        }
        if templates.is_empty() {
            bail!("no Stripe event fixture found in {}", dir.display());
        }
        // Distinct per run, so runs against one database never collide.
        let run = u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0) % 1_000_000_000;
        Ok(Self {
            templates,
            secret: secret.as_bytes().to_vec(),
            run,
            next: AtomicU64::new(0),
        })
    }

    /// How many fixtures there are.
    pub fn len(&self) -> usize {
        self.templates.len()
    }

    /// The mean body size in bytes.
    pub fn mean_size(&self) -> usize {
        let total: usize = self
            .templates
            .iter()
            .map(|t| t.head.len() + t.tail.len() + ID_PREFIX.len() + 16)
            .sum();
        total / self.templates.len()
    }

    /// The event id of sequence number `seq`.
    pub fn event_id(&self, seq: u64) -> String {
        format!("{ID_PREFIX}{}_{seq}", self.run)
    }

    /// The next event, signed now.
    pub fn next(&self) -> Signed {
        let seq = self.next.fetch_add(1, Ordering::Relaxed);
        let template = &self.templates[usize::try_from(seq).unwrap_or(0) % self.templates.len()];
        let id = self.event_id(seq);
        let mut body = String::with_capacity(template.head.len() + id.len() + template.tail.len());
        body.push_str(&template.head);
        body.push_str(&id);
        body.push_str(&template.tail);
        let now = chrono::Utc::now().timestamp();
        let v1 = herald::source::stripe::sign(body.as_bytes(), &self.secret, now);
        let signature = format!("t={now},v1={v1}");
        Signed {
            seq,
            body: Bytes::from(body),
            signature,
        }
    }
}

/// The sequence number in an idempotency key or event id made by [`Payloads`]
/// (`stripe:evt_bench<run>_<seq>:rule:0`).
pub fn seq_in(text: &str) -> Option<u64> {
    let start = text.find(ID_PREFIX)? + ID_PREFIX.len();
    let rest = &text[start..];
    let after_run = rest.find('_')? + 1;
    let digits: &str = &rest[after_run..];
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_are_read_back_from_keys() {
        assert_eq!(seq_in("stripe:evt_bench123_42:all:0"), Some(42));
        assert_eq!(seq_in("<stripe:evt_bench9_7:all:0@herald>"), Some(7));
        assert_eq!(seq_in("stripe:evt_other:all:0"), None);
    }

    #[test]
    fn every_body_gets_a_new_id() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/stripe");
        let payloads = Payloads::load(&dir, "whsec_test", None).expect("fixtures");
        let a = payloads.next();
        let b = payloads.next();
        assert_ne!(a.body, b.body);
        let text = std::str::from_utf8(&a.body).expect("utf-8");
        let value: serde_json::Value = serde_json::from_str(text).expect("still JSON");
        assert_eq!(seq_in(value["id"].as_str().expect("id")), Some(a.seq));
    }
}
