//! How deeply a payload nests, checked before it is stored.
//!
//! The receiver's pruned parse skips the members it does not read without
//! recursing, so it takes any depth; the whole tree, built later for templates,
//! `when` conditions and plugins, stops at serde_json's recursion limit, and a
//! payload past it read as `null` there: a job then died with a reason about a
//! missing field that was in fact present. Such a payload is refused on receipt.

/// The deepest nesting of objects and arrays accepted: the most serde_json builds.
pub const MAX_DEPTH: usize = 127;

/// Whether `body`, already known to be JSON, nests objects and arrays deeper than
/// [`MAX_DEPTH`]. One pass over the bytes, stopping as soon as it knows.
pub(super) fn too_deep(body: &[u8]) -> bool {
    let mut depth = 0_usize;
    let mut in_string = false;
    let mut escaped = false;
    for &byte in body {
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(depth: usize, open: &str, close: &str) -> String {
        format!("{}1{}", open.repeat(depth), close.repeat(depth))
    }

    #[test]
    fn the_limit_is_where_serde_json_stops_building_the_tree() {
        for depth in MAX_DEPTH - 2..MAX_DEPTH + 3 {
            for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
                let text = nested(depth, open, close);
                let builds = serde_json::from_str::<serde_json::Value>(&text).is_ok();
                assert_eq!(too_deep(text.as_bytes()), !builds, "{depth} {open}");
            }
        }
    }

    #[test]
    fn brackets_in_strings_do_not_count() {
        let text = format!(
            r#"{{"a": "{}\"{}", "b": [1]}}"#,
            "[".repeat(500),
            "{".repeat(500)
        );
        assert!(!too_deep(text.as_bytes()));
        assert!(too_deep(nested(10_000, "[", "]").as_bytes()));
    }
}
