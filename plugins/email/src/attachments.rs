//! Files attached to a mail, taken from the event: an action's `attachments` names a
//! dotted path to an array of `{filename, content_type, content}` objects, which an
//! event of herald's own carries (a digest's CSV of the period's movements).

use lettre::message::header::ContentType;
use lettre::message::{Attachment, SinglePart};
use serde_json::Value;

/// The largest attachment herald sends: mail servers commonly refuse far more.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;

/// Whether `path` reads as a dotted path (`data.object.attachments`).
pub(crate) fn is_path(path: &str) -> bool {
    !path.is_empty()
        && path.split('.').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        })
}

/// The attachments at `path` in `context`, as MIME parts.
///
/// # Errors
/// When `path` holds no array, or an entry lacks a filename or text content, or is
/// larger than [`MAX_BYTES`]: the message says which.
pub(crate) fn parts(context: &Value, path: &str) -> Result<Vec<SinglePart>, String> {
    let pointer = format!("/{}", path.replace('.', "/"));
    let Some(entries) = context.pointer(&pointer).and_then(Value::as_array) else {
        return Err(format!("`attachments`: the event has no array at `{path}`"));
    };
    entries
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let text = |key: &str| entry.get(key).and_then(Value::as_str);
            let (Some(filename), Some(content)) = (text("filename"), text("content")) else {
                return Err(format!(
                    "`attachments`: entry {i} at `{path}` needs a `filename` and a text `content`"
                ));
            };
            if content.len() > MAX_BYTES {
                return Err(format!(
                    "`attachments`: {filename} is {} bytes, more than the {MAX_BYTES} herald sends",
                    content.len()
                ));
            }
            let kind = text("content_type").unwrap_or("application/octet-stream");
            let content_type = ContentType::parse(kind).map_err(|err| {
                format!("`attachments`: {filename}: content type `{kind}`: {err}")
            })?;
            Ok(Attachment::new(filename.to_owned()).body(content.to_owned(), content_type))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_array_of_files_becomes_parts_and_anything_else_is_named() {
        let context = json!({"data": {"object": {"attachments": [
            {"filename": "day.csv", "content_type": "text/csv", "content": "a,b\n1,2\n"}
        ]}}});
        let files = parts(&context, "data.object.attachments").expect("parts");
        assert_eq!(files.len(), 1);
        let formatted = String::from_utf8(files[0].formatted()).expect("utf-8");
        assert!(formatted.contains("filename=\"day.csv\""), "{formatted}");
        assert!(formatted.contains("text/csv"), "{formatted}");
        let missing = parts(&context, "data.object.files").expect_err("no array");
        assert!(
            missing.contains("no array at `data.object.files`"),
            "{missing}"
        );
        let bad = json!({"a": [{"filename": "x.csv"}]});
        assert!(parts(&bad, "a")
            .expect_err("no content")
            .contains("entry 0"));
        assert!(is_path("data.object.attachments"));
        assert!(!is_path("data..x") && !is_path("{{x}}"));
    }
}
