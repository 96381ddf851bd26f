//! Drafts: a template set's parts as someone is editing them, rendered and checked
//! before they are saved, with everything else as loaded.

use std::collections::BTreeSet;

use herald_plugin_api::TemplatePart;

use super::files::{check_partials, compile_text, invalid, is_identifier};
use super::shape::Body;
use super::{LoadError, Renderer};

impl Renderer {
    /// A copy of these templates with set `name`'s parts in `drafts` replaced by (or
    /// added as) the given texts; parts not in `drafts` stay as loaded. Errors name the
    /// file each draft would be saved as.
    ///
    /// # Errors
    /// When `name` is not a set name, or a draft does not parse or names an unknown
    /// partial.
    pub fn with_drafts(
        &self,
        name: &str,
        drafts: &[(TemplatePart, &str)],
    ) -> Result<Renderer, LoadError> {
        let mut copy = self.clone();
        if !is_identifier(name) {
            return Err(invalid(
                &self.dir.join(name),
                "a template's name must be a snake_case identifier",
            ));
        }
        // Partials are registered under their stem, which has no dot; set files have.
        let partials: BTreeSet<String> = self
            .html
            .get_templates()
            .keys()
            .filter(|key| !key.contains('.'))
            .cloned()
            .collect();
        let mut compiled = Vec::new();
        for (part, text) in drafts {
            let file = format!("{name}.{}.hbs", part.as_str());
            let path = self.dir.join(&file);
            let template = compile_text(&path, &file, text)?;
            check_partials(&path, &template, &partials)?;
            compiled.push((*part, file, path, template));
        }
        let bodies: Vec<Body<'_>> = compiled
            .iter()
            .map(|(_, _, path, template)| Body { path, template })
            .collect();
        self.check_shape(&bodies)?;
        for (part, file, _, template) in compiled {
            copy.registry_mut(part).register_template(&file, template);
        }
        copy.names.insert(name.to_owned());
        Ok(copy)
    }

    /// The templates folder these were loaded from.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }
}

#[cfg(test)]
mod tests {
    use herald_plugin_api::Templates as _;
    use serde_json::json;

    use super::*;

    fn renderer() -> (tempfile::TempDir, Renderer) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("partials")).unwrap();
        std::fs::write(dir.path().join("partials/sign.hbs"), "-- {{shop}}").unwrap();
        std::fs::write(dir.path().join("hello.subject.hbs"), "Hi {{who}}").unwrap();
        std::fs::write(dir.path().join("hello.txt.hbs"), "Hello {{who}}").unwrap();
        let renderer = Renderer::load(dir.path()).unwrap();
        (dir, renderer)
    }

    #[test]
    fn a_draft_replaces_its_part_and_leaves_the_rest_and_the_original_alone() {
        let (_dir, renderer) = renderer();
        let draft = renderer
            .with_drafts("hello", &[(TemplatePart::Text, "Dear {{who}} {{> sign}}")])
            .unwrap();
        let data = json!({ "who": "Jenny", "shop": "Shop" });
        let text = draft.render("hello", TemplatePart::Text, &data).unwrap();
        assert_eq!(text, "Dear Jenny -- Shop");
        let subject = draft.render("hello", TemplatePart::Subject, &data).unwrap();
        assert_eq!(subject, "Hi Jenny");
        let old = renderer.render("hello", TemplatePart::Text, &data).unwrap();
        assert_eq!(old, "Hello Jenny");
    }

    #[test]
    fn a_draft_that_does_not_parse_or_names_no_partial_is_refused_with_its_file() {
        let (_dir, renderer) = renderer();
        let err = renderer
            .with_drafts("hello", &[(TemplatePart::Html, "<p>\n{{#if x}}")])
            .unwrap_err();
        match err {
            LoadError::Syntax { path, line, .. } => {
                assert!(path.ends_with("hello.html.hbs"), "{}", path.display());
                assert_eq!(line, 2);
            }
            other => panic!("{other}"),
        }
        let err = renderer
            .with_drafts("hello", &[(TemplatePart::Text, "{{> nope}}")])
            .unwrap_err();
        assert!(err.to_string().contains("unknown partial `nope`"), "{err}");
        assert!(renderer.with_drafts("../x", &[]).is_err());
    }

    #[test]
    fn a_draft_may_add_a_new_set() {
        let (_dir, renderer) = renderer();
        let draft = renderer
            .with_drafts("fresh", &[(TemplatePart::Subject, "New")])
            .unwrap();
        assert!(draft.has("fresh", TemplatePart::Subject));
        assert!(!draft.has("fresh", TemplatePart::Html));
        assert!(draft.names().contains(&"fresh".to_owned()));
    }
}
