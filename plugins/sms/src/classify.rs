//! Deliver stage, second half: how the provider's answer becomes an [`Outcome`].
//!
//! As in the webhook plugin: 2xx is delivered; 408, 429 and 5xx are temporary
//! (honouring `Retry-After`); every other status is permanent. Anything that kept an
//! answer from arriving (refused connection, timeout, reset) is temporary. Twilio's
//! JSON error bodies (`{"code": 21211, "message": "…"}`) are quoted as code and message.

use herald_plugin_api::Outcome;
pub(crate) use herald_plugin_http::excerpt;
use herald_plugin_http::{answered, outcome};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde::Deserialize;

/// Twilio's error document (other fields ignored).
#[derive(Deserialize)]
struct TwilioError {
    code: Option<u64>,
    message: Option<String>,
}

/// The error text of a response body: Twilio's `code: message` when it is one,
/// otherwise the start of the body.
pub(crate) fn error_text(body: &[u8]) -> String {
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

/// The outcome of a response with `status`; `text` explains a failure (may be empty).
pub(crate) fn response(status: StatusCode, headers: &HeaderMap, text: &str) -> Outcome {
    outcome(status, headers, answered("provider", status, text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_plugin_http::EXCERPT_CHARS;

    #[test]
    fn statuses_are_classified() {
        let none = HeaderMap::new();
        for code in [200, 201, 202] {
            let status = StatusCode::from_u16(code).expect("status");
            assert_eq!(response(status, &none, ""), Outcome::Delivered, "{code}");
        }
        for code in [408, 429, 500, 503] {
            let status = StatusCode::from_u16(code).expect("status");
            assert!(
                matches!(response(status, &none, ""), Outcome::Retry { .. }),
                "{code}"
            );
        }
        for code in [301, 400, 401, 403, 404, 422] {
            let status = StatusCode::from_u16(code).expect("status");
            assert!(
                matches!(response(status, &none, ""), Outcome::Failed { .. }),
                "{code}"
            );
        }
    }

    #[test]
    fn twilio_errors_are_quoted_as_code_and_message() {
        let body = br#"{"code": 21211, "message": "The 'To' number +1555 is not valid.", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}"#;
        assert_eq!(
            error_text(body),
            "Twilio error 21211: The 'To' number +1555 is not valid."
        );
        assert_eq!(error_text(b"  bad\r\nrequest "), "bad  request");
        assert_eq!(error_text(&[b'x'; 500]).len(), EXCERPT_CHARS);
    }
}
