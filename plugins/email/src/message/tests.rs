use super::*;

#[test]
fn token_is_the_first_32_hex_chars_of_sha256() {
    // sha256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
    assert_eq!(message_token("abc"), "ba7816bf8f01cfea414140de5dae2223");
    assert_eq!(message_token("stripe:evt_1:paid:0").len(), 32);
    assert_ne!(
        message_token("stripe:evt_1:paid:0"),
        message_token("stripe:evt_1:paid:1")
    );
}

#[test]
fn subject_becomes_one_line() {
    assert_eq!(one_line("  Paid: order 42\n"), "Paid: order 42");
    assert_eq!(one_line("Paid\r\n  order\n\n42 "), "Paid order 42");
    assert_eq!(one_line(""), "");
}

#[test]
fn idempotency_header_is_written_verbatim() {
    let message = Message::builder()
        .from("shop@example.com".parse().expect("mailbox"))
        .to("a@example.com".parse().expect("mailbox"))
        .header(IdempotencyKey("stripe:evt_1:paid:0".to_owned()))
        .body(String::from("hi"))
        .expect("message");
    let formatted = String::from_utf8(message.formatted()).expect("utf-8");
    assert!(
        formatted.contains("X-Herald-Idempotency-Key: stripe:evt_1:paid:0\r\n"),
        "{formatted}"
    );
}

#[test]
fn mailbox_parsing_rejects_lists_and_trailing_text() {
    // Guards the recipient check: a template that renders two addresses must fail,
    // not silently send to the first one.
    for value in [
        "a@example.com, b@example.com",
        "a@example.com b",
        "a@example.com\r\nBcc: x@y.z",
    ] {
        assert!(value.parse::<Mailbox>().is_err(), "{value:?} parsed");
    }
}
