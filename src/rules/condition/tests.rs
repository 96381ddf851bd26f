use super::*;
use serde_json::json;

fn stripe_event() -> Value {
    json!({
        "type": "payment_intent.succeeded",
        "amount": 4998,
        "currency": "usd",
        "customer": {"email": "jenny@example.com", "name": null},
        "data": {"object": {
            "amount": 4998,
            "metadata": {"order_id": "ORDER12345"},
            "charges": [{"id": "ch_1"}]
        }}
    })
}

fn holds(source: &str, context: &Value) -> bool {
    Condition::parse(source)
        .unwrap_or_else(|err| panic!("{source:?} failed to parse: {err}"))
        .evaluate(context)
}

fn assert_cases(context: &Value, cases: &[(&str, bool)]) {
    for &(source, expected) in cases {
        assert_eq!(holds(source, context), expected, "{source}");
    }
}

fn error(source: &str) -> ConditionError {
    match Condition::parse(source) {
        Ok(condition) => panic!("{source:?} parsed as {condition:?}"),
        Err(err) => err,
    }
}

fn assert_error(source: &str, column: usize, fragment: &str) {
    let err = error(source);
    assert_eq!(err.column, column, "{source}: {err}");
    assert!(err.message.contains(fragment), "{source}: {err}");
}

#[test]
fn the_documented_example_holds_for_a_stripe_event() {
    assert!(holds(
        "data.object.amount >= 100 and customer.email exists",
        &stripe_event()
    ));
}

#[test]
fn exists_requires_a_present_non_null_value() {
    assert_cases(
        &stripe_event(),
        &[
            ("customer.email exists", true),
            ("customer exists", true),
            ("customer.name exists", false),
            ("customer.phone exists", false),
            ("amount.cents exists", false),
        ],
    );
}

#[test]
fn equality_compares_json_values_and_numbers_numerically() {
    assert_cases(
        &stripe_event(),
        &[
            ("amount == 4998", true),
            ("amount == 4998.0", true),
            ("amount != 4998", false),
            ("amount == 4999", false),
            ("amount == \"4998\"", false),
            ("currency == \"usd\"", true),
            ("currency == 'usd'", true),
            ("currency != \"eur\"", true),
            ("type == 'payment_intent.succeeded'", true),
            ("customer.name == null", true),
            ("customer.email != null", true),
            ("data.object.metadata.order_id == \"ORDER12345\"", true),
        ],
    );
}

#[test]
fn missing_paths_are_unequal_to_everything() {
    assert_cases(
        &stripe_event(),
        &[
            ("customer.phone == null", false),
            ("customer.phone == \"x\"", false),
            ("customer.phone != \"x\"", true),
            ("customer.phone != null", true),
        ],
    );
}

#[test]
fn ordering_needs_two_numbers_or_two_strings() {
    assert_cases(
        &stripe_event(),
        &[
            ("amount > 4997", true),
            ("amount >= 4998", true),
            ("amount < 4998.5", true),
            ("amount <= 4997", false),
            ("currency < \"usx\"", true),
            ("currency > \"usd\"", false),
            ("currency > 5", false),
            ("amount > \"1\"", false),
            ("customer.name < 1", false),
            ("customer.phone < 1", false),
            ("customer > 1", false),
        ],
    );
}

#[test]
fn literals_cover_negatives_decimals_booleans_and_big_integers() {
    let context = json!({
        "balance": -5, "rate": 0.25, "livemode": false, "id": u64::MAX
    });
    assert_cases(
        &context,
        &[
            ("balance == -5", true),
            ("balance < -4.5", true),
            ("rate >= 0.25", true),
            ("rate < 1", true),
            ("livemode == false", true),
            ("livemode != true", true),
            ("livemode > 0", false),
            ("id == 18446744073709551615", true),
            ("id > 18446744073709551614", true),
            ("balance < 18446744073709551615", true),
        ],
    );
}

#[test]
fn digit_segments_index_arrays_and_object_keys() {
    let context = json!({"list": ["a", "b"], "metadata": {"1": "x"}, "x-request-id": "r"});
    assert_cases(
        &stripe_event(),
        &[
            ("data.object.charges.0.id == \"ch_1\"", true),
            ("data.object.charges.1 exists", false),
            ("data.object.charges.first exists", false),
        ],
    );
    assert_cases(
        &context,
        &[
            ("list.1 == 'b'", true),
            ("list.01 == 'b'", true),
            ("metadata.1 == 'x'", true),
            ("x-request-id == 'r'", true),
        ],
    );
}

#[test]
fn and_binds_tighter_than_or() {
    let context = stripe_event();
    // (true or false) and false would be false; true or (false and false) is true.
    assert!(holds(
        "currency == 'usd' or amount < 0 and amount > 10000",
        &context
    ));
    assert_eq!(
        Condition::parse("a exists or b exists and c exists"),
        Condition::parse("a exists or (b exists and c exists)")
    );
}

#[test]
fn not_negates_the_following_condition() {
    assert_cases(
        &stripe_event(),
        &[
            ("not customer.name exists", true),
            ("not not amount exists", true),
            ("not amount > 1 and currency == 'usd'", false),
            ("not (amount > 1 and currency == 'eur')", true),
            ("not(currency == 'eur')", true),
        ],
    );
}

#[test]
fn parentheses_override_precedence() {
    assert_cases(
        &stripe_event(),
        &[
            (
                "(currency == 'eur' or currency == 'usd') and amount > 1000",
                true,
            ),
            (
                "currency == 'eur' or (currency == 'usd' and amount > 5000)",
                false,
            ),
            ("(((amount exists)))", true),
            ("(amount>=100)and(currency=='usd')", true),
        ],
    );
}

#[test]
fn strings_support_quote_and_backslash_escapes() {
    let context = json!({"quote": "say \"hi\"", "dir": "C:\\tmp", "apos": "it's"});
    assert_cases(
        &context,
        &[
            (r#"quote == "say \"hi\"""#, true),
            (r"dir == 'C:\\tmp'", true),
            (r"apos == 'it\'s'", true),
            (r#"apos == "it's""#, true),
            (r#"quote == 'say "hi"'"#, true),
        ],
    );
}

#[test]
fn empty_expression_is_an_error() {
    assert_error("", 1, "empty expression");
    assert_error("   ", 1, "empty expression");
}

#[test]
fn unknown_operators_suggest_the_right_one() {
    assert_error(
        "amount = 100",
        8,
        "unknown operator `=`; did you mean `==`?",
    );
    assert_error("amount => 100", 8, "did you mean `>=`?");
    assert_error("amount <> 100", 8, "did you mean `!=`?");
    assert_error("amount <> 100", 8, "valid operators are ==, !=");
    assert_error("amount ! exists", 8, "use `not`");
}

#[test]
fn a_missing_operator_is_an_error() {
    assert_error("amount", 7, "expected an operator");
    assert_error("amount 100", 8, "or `exists` after `amount`, found `100`");
}

#[test]
fn a_missing_literal_is_an_error() {
    assert_error("amount >=", 10, "missing value after `>=`");
    assert_error("(amount >= )", 12, "found `)`");
    assert_error("currency == usd", 13, "quote strings, e.g. \"usd\"");
    assert_error("amount == 1.", 11, "found `1.`");
}

#[test]
fn unterminated_strings_point_at_the_opening_quote() {
    assert_error("currency == 'usd", 13, "unterminated string");
    assert_error(r#"currency == "usd\""#, 13, "unterminated string");
    assert_error(r#"currency == "usd\"#, 13, "unterminated string");
}

#[test]
fn unknown_escapes_point_at_the_backslash() {
    assert_error(r#"a == "x\n""#, 8, "unknown escape `\\n`");
}

#[test]
fn unbalanced_parentheses_are_errors() {
    assert_error(
        "(amount >= 1",
        13,
        "expected `)` to close the `(` at column 1",
    );
    assert_error("amount >= 1)", 12, "unmatched `)`");
    assert_error("()", 2, "expected a field path");
}

#[test]
fn trailing_input_is_an_error() {
    assert_error(
        "amount >= 100 amount",
        15,
        "unexpected `amount` after a complete",
    );
    assert_error(
        "amount exists 'x'",
        15,
        "join conditions with `and` or `or`",
    );
}

#[test]
fn keywords_cannot_stand_where_a_path_is_expected() {
    assert_error("and >= 1", 1, "found the keyword `and`");
    assert_error("amount >= 1 and or exists", 17, "keyword `or`");
    assert_error("null == null", 1, "keyword `null`");
    assert_error("\"amount\" > 1", 1, "field paths are written unquoted");
}

#[test]
fn malformed_paths_and_characters_are_errors() {
    assert_error("data..amount exists", 1, "empty segment");
    assert_error(
        "amount >= 1 && x exists",
        13,
        "combine conditions with `and`",
    );
    assert_error("amount >= 1 ; x", 13, "unexpected character ';'");
    assert_error("a == 1e999", 6, "expected a number");
}

#[test]
fn huge_numbers_are_errors_not_infinities() {
    let source = format!("a == {}", "9".repeat(400));
    assert_error(&source, 6, "out of range");
}

#[test]
fn the_earliest_error_is_reported_first() {
    assert_error("amount 5 = 3", 8, "expected an operator");
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let parens = format!("{}a exists{}", "(".repeat(100_000), ")".repeat(100_000));
    assert_error(&parens, MAX_DEPTH + 1, "nested");
    let nots = format!("{}a exists", "not ".repeat(1000));
    assert_error(&nots, MAX_DEPTH * 4 + 1, "nested");
    let ok = format!("{}a exists{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    assert!(Condition::parse(&ok).is_ok());
}

#[test]
fn long_flat_chains_evaluate_without_recursion() {
    let source = vec!["amount exists"; 100_000].join(" and ");
    assert!(holds(&source, &stripe_event()));
}

#[test]
fn columns_count_characters_not_bytes() {
    assert_error("name == 'é' x", 13, "unexpected `x`");
    assert_error("é exists", 1, "unexpected character 'é'");
}

#[test]
fn arbitrary_input_never_panics() {
    let alphabet: Vec<char> = "ab.0-_ ()\"'\\=!<>&é\tnotandorexists".chars().collect();
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..20_000 {
        let len = (seed % 24) as usize;
        let source: String = (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                alphabet[usize::try_from(seed % alphabet.len() as u64).expect("below the length")]
            })
            .collect();
        if let Ok(condition) = Condition::parse(&source) {
            condition.evaluate(&stripe_event());
        }
    }
}

#[test]
fn error_display_includes_the_column() {
    assert_eq!(
        error("amount = 1").to_string(),
        "at column 8: unknown operator `=`; did you mean `==`? valid operators are \
         ==, !=, >, >=, <, <="
    );
}

#[test]
fn in_matches_any_listed_value_and_contains_looks_inside() {
    let context = json!({
        "type": "charge.refunded",
        "amount": 4998,
        "customer": {"email": "jenny@example.com"},
        "tags": ["gift", 7],
    });
    assert_cases(
        &context,
        &[
            ("type in ['charge.refunded', 'refund.created']", true),
            ("type in ['refund.created',]", false),
            ("amount in [100, 4998.0]", true),
            ("missing in ['x']", false),
            ("not missing in ['x']", true),
            ("customer.email contains '@example.com'", true),
            ("customer.email contains 'EXAMPLE'", false),
            ("tags contains 'gift'", true),
            ("tags contains 7", true),
            ("tags contains 'gif'", false),
            ("amount contains 4", false),
            ("missing contains 'x'", false),
            (
                "type in ['charge.refunded'] and customer.email contains '@'",
                true,
            ),
        ],
    );
}

#[test]
fn in_and_contains_errors_point_at_the_problem() {
    assert_error("type in 'x'", 9, "expected `[` after `in`");
    assert_error("type in []", 6, "at least one value");
    assert_error("type in ['a' 'b']", 14, "expected `,` or `]`");
    assert_error("type in ['a'", 13, "found end of expression");
    assert_error("type contains", 14, "missing value after `contains`");
    assert_error("in == 1", 1, "keyword `in`");
    assert_error("type ~ 'x'", 6, "unexpected character");
}

#[test]
fn explain_shows_in_and_contains_with_what_they_read() {
    let condition = Condition::parse("type in ['a', 'b'] or customer.email contains '@'").unwrap();
    let context = json!({"type": "c", "customer": {"email": "x@y"}});
    let (matched, steps) = condition.explain(&context);
    assert!(matched);
    let lines: Vec<String> = steps.iter().map(Comparison::line).collect();
    assert_eq!(
        lines,
        [
            "type in [\"a\", \"b\"] → false (\"c\")",
            "customer.email contains \"@\" → true (\"x@y\")",
        ]
    );
}

/// A JSON context whose `order.…` is not known yet, as when a job is planned.
struct Planning(Value);

impl Scope for Planning {
    fn lookup(&self, path: &[String]) -> Option<&Value> {
        lookup(&self.0, path)
    }

    fn defers(&self, path: &[String]) -> bool {
        path.first().is_some_and(|first| first == "order")
    }
}

#[test]
fn order_comparisons_are_unknown_until_delivery() {
    let planning = Planning(stripe_event());
    let outcome = |source: &str| {
        Condition::parse(source)
            .unwrap_or_else(|err| panic!("{source}: {err}"))
            .outcome(&planning)
    };
    assert_eq!(outcome("order.changed"), None);
    assert_eq!(outcome("customer.email exists and order.changed"), None);
    assert_eq!(
        outcome("amount < 10 and order.status == 'paid'"),
        Some(false)
    );
    assert_eq!(outcome("amount > 10 or order.status == 'paid'"), Some(true));
    assert_eq!(outcome("not order.changed"), None);
    assert_eq!(outcome("amount < 10 or not order.changed"), None);
    // Planned unless already false: the rest is decided at delivery.
    let condition = Condition::parse("customer.email exists and order.changed").unwrap();
    assert!(condition.evaluate(&planning));
}

#[test]
fn order_changed_reads_as_a_flag() {
    let delivered = json!({"order": {"changed": true, "status": "payment_failed"}});
    assert_cases(
        &delivered,
        &[
            ("order.changed", true),
            ("not order.changed", false),
            ("order.changed and order.status == 'payment_failed'", true),
            ("(order.changed) or amount > 1", true),
            ("order.changed == false", false),
            ("order.status in ['paid', 'payment_failed']", true),
        ],
    );
    assert!(!holds(
        "order.changed",
        &json!({"order": {"changed": "yes"}})
    ));
    assert!(!holds("order.changed", &json!({})));
    // Only the order's own flags may stand alone.
    assert_error("amount and order.changed", 8, "expected an operator");
    assert_error(
        "order.changed order.status",
        15,
        "join conditions with `and` or `or`",
    );
}

#[test]
fn order_paths_are_listed_and_unknown_ones_named() {
    let condition =
        Condition::parse("order.changed and order.statsu == 'paid' or order.id exists").unwrap();
    assert!(condition.reads_order());
    assert_eq!(
        condition.unknown_order_paths(),
        ["order.statsu", "order.id"]
    );
    let plain = Condition::parse("amount > 0 and customer.email exists").unwrap();
    assert!(!plain.reads_order());
    assert!(plain.unknown_order_paths().is_empty());
    // An event's order id may be found through the links only at delivery.
    let linked = Condition::parse("order_id exists and customer.email exists").unwrap();
    assert!(linked.reads_order());
    assert!(linked.unknown_order_paths().is_empty());
}

#[test]
fn route_shows_order_comparisons_as_evaluated_at_delivery() {
    let condition = Condition::parse("customer.email exists and order.status == 'paid'").unwrap();
    let (matched, steps) = condition.explain(&Planning(stripe_event()));
    assert!(matched);
    let lines: Vec<String> = steps.iter().map(Comparison::line).collect();
    assert_eq!(
        lines,
        [
            "customer.email exists → true (\"jenny@example.com\")",
            "order.status == \"paid\" → evaluated at delivery",
        ]
    );
    assert!(steps[1].deferred && !steps[0].deferred);
}

#[test]
fn two_fields_compare_with_each_other_for_upgrades_and_downgrades() {
    let upgrade = "data.object.items.data.0.price.unit_amount > \
                   data.previous_attributes.items.data.0.price.unit_amount";
    let condition = Condition::parse(upgrade).unwrap();
    let change = |now: i64, before: i64| {
        json!({"data": {
            "object": {"items": {"data": [{"price": {"unit_amount": now}}]}},
            "previous_attributes": {"items": {"data": [{"price": {"unit_amount": before}}]}},
        }})
    };
    assert!(condition.evaluate(&change(3000, 1500)));
    assert!(!condition.evaluate(&change(1500, 3000)));
    assert!(!condition.evaluate(&change(1500, 1500)));
    // An update that did not touch the items has no previous price: not an upgrade.
    let unrelated =
        json!({"data": {"object": {"items": {"data": [{"price": {"unit_amount": 1}}]}}}});
    assert!(!condition.evaluate(&unrelated));
    let same =
        Condition::parse("data.object.currency != data.previous_attributes.currency").unwrap();
    assert!(same.evaluate(&unrelated), "a missing field is unequal");
    assert!(condition
        .paths()
        .contains(&"data.previous_attributes.items.data.0.price.unit_amount".to_owned()));
    let (_, steps) = condition.explain(&change(3000, 1500));
    assert_eq!(
        steps[0].line(),
        "data.object.items.data.0.price.unit_amount > \
         data.previous_attributes.items.data.0.price.unit_amount → true (3000)"
    );
}

#[test]
fn a_bare_word_is_still_refused_naming_both_ways_out() {
    let err = Condition::parse("status == paid").unwrap_err().to_string();
    assert!(err.contains("quote strings, e.g. \"paid\""), "{err}");
    assert!(err.contains("dotted path"), "{err}");
    // A number with a dot is a number, not a field.
    assert!(Condition::parse("amount > 1.5")
        .unwrap()
        .evaluate(&json!({"amount": 2})));
}
