//! The `metadata.items` convention: how the storefront tells herald which line items an
//! order holds, since Stripe's webhooks carry none.
//!
//! The text is `SKU:quantity` parts separated by commas, e.g. `"SKU-TEE-M:2, SKU-MUG:1"`.
//! The deliver stage parses it on every job with [`parse_items`]; a bad part fails the
//! job permanently, because retrying cannot fix what the storefront wrote. A checkout
//! session without it may carry its line items fetched from Stripe instead
//! ([`from_line_items`]).

/// The largest quantity one part may give; anything bigger is surely a typo.
pub const MAX_QUANTITY: i64 = 1_000_000;

/// The longest SKU accepted, in bytes (all SKU characters are ASCII).
const MAX_SKU_LEN: usize = 64;

/// Why an items text could not be parsed; each variant names the offending part.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ItemsError {
    /// The text holds no items at all.
    #[error("no line items (the text is empty)")]
    Empty,
    /// A part between commas is empty, e.g. `"A:1,,B:2"` or a trailing comma.
    #[error("item {position} is empty (a stray comma?)")]
    EmptyPart {
        /// 1-based position of the part.
        position: usize,
    },
    /// The SKU is empty, too long, or has a character outside `[A-Za-z0-9._-]`.
    #[error("`{part}`: SKU must be 1 to 64 characters of A-Z, a-z, 0-9, `.`, `_` and `-`")]
    InvalidSku {
        /// The whole part, as written.
        part: String,
    },
    /// The quantity is not a whole number from 1 to [`MAX_QUANTITY`].
    #[error("`{part}`: quantity must be a whole number from 1 to 1000000")]
    InvalidQuantity {
        /// The whole part, as written.
        part: String,
    },
}

/// An items text from a checkout session's `line_items` (as Stripe's API lists them,
/// fetched for an instance with `line_items_from_stripe`): each line's price
/// `lookup_key` as its SKU, else its product id; `None` when `object` has none.
pub fn from_line_items(object: &serde_json::Value) -> Option<String> {
    let lines = object.pointer("/line_items/data")?.as_array()?;
    let parts: Vec<String> = lines
        .iter()
        .filter_map(|line| {
            let price = line.get("price")?;
            let sku = price
                .get("lookup_key")
                .and_then(serde_json::Value::as_str)
                .filter(|key| !key.is_empty())
                .or_else(|| {
                    let product = price.get("product")?;
                    product.as_str().or_else(|| product.get("id")?.as_str())
                })?;
            let quantity = line.get("quantity")?.as_i64()?;
            Some(format!("{sku}:{quantity}"))
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// Parses an items text into `(sku, quantity)` pairs, in order of first appearance.
///
/// Whitespace around parts, SKUs and quantities is ignored; a bare `SKU` means a
/// quantity of 1; the same SKU given twice adds up.
///
/// # Errors
/// The first bad part, see [`ItemsError`].
pub fn parse_items(text: &str) -> Result<Vec<(String, i64)>, ItemsError> {
    if text.trim().is_empty() {
        return Err(ItemsError::Empty);
    }
    let mut items: Vec<(String, i64)> = Vec::new();
    for (index, raw) in text.split(',').enumerate() {
        let part = raw.trim();
        if part.is_empty() {
            return Err(ItemsError::EmptyPart {
                position: index + 1,
            });
        }
        let (sku, quantity) = parse_part(part)?;
        match items.iter_mut().find(|(known, _)| *known == sku) {
            // Each quantity is at most 1e6, so sums stay far from i64's limit.
            Some((_, total)) => *total += quantity,
            None => items.push((sku.to_owned(), quantity)),
        }
    }
    Ok(items)
}

/// One trimmed, non-empty `SKU[:quantity]` part.
fn parse_part(part: &str) -> Result<(&str, i64), ItemsError> {
    let (sku, quantity) = match part.split_once(':') {
        Some((sku, quantity)) => (sku.trim(), Some(quantity.trim())),
        None => (part, None),
    };
    let sku_ok = !sku.is_empty()
        && sku.len() <= MAX_SKU_LEN
        && sku
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !sku_ok {
        return Err(ItemsError::InvalidSku {
            part: part.to_owned(),
        });
    }
    let quantity = match quantity {
        None => 1,
        // Digits only: `str::parse` would also accept a leading `+`.
        Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => digits
            .parse::<i64>()
            .ok()
            .filter(|q| (1..=MAX_QUANTITY).contains(q))
            .ok_or_else(|| ItemsError::InvalidQuantity {
                part: part.to_owned(),
            })?,
        Some(_) => {
            return Err(ItemsError::InvalidQuantity {
                part: part.to_owned(),
            })
        }
    };
    Ok((sku, quantity))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn line_items_read_the_price_lookup_key_else_the_product() {
        let session = json!({"line_items": {"object": "list", "data": [
            {"quantity": 2, "price": {"lookup_key": "SKU-TEE-M", "product": "prod_1"}},
            {"quantity": 1, "price": {"lookup_key": null, "product": {"id": "prod_MUG"}}},
            {"quantity": 3, "price": {"lookup_key": "", "product": "prod_CAP"}},
            {"quantity": 1},
        ]}});
        let text = from_line_items(&session).expect("lines");
        assert_eq!(text, "SKU-TEE-M:2, prod_MUG:1, prod_CAP:3");
        assert!(parse_items(&text).is_ok());
        assert_eq!(from_line_items(&json!({"id": "cs_1"})), None);
        assert_eq!(from_line_items(&json!({"line_items": {"data": []}})), None);
    }

    use super::*;

    fn items(pairs: &[(&str, i64)]) -> Vec<(String, i64)> {
        pairs.iter().map(|(s, q)| ((*s).to_owned(), *q)).collect()
    }

    #[test]
    fn parses_the_convention() {
        assert_eq!(
            parse_items("SKU-TEE-M:2, SKU-MUG:1"),
            Ok(items(&[("SKU-TEE-M", 2), ("SKU-MUG", 1)]))
        );
    }

    #[test]
    fn ignores_whitespace_around_parts() {
        assert_eq!(
            parse_items("  a.b_c-1 : 3 ,\tX:1000000  "),
            Ok(items(&[("a.b_c-1", 3), ("X", MAX_QUANTITY)]))
        );
    }

    #[test]
    fn a_bare_sku_means_one() {
        assert_eq!(parse_items("MUG"), Ok(items(&[("MUG", 1)])));
        assert_eq!(
            parse_items("MUG, TEE:2"),
            Ok(items(&[("MUG", 1), ("TEE", 2)]))
        );
    }

    #[test]
    fn the_same_sku_adds_up_in_first_seen_order() {
        assert_eq!(parse_items("A:2, B, A:3"), Ok(items(&[("A", 5), ("B", 1)])));
    }

    #[test]
    fn a_64_character_sku_is_fine() {
        let sku = "S".repeat(64);
        assert_eq!(parse_items(&sku), Ok(vec![(sku.clone(), 1)]));
    }

    #[test]
    fn empty_text_is_an_error() {
        assert_eq!(parse_items(""), Err(ItemsError::Empty));
        assert_eq!(parse_items("   "), Err(ItemsError::Empty));
    }

    #[test]
    fn empty_parts_are_errors() {
        assert_eq!(
            parse_items("A:1,,B:2"),
            Err(ItemsError::EmptyPart { position: 2 })
        );
        assert_eq!(
            parse_items("A:1,"),
            Err(ItemsError::EmptyPart { position: 2 })
        );
    }

    #[test]
    fn bad_skus_are_named() {
        for text in ["TEE M:1", ":2", "T\u{e9}E:1", "A/B", &"S".repeat(65)] {
            let err = parse_items(&format!("OK:1, {text}")).unwrap_err();
            assert!(
                matches!(err, ItemsError::InvalidSku { .. }),
                "{text}: {err}"
            );
            assert!(err.to_string().contains(text.trim()), "{err}");
        }
    }

    #[test]
    fn bad_quantities_are_named() {
        for text in [
            "A:0",
            "A:-1",
            "A:+1",
            "A:1.5",
            "A:",
            "A:two",
            "A:1000001",
            "A:1:2",
        ] {
            let err = parse_items(text).unwrap_err();
            assert_eq!(
                err,
                ItemsError::InvalidQuantity {
                    part: text.to_owned()
                }
            );
            assert!(err.to_string().contains(text), "{err}");
        }
    }

    #[test]
    fn huge_quantities_do_not_overflow() {
        let err = parse_items("A:99999999999999999999999").unwrap_err();
        assert!(matches!(err, ItemsError::InvalidQuantity { .. }));
    }
}
