//! Reading members out of JSON text without parsing it into a tree.
//!
//! A stored payload was checked to be JSON when it was received, so delivering it
//! needs only to find the few members a plugin copies out: a scan for the ends of
//! strings and brackets, not a parse. Building a `serde_json::Value` of each claimed
//! payload (and freeing it) was a large share of herald's CPU under load.
//!
//! Nothing here checks that the text is JSON. On text that is not, the functions
//! return `None` or a span of it, and never panic.

use std::ops::Range;

/// The text of the value at `path` (member names, outermost first) in `text`.
///
/// Member names are compared as a parser would: escapes decoded, and the last of
/// repeated members wins. `None` when a member is missing or something on the way
/// is not an object. It walks down the path in one pass, skipping what is beside it.
#[must_use]
pub fn member<'t>(text: &'t str, path: &[&str]) -> Option<&'t str> {
    let start = skip_space(text.as_bytes(), 0);
    let (_, found) = value_at(text, start, path)?;
    found.map(|(start, end)| &text[start..end])
}

/// The end of the value that starts at `i`, and the span of the value at `path`
/// inside it.
fn value_at(text: &str, i: usize, path: &[&str]) -> Option<(usize, Option<(usize, usize)>)> {
    let bytes = text.as_bytes();
    let Some((name, rest)) = path.split_first() else {
        let end = skip_value(bytes, i)?;
        return Some((end, Some((i, end))));
    };
    if bytes.get(i) != Some(&b'{') {
        return Some((skip_value(bytes, i)?, None));
    }
    let mut found = None;
    let mut at = skip_space(bytes, i + 1);
    if bytes.get(at) == Some(&b'}') {
        return Some((at + 1, None));
    }
    loop {
        let (name_end, escaped) = string_end(bytes, at)?;
        let wanted = slot_of(&text[at..name_end], escaped, &[name]).is_some();
        at = skip_space(bytes, name_end);
        if bytes.get(at) != Some(&b':') {
            return None;
        }
        let start = skip_space(bytes, at + 1);
        let end = if wanted {
            let (end, inner) = value_at(text, start, rest)?;
            // A repeated member replaces the earlier one, as in a parsed tree.
            found = inner;
            end
        } else {
            skip_value(bytes, start)?
        };
        at = skip_space(bytes, end);
        match bytes.get(at) {
            Some(b',') => at = skip_space(bytes, at + 1),
            Some(b'}') => return Some((at + 1, found)),
            _ => return None,
        }
    }
}

/// Appends the value `text` to `out` without the whitespace between tokens, and,
/// when it is an object, gives the range in `out` of the value of each member in
/// `names` (the last, when one is repeated), found in the same pass. With no
/// `names` it is a plain compacting copy.
pub fn compact_members<const N: usize>(
    text: &str,
    names: [&str; N],
    out: &mut String,
) -> [Option<Range<usize>>; N] {
    let bytes = text.as_bytes();
    let mut found = [(); N].map(|()| None);
    let mut at = skip_space(bytes, 0);
    let object = bytes.get(at) == Some(&b'{');
    let mut depth = 0_usize;
    // In the object, at depth 1: whether the next string is a member name, and
    // which of `names` the member being copied is.
    let mut name_next = false;
    let mut member: Option<usize> = None;
    let mut value_start = 0;
    loop {
        let Some(run) = find(bytes, at, |word| {
            structural(word)
                | zero(word ^ (ONES * u64::from(b':')))
                | zero(word ^ (ONES * u64::from(b',')))
                | below(word, b' ' + 1)
        }) else {
            // The end of the text: a number or a literal, or text that is not JSON.
            out.push_str(&text[at..]);
            return found;
        };
        out.push_str(&text[at..at + run]);
        at += run;
        let byte = bytes[at];
        let members = object && depth == 1;
        match byte {
            b'"' => {
                let end = match string_end(bytes, at) {
                    Some((end, escaped)) => {
                        if members && name_next {
                            member = slot_of(&text[at..end], escaped, &names);
                            name_next = false;
                        }
                        end
                    }
                    None => bytes.len(),
                };
                out.push_str(&text[at..end]);
                at = end;
                if depth == 0 {
                    return found;
                }
                continue;
            }
            b':' if members => value_start = out.len() + 1,
            b',' if members => {
                if let Some(slot) = member.take() {
                    found[slot] = Some(value_start..out.len());
                }
                name_next = true;
            }
            b'{' | b'[' => {
                depth += 1;
                name_next = object && depth == 1;
            }
            b'}' | b']' => {
                if members {
                    if let Some(slot) = member.take() {
                        found[slot] = Some(value_start..out.len());
                    }
                }
                depth = depth.saturating_sub(1);
            }
            b':' | b',' => {}
            _ => {
                at = skip_space(bytes, at);
                continue;
            }
        }
        out.push(char::from(byte));
        at += 1;
        if depth == 0 {
            return found;
        }
    }
}

/// Which of `names` the quoted member name `quoted` spells.
fn slot_of(quoted: &str, escaped: bool, names: &[&str]) -> Option<usize> {
    if escaped {
        // Rare: decoded once, then compared.
        let name = serde_json::from_str::<String>(quoted).ok()?;
        return names.iter().position(|wanted| name == *wanted);
    }
    let name = &quoted[1..quoted.len() - 1];
    names.iter().position(|wanted| name == *wanted)
}

fn is_space_byte(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// The index of the first byte at or after `i` that is not whitespace.
///
/// Whitespace is taken as every byte up to a space: JSON allows no other of them
/// between tokens.
fn skip_space(bytes: &[u8], i: usize) -> usize {
    match bytes.get(i) {
        // Most tokens follow their neighbour directly, or after one space.
        Some(&b) if b > b' ' => i,
        _ => find(bytes, i, |word| {
            // Exact for every byte: no carry crosses from one byte into the next.
            (((word & !HIGHS) + ONES * (0x80 - 0x21)) | word) & HIGHS
        })
        .map_or(bytes.len(), |n| i + n),
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each zero byte of `word` (exact up to the first one, which is
/// all [`find`] needs).
fn zero(word: u64) -> u64 {
    word.wrapping_sub(ONES) & !word & HIGHS
}

/// The high bit of each byte of `word` below `limit` (exact up to the first; bytes
/// of 0x80 and above never count).
fn below(word: u64, limit: u8) -> u64 {
    word.wrapping_sub(ONES * u64::from(limit)) & !word & HIGHS
}

/// The offset from `i` of the first byte that `marks` marks: it is given eight
/// bytes at a time (little-endian) and sets the high bit of the bytes it wants.
///
/// Looking at a word at a time rather than a byte is most of the speed here; most
/// runs are short, and `memchr` costs more to start than it saves on them.
fn find(bytes: &[u8], i: usize, marks: impl Fn(u64) -> u64) -> Option<usize> {
    let rest = bytes.get(i..)?;
    let mut chunks = rest.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let marked = marks(u64::from_le_bytes(word));
        if marked != 0 {
            // Little-endian: the lowest marked byte comes first.
            return Some(offset + (marked.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    let tail = chunks.remainder();
    if tail.is_empty() {
        return None;
    }
    let mut word = [0; 8];
    word[..tail.len()].copy_from_slice(tail);
    let marked = marks(u64::from_le_bytes(word)) & (HIGHS >> (8 * (8 - tail.len())));
    (marked != 0).then(|| offset + (marked.trailing_zeros() / 8) as usize)
}

/// The index just past the string that opens at `i`, and whether it holds an escape.
fn string_end(bytes: &[u8], i: usize) -> Option<(usize, bool)> {
    if bytes.get(i) != Some(&b'"') {
        return None;
    }
    let mut at = i + 1;
    let mut escaped = false;
    loop {
        at += find(bytes, at, |word| {
            zero(word ^ (ONES * u64::from(b'"'))) | zero(word ^ (ONES * u64::from(b'\\')))
        })?;
        match bytes.get(at)? {
            b'"' => return Some((at + 1, escaped)),
            // A backslash and the character it escapes.
            b'\\' => {
                escaped = true;
                at += 2;
            }
            _ => at += 1,
        }
    }
}

/// Marks the quotes and brackets in `word`.
fn structural(word: u64) -> u64 {
    // `[` and `]` are `{` and `}` with bit 5 clear; no other byte becomes one of
    // those when it is set.
    let folded = word | (ONES * 0x20);
    zero(word ^ (ONES * u64::from(b'"')))
        | zero(folded ^ (ONES * u64::from(b'{')))
        | zero(folded ^ (ONES * u64::from(b'}')))
}

/// The index just past the value that starts at `i`.
fn skip_value(bytes: &[u8], i: usize) -> Option<usize> {
    match bytes.get(i)? {
        b'"' => string_end(bytes, i).map(|(end, _)| end),
        b'{' | b'[' => {
            let mut depth = 0_usize;
            let mut at = i;
            loop {
                at += find(bytes, at, structural)?;
                match bytes[at] {
                    b'"' => {
                        at = string_end(bytes, at)?.0;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    _ => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(at + 1);
                        }
                    }
                }
                at += 1;
            }
        }
        _ => {
            // A number, `true`, `false` or `null`: up to the next delimiter.
            let len = bytes[i..]
                .iter()
                .position(|&b| matches!(b, b',' | b'}' | b']') || is_space_byte(b))
                .unwrap_or(bytes.len() - i);
            (len > 0).then_some(i + len)
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    /// Every object path in `value`, as member names.
    fn paths(value: &Value, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        if let Value::Object(map) = value {
            for (name, child) in map {
                prefix.push(name.clone());
                out.push(prefix.clone());
                paths(child, prefix, out);
                prefix.pop();
            }
        }
    }

    fn pointer(path: &[String]) -> String {
        path.iter()
            .map(|name| format!("/{}", name.replace('~', "~0").replace('/', "~1")))
            .collect()
    }

    fn check_every_path(text: &str) {
        let tree: Value = serde_json::from_str(text).expect("json");
        let mut all = Vec::new();
        paths(&tree, &mut Vec::new(), &mut all);
        all.push(vec!["missing".to_owned()]);
        all.push(vec!["data".to_owned(), "missing".to_owned()]);
        for path in all {
            let names: Vec<&str> = path.iter().map(String::as_str).collect();
            let found = member(text, &names)
                .map(|text| serde_json::from_str::<Value>(text).expect("a whole value"));
            assert_eq!(
                found.as_ref(),
                tree.pointer(&pointer(&path)),
                "{path:?} in {text}"
            );
        }
        let mut compact = String::new();
        let [] = compact_members(text, [], &mut compact);
        assert_eq!(
            serde_json::from_str::<Value>(&compact).expect("compact json"),
            tree
        );
        assert!(!compact.contains('\n'), "{compact}");
        // The same copy, with the members' values found on the way.
        if let Value::Object(map) = &tree {
            let names: Vec<&str> = map.keys().map(String::as_str).take(3).collect();
            let names = [0, 1, 2].map(|i| names.get(i).copied().unwrap_or("missing"));
            let mut with_members = String::from("prefix");
            let found = compact_members(text, names, &mut with_members);
            assert_eq!(&with_members["prefix".len()..], compact);
            for (name, range) in names.iter().zip(found) {
                let value = range.map(|range| {
                    serde_json::from_str::<Value>(&with_members[range]).expect("a whole value")
                });
                assert_eq!(value.as_ref(), tree.get(name), "{name} in {text}");
            }
        }
    }

    #[test]
    fn finds_what_the_tree_holds_in_every_stripe_fixture() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/stripe");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).expect("fixtures") {
            let text = std::fs::read_to_string(entry.expect("entry").path()).expect("read");
            check_every_path(&text);
            seen += 1;
        }
        assert!(seen > 10, "the Stripe fixtures are there");
    }

    #[test]
    fn finds_what_the_tree_holds_in_odd_shapes() {
        let odd = [
            r#"{}"#,
            r#"  { "a" : { "b" : [1, {"c": 2}], "d": "x\"}{" } , "e":-1.5e3 }  "#,
            // Escaped names are the names they spell; the last repeated member wins.
            r#"{"\u0069d":"esc","id":"second","q\"uote":{"x\\":true}}"#,
            r#"{"a":{"b":1},"a":{"c":2}}"#,
            r#"{"s":"a\\","t":"\\\"","u":"é ü \ud83d\ude00","n":null,"f":false}"#,
            r#"{"data":[{"object":1}],"list":[[],{}],"empty":""}"#,
        ];
        for text in odd {
            check_every_path(text);
        }
        assert_eq!(member(r#"{"a":{"b":1},"a":2}"#, &["a", "b"]), None);
        assert_eq!(member(r#"{"a":1}"#, &[]), Some(r#"{"a":1}"#));
    }

    /// Fixtures with a few bytes changed: where the result is still JSON, the scan
    /// reads what the tree holds; where it is not, the scan does not panic.
    #[test]
    fn mangled_fixtures_are_read_as_the_tree_reads_them() {
        const BYTES: &[u8] = b"{}[]\",:\\ 0123456789.eE+-tfnulx\n/~";
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/stripe");
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |below: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            usize::try_from(state % u64::try_from(below).expect("fits")).expect("fits")
        };
        let mut still_json = 0;
        for entry in std::fs::read_dir(dir).expect("fixtures") {
            let body = std::fs::read(entry.expect("entry").path()).expect("read");
            for _ in 0..40 {
                let mut mangled = body.clone();
                for _ in 0..1 + next(3) {
                    let at = next(mangled.len());
                    match next(3) {
                        0 => {
                            mangled.remove(at);
                        }
                        1 => mangled.insert(at, BYTES[next(BYTES.len())]),
                        _ => mangled[at] = BYTES[next(BYTES.len())],
                    }
                }
                let Ok(text) = String::from_utf8(mangled) else {
                    continue;
                };
                if serde_json::from_str::<Value>(&text).is_ok() {
                    check_every_path(&text);
                    still_json += 1;
                } else {
                    let _ = member(&text, &["data", "object", "id"]);
                    let _ = compact_members(&text, ["data", "id"], &mut String::new());
                    let [] = compact_members(&text, [], &mut String::new());
                }
            }
        }
        assert!(
            still_json > 100,
            "only {still_json} mangled fixtures were JSON"
        );
    }

    #[test]
    fn text_that_is_not_json_gives_none_or_a_span_and_never_panics() {
        let bad = [
            "",
            "{",
            "}",
            "[",
            "\"",
            "{\"a\"",
            "{\"a\":",
            "{\"a\":1",
            "{\"a\":1,",
            "{\"a\" 1}",
            "{\"a\":\"x\\",
            "{\"a\":]}",
            "{\"a\":[}",
            "nul",
            "{,}",
            "{\"a\":1 2}",
            "{\"é",
        ];
        for text in bad {
            let _ = member(text, &["a"]);
            let _ = member(text, &["a", "b"]);
            let _ = compact_members(text, ["a", "b"], &mut String::new());
        }
        assert_eq!(member("[1]", &["a"]), None);
        assert_eq!(member("{\"a\":1", &["a"]), None);
        let mut out = String::new();
        assert_eq!(
            compact_members(r#"{ "a" : 1, "b": [2, 3] }"#, ["b", "c"], &mut out),
            [Some(11..16), None]
        );
        assert_eq!(out, r#"{"a":1,"b":[2,3]}"#);
        // Not an object: copied, with no members to find.
        let values = [
            (" [ 1, {\"a\": 2} ] ", "[1,{\"a\":2}]"),
            (" \"a b\" ", "\"a b\""),
            (" -1.5 ", "-1.5"),
        ];
        for (value, compact) in values {
            let mut out = String::new();
            assert_eq!(compact_members(value, ["a"], &mut out), [None]);
            assert_eq!(out, compact);
        }
        assert_eq!(
            serde_json::from_str::<Value>(member(r#"{"a":[1,2]}"#, &["a"]).expect("a"))
                .expect("json"),
            json!([1, 2])
        );
    }
}
