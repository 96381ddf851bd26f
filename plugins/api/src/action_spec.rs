//! [`ActionSpec`]: what a checked rule action will render, so `herald check` and
//! `herald route` can render it against a sample event without delivering it.

use crate::templates::TemplatePart;

/// The templates one checked action renders on each delivery.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionSpec {
    /// Template sets from the templates folder, with the parts rendered.
    pub template_sets: Vec<TemplateSet>,
    /// Inline templates from the action, by the parameter holding them (`to`,
    /// `body`, `args[0]`).
    pub inline: Vec<(String, String)>,
}

/// A template set an action renders: `templates/<name>.<part>.hbs` for each part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateSet {
    /// The set's name, e.g. `payment_succeeded`.
    pub name: String,
    /// The parts rendered; a part missing from the folder is skipped.
    pub parts: Vec<TemplatePart>,
}

impl ActionSpec {
    /// An action that renders nothing.
    pub fn none() -> Self {
        Self::default()
    }

    /// Adds the template set `name`, of which `parts` are rendered.
    #[must_use]
    pub fn with_set(mut self, name: impl Into<String>, parts: &[TemplatePart]) -> Self {
        self.template_sets.push(TemplateSet {
            name: name.into(),
            parts: parts.to_vec(),
        });
        self
    }

    /// Adds the inline template `template` held by the parameter `param`.
    #[must_use]
    pub fn with_inline(mut self, param: impl Into<String>, template: impl Into<String>) -> Self {
        self.inline.push((param.into(), template.into()));
        self
    }
}
