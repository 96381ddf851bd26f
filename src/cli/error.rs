//! How the binary prints an error: the chain of causes on one line, each cause once.
//!
//! Many error types put their source's text in their own message *and* hand the
//! source on as `source()` (thiserror's `{source}` with a `source` field, `{0}` with
//! `#[from]`), so a plain walk of the chain prints "Address already in use (os error
//! 98): Address already in use (os error 98)". Skipping a cause whose text is already
//! on the line fixes that for every such type, ours and other crates' alike, and
//! keeps the text in the messages `tracing` logs, which show no chain.

/// `err` and its causes as one line, outermost first, a cause already said left out.
pub fn describe(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if text.is_empty() || line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

#[cfg(test)]
mod tests {
    use std::io;

    use anyhow::Context as _;

    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot listen on 127.0.0.1:8787: {source}")]
    struct Bind {
        source: io::Error,
    }

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read the file")]
    struct Read {
        #[source]
        source: io::Error,
    }

    #[test]
    fn a_source_already_in_the_message_is_printed_once() {
        let io = io::Error::from(io::ErrorKind::AddrInUse);
        let text = io.to_string();
        let err = Err::<(), _>(Bind { source: io })
            .context("cannot start herald")
            .unwrap_err();
        assert_eq!(
            describe(&err),
            format!("cannot start herald: cannot listen on 127.0.0.1:8787: {text}")
        );
    }

    #[test]
    fn a_source_not_in_the_message_is_appended() {
        let io = io::Error::from(io::ErrorKind::NotFound);
        let text = io.to_string();
        let err = anyhow::Error::new(Read { source: io });
        assert_eq!(describe(&err), format!("cannot read the file: {text}"));
    }
}
