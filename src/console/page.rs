//! The page shell every console page shares, and the small pieces of HTML the
//! pages are built from. Everything interpolated goes through [`esc`].

use std::fmt::Write as _;

use axum::response::Html;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::shell::Shell;

/// The sections of the navigation bar: path and label.
const NAV: [(&str, &str); 4] = [
    ("/", "Events"),
    ("/dead-letters", "Dead letters"),
    ("/orders", "Orders"),
    ("/templates", "Templates"),
];

/// `text` safe inside HTML text and double-quoted attributes.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// `text` as one URL path segment or query value.
pub fn url(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// A whole page: `section` is the navigation entry to mark, `shell` the token the
/// page's scripts send with every change they ask for and the config's problems.
pub fn page(title: &str, section: &str, shell: &Shell, body: &str) -> Html<String> {
    let csrf = shell.token.as_str();
    let problems = problems_banner(&shell.problems);
    let mut nav = String::new();
    for (href, label) in NAV {
        let current = if href == section {
            " aria-current=\"page\""
        } else {
            ""
        };
        let _ = write!(nav, "<a href=\"{href}\"{current}>{label}</a>");
    }
    Html(format!(
        r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="{csrf}">
<title>{title} · herald</title>
<link rel="stylesheet" href="/assets/console.css">
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
<script src="/assets/console.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header><span class="brand">herald</span><nav aria-label="Sections">{nav}</nav></header>
<main id="main">
{problems}<h1>{title}</h1>
{body}
</main>
<dialog id="confirm" aria-labelledby="confirm-text">
<form method="dialog">
<p id="confirm-text"></p>
<div class="dialog-buttons"><button value="cancel" autofocus>Cancel</button> <button value="ok" class="danger" data-confirm>Confirm</button></div>
</form>
</dialog>
</body>
</html>
"##,
        csrf = esc(csrf),
        title = esc(title),
    ))
}

/// The config's problems, above the page: deliveries that use them fail until fixed.
fn problems_banner(problems: &[String]) -> String {
    if problems.is_empty() {
        return String::new();
    }
    let mut items = String::new();
    for problem in problems {
        let _ = write!(items, "<li><pre>{}</pre></li>", esc(problem));
    }
    format!(
        "<section class=\"problems\" role=\"alert\"><h2>The config in force has {} problem{}</h2>\
         <p>herald check refuses it; deliveries that use it fail until it is fixed and reloaded.</p>\
         <ul>{items}</ul></section>\n",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    )
}

/// A Unix millisecond as UTC, to the second.
pub fn time_ms(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms).map_or_else(
        || ms.to_string(),
        |t| t.format("%Y-%m-%d %H:%M:%S").to_string(),
    )
}

/// A Unix second as UTC.
pub fn time_s(secs: i64) -> String {
    time_ms(secs.saturating_mul(1000))
}

/// A status word as a coloured badge (`delivered`, `pending`, `dead`, …).
pub fn badge(status: &str) -> String {
    format!(
        "<span class=\"badge badge-{class}\">{text}</span>",
        class = esc(status),
        text = esc(status)
    )
}

/// An amount in minor units with its currency, as `12.34 USD`.
pub fn money(amount: Option<i64>, currency: Option<&str>) -> String {
    match amount {
        Some(minor) => {
            let sign = if minor < 0 { "-" } else { "" };
            let abs = minor.unsigned_abs();
            let code = currency.unwrap_or_default().to_ascii_uppercase();
            format!("{sign}{}.{:02} {}", abs / 100, abs % 100, esc(&code))
        }
        None => "—".to_owned(),
    }
}

/// `value` as nested `<details>`, objects and arrays collapsible, the first
/// `open_depth` levels open.
pub fn json_tree(value: &Value, open_depth: usize) -> String {
    let mut out = String::new();
    tree(&mut out, None, value, 0, open_depth);
    out
}

fn tree(out: &mut String, key: Option<&str>, value: &Value, depth: usize, open_depth: usize) {
    let label = key.map_or_else(String::new, |k| {
        format!("<span class=\"json-key\">{}</span>: ", esc(k))
    });
    let (children, open, close): (Vec<(String, &Value)>, &str, &str) = match value {
        Value::Object(map) => (map.iter().map(|(k, v)| (k.clone(), v)).collect(), "{", "}"),
        Value::Array(items) => (
            items
                .iter()
                .enumerate()
                .map(|(i, v)| (i.to_string(), v))
                .collect(),
            "[",
            "]",
        ),
        scalar => {
            let text = esc(&scalar.to_string());
            let _ = write!(
                out,
                "<div class=\"json-line\">{label}<span class=\"json-{kind}\">{text}</span></div>",
                kind = scalar_kind(scalar)
            );
            return;
        }
    };
    if children.is_empty() {
        let _ = write!(out, "<div class=\"json-line\">{label}{open}{close}</div>");
        return;
    }
    let is_open = if depth < open_depth { " open" } else { "" };
    let _ = write!(
        out,
        "<details class=\"json\"{is_open}><summary>{label}{open} <span class=\"json-count\">{} item{}</span></summary><div class=\"json-body\">",
        children.len(),
        if children.len() == 1 { "" } else { "s" }
    );
    for (k, v) in &children {
        tree(out, Some(k), v, depth + 1, open_depth);
    }
    let _ = write!(
        out,
        "</div><span class=\"json-close\">{close}</span></details>"
    );
}

fn scalar_kind(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        _ => "null",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_for_html_and_urls() {
        assert_eq!(
            esc(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(url("ORDER 1/2?"), "ORDER%201%2F2%3F");
    }

    #[test]
    fn amounts_show_in_major_units() {
        assert_eq!(money(Some(1999), Some("usd")), "19.99 USD");
        assert_eq!(money(Some(-5), Some("eur")), "-0.05 EUR");
        assert_eq!(money(None, None), "—");
    }

    #[test]
    fn a_json_tree_escapes_and_collapses_below_its_open_depth() {
        let value = serde_json::json!({ "a": { "b": "<x>" }, "n": [] });
        let html = json_tree(&value, 1);
        assert!(html.contains("&quot;&lt;x&gt;&quot;"), "{html}");
        assert!(html.starts_with("<details class=\"json\" open>"), "{html}");
        assert!(html.contains("<details class=\"json\"><summary>"), "{html}");
        assert!(html.contains("n</span>: []"), "{html}");
    }
}
