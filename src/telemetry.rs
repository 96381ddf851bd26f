//! Logging set-up, once, at the binary's edge.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};

use tracing_subscriber::field::MakeExt;
use tracing_subscriber::fmt::format::{debug_fn, Writer};
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One line per event, for people.
    Text,
    /// One JSON object per line, the event's fields (`event_id`, `job_id`,
    /// `plugin`, …) at its top level, for a log pipeline.
    Json,
}

/// Installs the text subscriber; see [`init_as`].
pub fn init() {
    init_as(LogFormat::Text);
}

/// Installs a `tracing` subscriber writing to stderr in `format`, filtered by
/// `RUST_LOG` (default: `info`, with sqlx's per-query logs quietened). Colours
/// only on a terminal: journald, docker and log files would show the escape codes
/// as text.
pub fn init_as(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second call (tests) finds a subscriber installed; that is fine.
    let _ = match format {
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .fmt_fields(debug_fn(escaped_field).delimited(" "))
            .try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_writer(|| JsonLines(std::io::stderr()))
            .try_init(),
    };
}

/// Writes one field of a text log line with every control character escaped, so a
/// value from the network (an event id with a newline, a terminal escape) cannot
/// start a forged line or drive the reader's terminal. The message has no `name=`.
fn escaped_field(
    writer: &mut Writer<'_>,
    field: &tracing::field::Field,
    value: &dyn std::fmt::Debug,
) -> std::fmt::Result {
    let mut text = String::new();
    write!(text, "{value:?}")?;
    if field.name() != "message" {
        write!(writer, "{}=", field.name())?;
    }
    for c in text.chars() {
        push_escaped(writer, c)?;
    }
    Ok(())
}

/// `c` as is, or as `\n`, `\r`, `\t`, `\u{…}` when it is a control character.
fn push_escaped(out: &mut impl std::fmt::Write, c: char) -> std::fmt::Result {
    match c {
        '\n' => out.write_str("\\n"),
        '\r' => out.write_str("\\r"),
        '\t' => out.write_str("\\t"),
        c if c.is_control() => write!(out, "\\u{{{:x}}}", u32::from(c)),
        c => out.write_char(c),
    }
}

/// stderr for JSON logs. serde_json escapes the C0 controls in every string already;
/// this escapes what JSON allows raw, DEL and the C1 controls (U+0080–U+009F, among
/// them a one-character CSI), as `\u00XX`, which is still the same JSON string.
struct JsonLines<W>(W);

impl<W: Write> Write for JsonLines<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match std::str::from_utf8(buf) {
            Ok(text)
                if text
                    .chars()
                    .any(|c| c.is_control() && !c.is_ascii_whitespace()) =>
            {
                let mut escaped = String::with_capacity(text.len() + 16);
                for c in text.chars() {
                    if c.is_control() && !c.is_ascii_whitespace() {
                        let _ = write!(escaped, "\\u{:04x}", u32::from(c));
                    } else {
                        escaped.push(c);
                    }
                }
                self.0.write_all(escaped.as_bytes())?;
            }
            _ => self.0.write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        let mut out = String::new();
        for c in "évt_1\nFORGED \u{1b}[31m\u{9b}2J\t\r\u{7f}".chars() {
            push_escaped(&mut out, c).unwrap();
        }
        assert_eq!(out, "évt_1\\nFORGED \\u{1b}[31m\\u{9b}2J\\t\\r\\u{7f}");
    }

    #[test]
    fn json_lines_escape_what_json_leaves_raw_and_stay_json() {
        let mut out = JsonLines(Vec::new());
        let line = "{\"event_id\":\"a\u{9b}b\u{7f}\"}\n";
        assert_eq!(out.write(line.as_bytes()).unwrap(), line.len());
        let text = String::from_utf8(out.0).unwrap();
        assert_eq!(text, "{\"event_id\":\"a\\u009bb\\u007f\"}\n");
        let parsed: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
        assert_eq!(parsed["event_id"], "a\u{9b}b\u{7f}");
    }
}
