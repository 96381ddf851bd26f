//! [`Preview`]: what delivering one job would send, as `herald route` shows it.

/// Labelled values a plugin would send for one job (`to`, `subject`, `url`, `body` …),
/// in the order shown, every secret already masked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preview {
    /// `(label, value)`; a value may span lines.
    pub lines: Vec<(String, String)>,
}

impl Preview {
    /// An empty preview.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `label: value`.
    #[must_use]
    pub fn line(mut self, label: impl Into<String>, value: impl Into<String>) -> Self {
        self.lines.push((label.into(), value.into()));
        self
    }
}

/// What a masked secret shows as.
pub const MASKED: &str = "<hidden>";
