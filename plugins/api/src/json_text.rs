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
mod tests;
