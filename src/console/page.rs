//! The page shell every console page shares, and the small pieces the pages are
//! built from. Pages are `maud` markup, which escapes every value it is given:
//! nothing here marks a value as already escaped.

use axum::response::Html;
use chrono::{DateTime, Utc};
use maud::{html, Markup, DOCTYPE};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::Value;

use super::shell::Shell;

/// The sections of the navigation bar: path and label.
const NAV: [(&str, &str); 7] = [
    ("/", "Events"),
    ("/dead-letters", "Dead letters"),
    ("/orders", "Orders"),
    ("/subscriptions", "Subscriptions"),
    ("/followups", "Follow-ups"),
    ("/report", "Report"),
    ("/templates", "Templates"),
];

/// What stays as it is in one URL path segment or query value: RFC 3986's
/// unreserved characters.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// `text` as one URL path segment or query value.
pub fn url(text: &str) -> String {
    utf8_percent_encode(text, SEGMENT).to_string()
}

/// A whole page: `section` is the navigation entry to mark, `shell` the token the
/// page's scripts send with every change they ask for and the config's problems.
pub fn page(title: &str, section: &str, shell: &Shell, body: &Markup) -> Html<String> {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="csrf-token" content=(shell.token);
                title { (title) " · herald" }
                link rel="stylesheet" href="/assets/console.css";
                link rel="icon" href="/assets/favicon.svg" type="image/svg+xml";
                script src="/assets/console.js" defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header {
                    span.brand { "herald" }
                    nav aria-label="Sections" {
                        @for (href, label) in NAV {
                            a href=(href) aria-current=[(href == section).then_some("page")] { (label) }
                        }
                    }
                }
                main #main {
                    (problems_banner(&shell.problems))
                    h1 { (title) }
                    (body)
                }
                dialog #confirm aria-labelledby="confirm-text" {
                    form method="dialog" {
                        p #confirm-text {}
                        div.dialog-buttons {
                            button value="cancel" autofocus { "Cancel" }
                            " "
                            button.danger value="ok" data-confirm { "Confirm" }
                        }
                    }
                }
            }
        }
    };
    Html(markup.into_string())
}

/// The config's problems, above the page: deliveries that use them fail until fixed.
fn problems_banner(problems: &[String]) -> Markup {
    html! {
        @if !problems.is_empty() {
            section.problems role="alert" {
                h2 { "The config in force has " (plural(problems.len(), "problem")) }
                p { "herald check refuses it; deliveries that use it fail until it is fixed and reloaded." }
                ul {
                    @for problem in problems { li { pre { (problem) } } }
                }
            }
        }
    }
}

/// A table's head row: one column header each.
pub fn head(headings: &[&str]) -> Markup {
    html! {
        thead { tr { @for heading in headings { th scope="col" { (heading) } } } }
    }
}

/// `count` and `noun`, with an `s` unless there is one.
pub fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
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
pub fn badge(status: &str) -> Markup {
    html! { span class={ "badge badge-" (status) } { (status) } }
}

/// An amount in minor units with its currency, as `12.34 USD`.
pub fn money(amount: Option<i64>, currency: Option<&str>) -> String {
    match amount {
        Some(minor) => {
            let sign = if minor < 0 { "-" } else { "" };
            let abs = minor.unsigned_abs();
            let code = currency.unwrap_or_default().to_ascii_uppercase();
            format!("{sign}{}.{:02} {code}", abs / 100, abs % 100)
        }
        None => "—".to_owned(),
    }
}

/// `value` as nested `<details>`, objects and arrays collapsible, the first
/// `open_depth` levels open.
pub fn json_tree(value: &Value, open_depth: usize) -> Markup {
    tree(None, value, 0, open_depth)
}

fn tree(key: Option<&str>, value: &Value, depth: usize, open_depth: usize) -> Markup {
    let label = html! {
        @if let Some(key) = key { span.json-key { (key) } ": " }
    };
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
            return html! {
                div.json-line { (label) span class={ "json-" (scalar_kind(scalar)) } { (scalar.to_string()) } }
            };
        }
    };
    if children.is_empty() {
        return html! { div.json-line { (label) (open) (close) } };
    }
    html! {
        details.json open[depth < open_depth] {
            summary { (label) (open) " " span.json-count { (plural(children.len(), "item")) } }
            div.json-body {
                @for (k, v) in &children { (tree(Some(k), v, depth + 1, open_depth)) }
            }
            span.json-close { (close) }
        }
    }
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
    fn url_segments_encode_all_but_the_unreserved() {
        assert_eq!(url("ORDER 1/2?"), "ORDER%201%2F2%3F");
        assert_eq!(url("a-b_c.d~é"), "a-b_c.d~%C3%A9");
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
        let html = json_tree(&value, 1).into_string();
        assert!(html.contains("&quot;&lt;x&gt;&quot;"), "{html}");
        assert!(html.starts_with("<details class=\"json\" open>"), "{html}");
        assert!(html.contains("<details class=\"json\"><summary>"), "{html}");
        assert!(html.contains("n</span>: []"), "{html}");
    }

    #[test]
    fn the_shell_escapes_the_title_and_the_problems() {
        let shell = Shell {
            token: "t\"k".to_owned(),
            problems: std::sync::Arc::from(["<script>".to_owned()]),
        };
        let Html(text) = page("<b>", "/", &shell, &html! {});
        assert!(text.contains("<title>&lt;b&gt; · herald</title>"), "{text}");
        assert!(text.contains("content=\"t&quot;k\""), "{text}");
        assert!(text.contains("<pre>&lt;script&gt;</pre>"), "{text}");
        assert!(
            text.contains("<a href=\"/\" aria-current=\"page\">Events</a>"),
            "{text}"
        );
    }
}
