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
        r"{}",
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
        serde_json::from_str::<Value>(member(r#"{"a":[1,2]}"#, &["a"]).expect("a")).expect("json"),
        json!([1, 2])
    );
}
