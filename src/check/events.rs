//! The events the rendering check renders against: herald's built-in samples and the
//! shop's own saved events, each normalized as the receiver normalizes a webhook.

use std::path::Path;

use herald_plugin_api::Event;
use serde_json::Value;

use crate::samples;
use crate::source::stripe::{normalize, NormalizeError, Verified};

/// One event to render against, with the name problems cite it by.
#[derive(Debug, Clone)]
pub struct SampleEvent {
    /// The sample's type for a built-in one, the file for a saved one.
    pub name: String,
    /// The event as delivery sees it.
    pub event: Event,
}

impl SampleEvent {
    /// A raw Stripe event, as Stripe sends it, normalized.
    ///
    /// # Errors
    /// When the bytes are not a Stripe event.
    pub fn from_json(name: impl Into<String>, body: &[u8]) -> Result<Self, NormalizeError> {
        Ok(Self {
            name: name.into(),
            event: normalize(Verified::local(body))?,
        })
    }

    /// [`Self::from_json`] of an event already parsed.
    ///
    /// # Errors
    /// When the value is not a Stripe event.
    pub fn from_value(name: impl Into<String>, event: &Value) -> Result<Self, NormalizeError> {
        let body = serde_json::to_vec(event).map_err(|e| NormalizeError::Json(e.to_string()))?;
        Self::from_json(name, &body)
    }
}

/// Every built-in sample (`herald trigger --list`) as stored, one per type. They
/// include a copy of each event in `tests/fixtures/stripe/`.
pub fn builtin() -> Vec<SampleEvent> {
    samples::all()
        .filter_map(|(kind, text)| SampleEvent::from_json(kind, text.as_bytes()).ok())
        .collect()
}

/// The `*.json` files of `dir`, sorted by name, and a message for each that could
/// not be read or is not a Stripe event.
pub fn load_dir(dir: &Path) -> (Vec<SampleEvent>, Vec<String>) {
    let mut paths = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "json") && path.is_file())
            .collect::<Vec<_>>(),
        Err(e) => {
            return (
                Vec::new(),
                vec![format!("cannot read {}: {e}", dir.display())],
            )
        }
    };
    paths.sort();
    let (mut events, mut errors) = (Vec::new(), Vec::new());
    for path in paths {
        let name = path.display().to_string();
        match std::fs::read(&path) {
            Ok(body) => match SampleEvent::from_json(&name, &body) {
                Ok(event) => events.push(event),
                Err(e) => errors.push(format!("{name}: {e}")),
            },
            Err(e) => errors.push(format!("cannot read {name}: {e}")),
        }
    }
    if events.is_empty() && errors.is_empty() {
        errors.push(format!("{}: no *.json event files", dir.display()));
    }
    (events, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_sample_normalizes() {
        assert_eq!(builtin().len(), samples::types().count());
    }

    #[test]
    fn a_folder_without_events_or_with_a_broken_one_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let (events, errors) = load_dir(dir.path());
        assert!(events.is_empty());
        assert!(errors[0].contains("no *.json"), "{errors:?}");
        std::fs::write(dir.path().join("bad.json"), "{}").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
        let (_, errors) = load_dir(dir.path());
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].contains("bad.json: not a Stripe event"),
            "{errors:?}"
        );
    }
}
