//! Deliver stage, second half: Twilio's wording of a failed answer. The status rules
//! themselves (2xx delivered; 408, 429, 5xx retried with `Retry-After`; the rest
//! permanent) are the shared ones of `herald_plugin_http`. Twilio's JSON error
//! bodies (`{"code": 21211, "message": "…"}`) are quoted as code and message.

use herald_plugin_http::excerpt;
use herald_plugin_http::provider::Wording;
use serde::Deserialize;

/// Twilio's error document (other fields ignored).
#[derive(Deserialize)]
struct TwilioError {
    code: Option<u64>,
    message: Option<String>,
}

/// How Twilio's answers are worded in attempt records.
pub(crate) struct TwilioWording;

impl Wording for TwilioWording {
    /// Twilio's `code: message` when the body is one, otherwise the start of the body.
    fn error_text(&self, body: &[u8]) -> String {
        if let Ok(TwilioError {
            code,
            message: Some(message),
        }) = serde_json::from_slice::<TwilioError>(body)
        {
            let text = match code {
                Some(code) => format!("Twilio error {code}: {message}"),
                None => message,
            };
            return excerpt(text.as_bytes());
        }
        excerpt(body)
    }
}

#[cfg(test)]
mod tests {
    use herald_plugin_http::EXCERPT_CHARS;

    use super::*;

    #[test]
    fn twilio_errors_are_quoted_as_code_and_message() {
        let body = br#"{"code": 21211, "message": "The 'To' number +1555 is not valid.", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}"#;
        assert_eq!(
            TwilioWording.error_text(body),
            "Twilio error 21211: The 'To' number +1555 is not valid."
        );
        assert_eq!(
            TwilioWording.error_text(b"  bad\r\nrequest "),
            "bad  request"
        );
        assert_eq!(TwilioWording.error_text(&[b'x'; 500]).len(), EXCERPT_CHARS);
    }
}
