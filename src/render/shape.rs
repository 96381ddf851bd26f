//! How deep a template can make the renderer recurse, bounded before it is rendered.
//!
//! handlebars-rust renders blocks and partials by recursion on the calling thread's
//! stack. A partial that calls itself (directly, through another partial, or through an
//! inline partial) or a few hundred nested blocks overflow a 2 MiB tokio worker stack,
//! and a stack overflow aborts the whole process: one console preview, one reload or the
//! first delivery of a job would take herald down, and a restart would loop on that job.
//! So every template is measured when it is compiled: a partial cycle, or nesting deeper
//! than [`MAX_DEPTH`] levels (blocks and partial calls counted together, along the
//! deepest chain of calls), is a load error at the line that goes too far.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use handlebars::template::{Parameter, TemplateElement};
use handlebars::Template;

use super::LoadError;

/// Levels of blocks and partial calls one render may nest. A debug build overflowed a
/// 2 MiB stack at about 200, so this leaves room for the frames below the renderer;
/// real notification templates nest a handful.
pub(super) const MAX_DEPTH: usize = 64;

/// A template to measure: the file it is (or would be saved as) and its parsed text.
#[derive(Clone, Copy)]
pub(super) struct Body<'a> {
    /// The file, for error messages.
    pub path: &'a Path,
    /// The parsed template.
    pub template: &'a Template,
}

/// Fails when any of `partials` (file partials, by stem) or `templates` can recurse
/// without end or nest deeper than [`MAX_DEPTH`]. Every file partial must be given,
/// since any template may call any of them.
pub(super) fn check(
    partials: &[(&str, Body<'_>)],
    templates: &[Body<'_>],
) -> Result<(), LoadError> {
    let mut graph = Graph::default();
    for (stem, body) in partials {
        graph.define(stem, *body);
    }
    let all = partials
        .iter()
        .map(|(_, body)| *body)
        .chain(templates.iter().copied());
    for body in all.clone() {
        graph.collect_inline(body);
    }
    let mut walk = Walk {
        graph: &graph,
        depths: BTreeMap::new(),
        calling: Vec::new(),
    };
    for body in all {
        walk.body(body, 0)?;
    }
    Ok(())
}

/// Every partial a render can call, by name: file partials and inline partials (an
/// inline partial and a file partial of the same name count as one, the deeper of them).
#[derive(Default)]
struct Graph<'a> {
    partials: BTreeMap<String, Vec<Body<'a>>>,
}

impl<'a> Graph<'a> {
    fn define(&mut self, name: &str, body: Body<'a>) {
        self.partials.entry(name.to_owned()).or_default().push(body);
    }

    /// Records the `{{#*inline "name"}}` definitions anywhere in `body`.
    fn collect_inline(&mut self, body: Body<'a>) {
        // An explicit stack: the template may be nested as deep as the parser allows.
        let mut stack = vec![body.template];
        while let Some(template) = stack.pop() {
            for element in &template.elements {
                if let TemplateElement::DecoratorBlock(d) = element {
                    if let (Some("inline"), Some(Parameter::Literal(name)), Some(inline)) =
                        (d.name.as_name(), d.params.first(), d.template.as_ref())
                    {
                        if let Some(name) = name.as_str() {
                            let path = body.path;
                            self.define(
                                name,
                                Body {
                                    path,
                                    template: inline,
                                },
                            );
                        }
                    }
                }
                stack.extend(children(element));
            }
        }
    }
}

/// The templates nested directly in `element`.
fn children(element: &TemplateElement) -> impl Iterator<Item = &Template> {
    let (inner, inverse) = match element {
        TemplateElement::HelperBlock(h) => (h.template.as_ref(), h.inverse.as_ref()),
        TemplateElement::DecoratorBlock(d) | TemplateElement::PartialBlock(d) => {
            (d.template.as_ref(), None)
        }
        _ => (None, None),
    };
    inner.into_iter().chain(inverse)
}

/// The measurement: each partial's depth once computed, and the chain of partials
/// being measured (a name met again on it is a cycle).
struct Walk<'g, 'a> {
    graph: &'g Graph<'a>,
    depths: BTreeMap<&'g str, usize>,
    calling: Vec<&'g str>,
}

impl<'g> Walk<'g, '_> {
    /// The depth `body` adds, entered `level` levels below the outermost render. Fails
    /// past [`MAX_DEPTH`], which therefore bounds this recursion as well.
    fn body(&mut self, body: Body<'_>, level: usize) -> Result<usize, LoadError> {
        let template = body.template;
        let mut deepest = 0;
        for (index, element) in template.elements.iter().enumerate() {
            let at = |message: String| {
                let (line, column) = template
                    .mapping
                    .get(index)
                    .map_or((0, 0), |mapping| (mapping.0, mapping.1));
                LoadError::Syntax {
                    path: PathBuf::from(body.path),
                    line,
                    column,
                    message,
                }
            };
            if level + 1 > MAX_DEPTH && children(element).next().is_some() {
                return Err(at(nesting()));
            }
            let depth = match element {
                // A definition renders nothing where it stands.
                TemplateElement::DecoratorBlock(d) if d.name.as_name() == Some("inline") => 0,
                TemplateElement::PartialExpression(d) | TemplateElement::PartialBlock(d) => {
                    let called = self.called(&d.name, level + 1, &at)?;
                    let block = match &d.template {
                        Some(block) => self.body(
                            Body {
                                path: body.path,
                                template: block,
                            },
                            level + 1,
                        )?,
                        None => 0,
                    };
                    1 + called + block
                }
                element => {
                    let mut inner = 0;
                    for nested in children(element) {
                        let nested = Body {
                            path: body.path,
                            template: nested,
                        };
                        inner = inner.max(1 + self.body(nested, level + 1)?);
                    }
                    inner
                }
            };
            if level + depth > MAX_DEPTH {
                return Err(at(nesting()));
            }
            deepest = deepest.max(depth);
        }
        Ok(deepest)
    }

    /// The depth of the partial `name` names, called at `level`; `at` places an error
    /// at the call. A name given by an expression could be any partial, so it counts
    /// as the deepest of them.
    fn called(
        &mut self,
        name: &Parameter,
        level: usize,
        at: &dyn Fn(String) -> LoadError,
    ) -> Result<usize, LoadError> {
        if level > MAX_DEPTH {
            return Err(at(nesting()));
        }
        let graph = self.graph;
        let names: Vec<&'g str> = match name.as_name() {
            // `@partial-block` renders the caller's block, measured where it was written.
            Some(name) if name.starts_with('@') => return Ok(0),
            Some(name) => graph
                .partials
                .get_key_value(name)
                .map(|(name, _)| name.as_str())
                .into_iter()
                .collect(),
            None => graph.partials.keys().map(String::as_str).collect(),
        };
        let mut deepest = 0;
        for name in names {
            if let Some(depth) = self.depths.get(name) {
                deepest = deepest.max(*depth);
                continue;
            }
            if let Some(start) = self.calling.iter().position(|called| *called == name) {
                let mut chain = self.calling[start..].to_vec();
                chain.push(name);
                return Err(at(format!(
                    "partial `{name}` calls itself ({}), so it would never finish rendering",
                    chain.join(" → ")
                )));
            }
            self.calling.push(name);
            let mut depth = 0;
            for body in graph.partials.get(name).map_or(&[][..], Vec::as_slice) {
                depth = depth.max(self.body(*body, level)?);
            }
            self.calling.pop();
            self.depths.insert(name, depth);
            deepest = deepest.max(depth);
        }
        Ok(deepest)
    }
}

/// The parser's own limit, met first by thousands of levels, told as [`nesting`] is.
pub(super) fn parser_gave_up(reason: &str) -> Option<String> {
    reason.ends_with("stack limit reached").then(nesting)
}

fn nesting() -> String {
    format!(
        "blocks and partials nest more than {MAX_DEPTH} levels deep \
         (a notification needs a handful)"
    )
}

#[cfg(test)]
mod tests {
    use herald_plugin_api::{TemplatePart, Templates as _};
    use serde_json::json;

    use super::super::Renderer;
    use super::MAX_DEPTH;

    /// Loads `files` (path under the templates folder → text); the error's text if any.
    fn load(files: &[(&str, &str)]) -> Result<Renderer, String> {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("partials")).unwrap();
        for (path, text) in files {
            std::fs::write(tmp.path().join(path), text).unwrap();
        }
        Renderer::load(tmp.path()).map_err(|e| e.to_string())
    }

    fn nested(levels: usize) -> String {
        format!(
            "{}x{}",
            "{{#if a}}".repeat(levels),
            "{{/if}}".repeat(levels)
        )
    }

    // Each case below aborted the test process with a stack overflow before the check.

    #[test]
    fn an_inline_partial_that_calls_itself_is_refused_at_its_line() {
        let text = "Hi\n{{#*inline \"row\"}}r{{> row}}{{/inline}}\n{{> row}}";
        let error = load(&[("loop.txt.hbs", text)]).unwrap_err();
        assert!(error.contains("loop.txt.hbs line 2"), "{error}");
        assert!(
            error.contains("partial `row` calls itself (row → row)"),
            "{error}"
        );
    }

    #[test]
    fn partials_that_call_each_other_are_refused_naming_the_chain() {
        let error = load(&[
            ("partials/a.hbs", "A {{> b}}"),
            ("partials/b.hbs", "B\n{{#if x}}{{> a}}{{/if}}"),
            ("mail.txt.hbs", "{{> a}}"),
        ])
        .unwrap_err();
        assert!(error.contains("calls itself"), "{error}");
        assert!(
            error.contains("a → b → a") || error.contains("b → a → b"),
            "{error}"
        );
        // The two inline partials of one file, and a partial reached by a dynamic name.
        let mutual =
            "{{#*inline \"x\"}}{{> y}}{{/inline}}{{#*inline \"y\"}}{{> x}}{{/inline}}{{> x}}";
        assert!(load(&[("m.txt.hbs", mutual)])
            .unwrap_err()
            .contains("calls itself"));
        let dynamic = load(&[
            ("partials/p.hbs", "{{> (lookup this \"name\")}}"),
            ("d.txt.hbs", "{{> p}}"),
        ]);
        assert!(dynamic.unwrap_err().contains("calls itself"));
    }

    #[test]
    fn thousands_of_nested_blocks_are_refused_with_the_line() {
        let error = load(&[("deep.html.hbs", &format!("<p>\n{}", nested(1500)))]).unwrap_err();
        assert!(error.contains("deep.html.hbs line 2"), "{error}");
        assert!(
            error.contains(&format!("more than {MAX_DEPTH} levels")),
            "{error}"
        );
        // Depth adds up along a chain of partials, each shallow by itself.
        let mut files: Vec<(String, String)> = (0..20)
            .map(|i| {
                (
                    format!("partials/p{i}.hbs"),
                    format!(
                        "{}{{{{> p{}}}}}{}",
                        "{{#if a}}".repeat(3),
                        i + 1,
                        "{{/if}}".repeat(3)
                    ),
                )
            })
            .collect();
        files.push(("partials/p20.hbs".to_owned(), "end".to_owned()));
        files.push(("chain.txt.hbs".to_owned(), "{{> p0}}".to_owned()));
        let files: Vec<(&str, &str)> = files
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_str()))
            .collect();
        assert!(load(&files).unwrap_err().contains("levels"));
    }

    #[test]
    fn ordinary_nesting_layouts_and_partial_blocks_still_render() {
        let renderer = load(&[
            ("partials/layout.hbs", "[{{> @partial-block}}]"),
            (
                "partials/row.hbs",
                "{{#each items}}{{#if this}}{{this}}{{/if}}{{/each}}",
            ),
            (
                "ok.txt.hbs",
                &format!(
                    "{{{{#> layout}}}}{{{{> row}}}}{}{{{{/layout}}}}",
                    nested(40)
                ),
            ),
        ])
        .unwrap();
        let text = renderer.render(
            "ok",
            TemplatePart::Text,
            &json!({"a": true, "items": [1, 2]}),
        );
        assert_eq!(text.unwrap(), "[12x]");
    }

    #[test]
    fn a_draft_or_an_inline_template_that_recurses_is_refused_not_rendered() {
        let renderer = load(&[("partials/p.hbs", "p"), ("mail.txt.hbs", "m")]).unwrap();
        let looping = "{{#*inline \"x\"}}{{> x}}{{/inline}}{{> x}}";
        let error = renderer
            .with_drafts("mail", &[(TemplatePart::Text, looping)])
            .unwrap_err();
        assert!(error.to_string().contains("mail.txt.hbs line 1"), "{error}");
        assert!(renderer
            .check_inline(looping)
            .unwrap_err()
            .0
            .contains("calls itself"));
        let error = renderer.render_inline(looping, &json!({})).unwrap_err();
        assert!(error.0.contains("inline template line 1"), "{error}");
        let deep = nested(500);
        assert!(renderer.render_inline(&deep, &json!({"a": true})).is_err());
        let problems = renderer.problems(super::super::Source::Inline(&deep), &json!({}));
        assert!(problems[0].0.contains("levels"), "{problems:?}");
    }
}
