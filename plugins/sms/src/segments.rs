//! How many SMS segments a text takes, and in which encoding: GSM 03.38 (7-bit) when
//! every character is in its alphabet, else UCS-2, which fits far fewer per segment.
//! A text over one segment is sent concatenated, each part losing room to its header.

/// The encoding a text is sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// The GSM 7-bit default alphabet (with its extension table).
    Gsm7,
    /// UCS-2 (UTF-16): any character, 70 per single segment.
    Ucs2,
}

impl Encoding {
    /// The name shown by `herald route`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gsm7 => "GSM-7",
            Self::Ucs2 => "UCS-2",
        }
    }
}

/// The GSM 03.38 basic alphabet, in one string (one septet each).
const BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// The extension table: each costs an escape septet too.
const EXTENDED: &str = "\u{c}^{}\\[~]|€";

/// The encoding of `text`, and the units it counts in (septets for GSM-7, UTF-16
/// code units for UCS-2).
fn measure(text: &str) -> (Encoding, usize) {
    let mut septets = 0;
    for c in text.chars() {
        if BASIC.contains(c) {
            septets += 1;
        } else if EXTENDED.contains(c) {
            septets += 2;
        } else {
            return (Encoding::Ucs2, text.encode_utf16().count());
        }
    }
    (Encoding::Gsm7, septets)
}

/// The encoding `text` is sent in and how many segments it takes.
pub fn segments(text: &str) -> (Encoding, usize) {
    let (encoding, units) = measure(text);
    let (single, part) = match encoding {
        Encoding::Gsm7 => (160, 153),
        Encoding::Ucs2 => (70, 67),
    };
    let count = if units <= single {
        1
    } else {
        units.div_ceil(part)
    };
    (encoding, count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gsm_text_fits_160_then_153_per_part() {
        assert_eq!(segments(&"a".repeat(160)), (Encoding::Gsm7, 1));
        assert_eq!(segments(&"a".repeat(161)), (Encoding::Gsm7, 2));
        assert_eq!(segments(&"a".repeat(306)), (Encoding::Gsm7, 2));
        assert_eq!(segments(&"a".repeat(307)), (Encoding::Gsm7, 3));
    }

    #[test]
    fn extension_characters_count_twice() {
        assert_eq!(segments(&"€".repeat(80)), (Encoding::Gsm7, 1));
        assert_eq!(segments(&"€".repeat(81)), (Encoding::Gsm7, 2));
    }

    #[test]
    fn one_character_outside_the_alphabet_makes_it_ucs2() {
        let text = format!("{}✓", "a".repeat(69));
        assert_eq!(segments(&text), (Encoding::Ucs2, 1));
        assert_eq!(segments(&format!("{text}a")), (Encoding::Ucs2, 2));
        // An emoji is two UTF-16 units.
        assert_eq!(segments(&"😀".repeat(35)), (Encoding::Ucs2, 1));
        assert_eq!(segments(&"😀".repeat(36)), (Encoding::Ucs2, 2));
    }
}
