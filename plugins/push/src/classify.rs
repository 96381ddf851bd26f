//! Deliver stage, second half: how ntfy's and FCM's answers are worded. The status
//! rules themselves (2xx delivered; 408, 429, 5xx retried with `Retry-After`; the rest
//! permanent) are the shared ones of `herald_plugin_http`; a 401 gets its own reason
//! (the configured token is wrong or expired). FCM's error documents
//! (`{"error": {"status": "NOT_FOUND", "details": [{"errorCode": "UNREGISTERED"}]}}`)
//! and ntfy's (`{"code": 40301, "error": "forbidden"}`) are quoted in short.

use herald_plugin_http::excerpt;
use herald_plugin_http::provider::Wording;
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
fn error_text(body: &[u8]) -> String {
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

/// How ntfy's and FCM's answers are worded in attempt records; the variants differ
/// only in what a 401 says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PushWording {
    /// A configured token (ntfy's `token`, FCM's `access_token`).
    Fixed,
    /// A token minted from the service account.
    Minted,
    /// A token minted again after FCM refused the previous one.
    Renewed,
}

impl Wording for PushWording {
    fn error_text(&self, body: &[u8]) -> String {
        error_text(body)
    }

    fn reason(&self, status: StatusCode, text: &str) -> String {
        let mut reason = format!("provider answered {status}");
        if status == StatusCode::UNAUTHORIZED {
            reason.push_str(match self {
                Self::Fixed => " (access token rejected: check it is set and not expired)",
                Self::Minted => " (access token rejected)",
                Self::Renewed => {
                    " (a freshly minted access token was rejected too: check that the service \
                     account and its key are still enabled)"
                }
            });
        }
        if !text.is_empty() {
            reason.push_str(": ");
            reason.push_str(text);
        }
        reason
    }
}

#[cfg(test)]
mod tests {
    use herald_plugin_api::Outcome;
    use herald_plugin_http::provider::classify;
    use reqwest::header::HeaderMap;

    use super::*;

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
        let outcome = classify(
            StatusCode::UNAUTHORIZED,
            &HeaderMap::new(),
            b"",
            &PushWording::Fixed,
        );
        assert!(
            matches!(outcome, Outcome::Failed { reason } if reason.contains("access token rejected"))
        );
        let renewed = classify(
            StatusCode::UNAUTHORIZED,
            &HeaderMap::new(),
            b"",
            &PushWording::Renewed,
        );
        assert!(
            matches!(renewed, Outcome::Failed { reason } if reason.contains("freshly minted access token was rejected too"))
        );
    }
}
