//! The documentation stays navigable: the README is short and opens with the two
//! commands a newcomer needs, and every relative link in it and in `docs/` leads to a
//! file that exists and, for `#anchor` links into Markdown, to a heading that exists.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use crate::helpers::repo;

/// The README is an entry point, not a reference: what does not fit goes into `docs/`.
const README_MAX_LINES: usize = 300;

/// The two commands at the very top of the README, each at the start of a line.
const README_COMMANDS: [&str; 2] = [
    "STRIPE_WEBHOOK_SECRET=whsec_test cargo run --release -- serve",
    "./scripts/test",
];

/// How far down the README its first code block, the one with the commands, may start.
const COMMANDS_WITHIN_LINES: usize = 5;

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

#[test]
fn the_readme_is_short_and_opens_with_the_two_commands() {
    let readme = read(&repo().join("README.md"));
    let lines: Vec<&str> = readme.lines().collect();
    assert!(
        lines.len() <= README_MAX_LINES,
        "README.md has {} lines; at most {README_MAX_LINES}: move the detail into docs/",
        lines.len()
    );
    let open = lines
        .iter()
        .position(|line| line.starts_with("```"))
        .expect("a code block in README.md");
    assert!(
        open < COMMANDS_WITHIN_LINES,
        "README.md's first code block starts at line {}",
        open + 1
    );
    let block: Vec<&str> = lines[open + 1..]
        .iter()
        .take_while(|line| !line.starts_with("```"))
        .copied()
        .collect();
    for command in README_COMMANDS {
        assert!(
            block.iter().any(|line| line.starts_with(command)),
            "README.md's first code block lacks `{command}`: {block:#?}"
        );
    }
}

#[test]
fn every_relative_link_in_the_docs_leads_somewhere() {
    let mut files = vec![repo().join("README.md"), repo().join("SECURITY.md")];
    markdown_under(&repo().join("docs"), &mut files);
    assert!(files.len() > 1, "no Markdown files under docs/");
    let broken: Vec<String> = files
        .iter()
        .flat_map(|file| broken_links(file, &read(file)))
        .collect();
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_link_check_finds_missing_files_and_headings() {
    let file = repo().join("docs").join("example.md");
    let text = "# Top\n\
        [ok](configuration.md#rules) [self](#top) [web](https://example.com/x.md)\n\
        [gone](no-such-page.md) [heading](configuration.md#no-such-heading) [here](#nowhere)\n\
        ```\n[in code](ignored.md)\n```\n\
        `[inline](ignored-too.md)`\n";
    let broken = broken_links(&file, text);
    assert_eq!(broken.len(), 3, "{broken:#?}");
    for target in ["no-such-page.md", "#no-such-heading", "#nowhere"] {
        assert!(
            broken.iter().any(|b| b.contains(target)),
            "{target} not reported: {broken:#?}"
        );
    }
}

#[test]
fn anchors_are_made_as_github_makes_them() {
    let text = "# Retries, dead letters and replay\n## `[server]` keys\n## Notes\n## Notes\n\
        ```\n# not a heading\n```\n";
    assert_eq!(
        anchors(text),
        [
            "retries-dead-letters-and-replay",
            "server-keys",
            "notes",
            "notes-1"
        ]
    );
}

/// Every `.md` file under `dir`, recursively.
fn markdown_under(dir: &Path, files: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|err| panic!("{}: {err}", dir.display()));
    let mut paths: Vec<PathBuf> = entries
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            markdown_under(&path, files);
        } else if path.extension().is_some_and(|ext| ext == "md") {
            files.push(path);
        }
    }
}

/// The links of `text` (the contents of `file`) that lead nowhere, each with why.
fn broken_links(file: &Path, text: &str) -> Vec<String> {
    let dir = file.parent().expect("a file has a folder");
    let shown = file.strip_prefix(repo()).unwrap_or(file).display();
    let mut broken = Vec::new();
    for target in link_targets(text) {
        if target.contains("://") || target.starts_with("mailto:") {
            continue;
        }
        let (path, anchor) = target.split_once('#').unwrap_or((&target, ""));
        let (linked, linked_text) = if path.is_empty() {
            (file.to_path_buf(), Some(text.to_owned()))
        } else {
            let linked = normalize(&dir.join(path));
            if !linked.exists() {
                broken.push(format!("{shown}: {target}: no such file"));
                continue;
            }
            let is_markdown = linked.extension().is_some_and(|ext| ext == "md");
            let linked_text = is_markdown.then(|| read(&linked));
            (linked, linked_text)
        };
        if anchor.is_empty() {
            continue;
        }
        match linked_text {
            Some(linked_text) if !anchors(&linked_text).iter().any(|a| a == anchor) => {
                broken.push(format!(
                    "{shown}: {target}: no heading #{anchor} in {}",
                    linked.strip_prefix(repo()).unwrap_or(&linked).display()
                ));
            }
            _ => {}
        }
    }
    broken
}

/// `a/b/../c` as `a/c`, so a link that climbs out of `docs/` resolves before it is tested.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The lines of `text` outside fenced code blocks.
fn prose_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut in_code = false;
    text.lines().filter(move |line| {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            return false;
        }
        !in_code
    })
}

/// `line` without its inline code spans.
fn without_code_spans(line: &str) -> String {
    line.split('`').step_by(2).collect::<Vec<_>>().join(" ")
}

/// The targets of the inline links `[text](target)` in `text`, outside code.
fn link_targets(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    for line in prose_lines(text) {
        let line = without_code_spans(line);
        let mut rest = line.as_str();
        while let Some(at) = rest.find("](") {
            rest = &rest[at + 2..];
            let end = rest
                .find(|c: char| c == ')' || c.is_whitespace())
                .unwrap_or(rest.len());
            targets.push(rest[..end].to_owned());
            rest = &rest[end..];
        }
    }
    targets
}

/// The anchors GitHub gives the headings of `text`: lower case, spaces as `-`, other
/// punctuation dropped, and `-1`, `-2`, … after a repeated one.
fn anchors(text: &str) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut anchors = Vec::new();
    for line in prose_lines(text) {
        let hashes = line.chars().take_while(|&c| c == '#').count();
        if !(1..=6).contains(&hashes) || !line[hashes..].starts_with(' ') {
            continue;
        }
        let title = line[hashes..].trim().trim_end_matches('#').trim_end();
        let slug: String = title
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('-'),
                c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                _ => None,
            })
            .flat_map(char::to_lowercase)
            .collect();
        let count = seen.entry(slug.clone()).or_insert(0);
        anchors.push(if *count == 0 {
            slug
        } else {
            format!("{slug}-{count}")
        });
        *count += 1;
    }
    anchors
}
