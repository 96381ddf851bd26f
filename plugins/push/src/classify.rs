//! Deliver stage, second half: how the provider's answer becomes an [`Outcome`].
//!
//! As in the webhook plugin: 2xx is delivered; 408, 429 and 5xx are temporary
//! (honouring `Retry-After`); every other status is permanent, 401 with its own reason
//! (the configured token is wrong or expired). Anything that kept an answer from arriving
//! (refused connection, timeout, reset) is temporary. FCM's error documents
//! (`{"error": {"status": "NOT_FOUND", "details": [{"errorCode": "UNREGISTERED"}]}}`)
//! and ntfy's (`{"code": 40301, "error": "forbidden"}`) are quoted in short.

use herald_plugin_api::Outcome;
pub(crate) use herald_plugin_http::excerpt;
use herald_plugin_http::outcome;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde::Deserialize;

/// FCM's error document (other fields ignored).
#[derive(Deserialize)]
struct FcmEnvelope {
    error: FcmError,
}

#[derive(Deserialize)]
struct FcmError {
    message: Option<String>,
    status: Option<String>,
    #[serde(default)]
    details: Vec<FcmDetail>,
}

#[derive(Deserialize)]
struct FcmDetail {
    #[serde(rename = "errorCode")]
    error_code: Option<String>,
}

/// ntfy's error document (other fields ignored).
#[derive(Deserialize)]
struct NtfyError {
    code: u64,
    error: String,
}

/// The error text of a response body: FCM's `errorCode (status): message`, ntfy's
/// `code: error`, otherwise the start of the body.
pub(crate) fn error_text(body: &[u8]) -> String {
    if let Ok(FcmEnvelope { error }) = serde_json::from_slice::<FcmEnvelope>(body) {
        let code = error
            .details
            .into_iter()
            .find_map(|detail| detail.error_code);
        let label = match (code, error.status) {
            (Some(code), Some(status)) if code != status => format!("{code} ({status})"),
            (Some(code), _) => code,
            (None, Some(status)) => status,
            (None, None) => "error".to_owned(),
        };
        let text = match error.message {
            Some(message) => format!("{label}: {message}"),
            None => label,
        };
        return excerpt(text.as_bytes());
    }
    if let Ok(NtfyError { code, error }) = serde_json::from_slice::<NtfyError>(body) {
        return excerpt(format!("ntfy error {code}: {error}").as_bytes());
    }
    excerpt(body)
}

/// The outcome of a response with `status`; `text` explains a failure (may be empty).
pub(crate) fn response(status: StatusCode, headers: &HeaderMap, text: &str) -> Outcome {
    let mut reason = format!("provider answered {status}");
    if status == StatusCode::UNAUTHORIZED {
        reason.push_str(" (access token rejected: check it is set and not expired)");
    }
    if !text.is_empty() {
        reason.push_str(": ");
        reason.push_str(text);
    }
    outcome(status, headers, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn provider_errors_are_quoted_in_short() {
        let fcm = br#"{"error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND", "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}]}}"#;
        assert_eq!(
            error_text(fcm),
            "UNREGISTERED (NOT_FOUND): Requested entity was not found."
        );
        let invalid =
            br#"{"error": {"code": 400, "message": "bad token", "status": "INVALID_ARGUMENT"}}"#;
        assert_eq!(error_text(invalid), "INVALID_ARGUMENT: bad token");
        let ntfy = br#"{"code":40301,"http":403,"error":"forbidden","link":"https://ntfy.sh/docs/publish/#authentication"}"#;
        assert_eq!(error_text(ntfy), "ntfy error 40301: forbidden");
        assert_eq!(error_text(b"  bad\r\nrequest "), "bad  request");
    }

    #[test]
    fn unauthorized_says_the_token_was_rejected() {
        let outcome = response(StatusCode::UNAUTHORIZED, &HeaderMap::new(), "");
        assert!(
            matches!(outcome, Outcome::Failed { reason } if reason.contains("access token rejected"))
        );
    }
}
