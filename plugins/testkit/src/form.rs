//! `application/x-www-form-urlencoded` bodies, decoded the way a server reads them, so a
//! test compares a request's fields with the provider's documented names.

use std::collections::HashMap;

/// The fields of a form body; a repeated name keeps its last value.
///
/// # Panics
/// When the body is not a form (not UTF-8, a pair without `=`, a bad `%` escape): the
/// code under test sent something no form server would read.
pub fn form_fields(body: &[u8]) -> HashMap<String, String> {
    let text = std::str::from_utf8(body).expect("a form body is UTF-8");
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').expect("key=value");
            (decode(key), decode(value))
        })
        .collect()
}

/// One `+`/`%XX`-encoded component.
fn decode(component: &str) -> String {
    let bytes = component.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = component.get(i + 1..i + 3).expect("two hex digits after %");
                out.push(u8::from_str_radix(hex, 16).expect("hex"));
                i += 2;
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8(out).expect("a form value is UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_decoded() {
        let fields = form_fields(b"To=%2B14155550199&Body=Hi+there%21&grant_type=urn%3Aietf");
        assert_eq!(fields["To"], "+14155550199");
        assert_eq!(fields["Body"], "Hi there!");
        assert_eq!(fields["grant_type"], "urn:ietf");
    }
}
