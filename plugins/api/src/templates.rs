//! Template rendering as plugins see it; herald implements it with handlebars.

use serde_json::Value;

/// Which file of a template set to render: `<name>.<part>.hbs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TemplatePart {
    /// `<name>.subject.hbs`: one line, not HTML-escaped.
    Subject,
    /// `<name>.html.hbs`: HTML, every `{{value}}` escaped.
    Html,
    /// `<name>.txt.hbs`: plain text, not escaped.
    Text,
}

impl TemplatePart {
    /// The part as it appears in file names.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Subject => "subject",
            Self::Html => "html",
            Self::Text => "txt",
        }
    }
}

/// Rendering failed: a missing template, a missing field (strict mode), a helper error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RenderError(pub String);

/// The template registry handed to plugins.
pub trait Templates: Send + Sync {
    /// Renders `<name>.<part>.hbs` against `context`.
    ///
    /// # Errors
    /// When the template does not exist or strict rendering fails.
    fn render(
        &self,
        name: &str,
        part: TemplatePart,
        context: &Value,
    ) -> Result<String, RenderError>;

    /// Whether `<name>.<part>.hbs` was loaded.
    fn has(&self, name: &str, part: TemplatePart) -> bool;

    /// Where `<name>.<part>.hbs` is, or would be, for messages: inside the configured
    /// `templates.dir`, so an operator whose folder is not `templates/` looks in the
    /// right place.
    fn file(&self, name: &str, part: TemplatePart) -> String {
        format!("templates/{name}.{}.hbs", part.as_str())
    }

    /// Renders an inline template from config, such as `to = "{{customer.email}}"`,
    /// as plain text (no HTML escaping).
    ///
    /// # Errors
    /// When the template does not parse or strict rendering fails.
    fn render_inline(&self, template: &str, context: &Value) -> Result<String, RenderError>;

    /// Checks that an inline template parses, without rendering it.
    ///
    /// # Errors
    /// The parse error, with its position.
    fn check_inline(&self, template: &str) -> Result<(), RenderError>;
}
