//! axum's own refusals (a body that is not the JSON asked for, a missing query field, a
//! wrong content type) come as plain text. The admin API documents one shape for every
//! refusal, `{"error": …, "reason": …}`; this layer gives axum's the same, whatever
//! extractor made them, so no handler has to wrap its extractors.

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// The most of a plain-text refusal read to re-wrap it; axum's are one line.
const READ_AT_MOST: usize = 16 * 1024;

/// Turns a plain-text 4xx into the documented JSON shape; everything else passes.
pub async fn json_rejections(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|kind| kind.starts_with("text/plain"));
    if !status.is_client_error() || !plain {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = match axum::body::to_bytes(body, READ_AT_MOST).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_owned(),
        Err(_) => String::new(),
    };
    let mut answer = (
        status,
        Json(json!({ "error": text, "reason": reason(status) })),
    )
        .into_response();
    // Keep what axum said besides (e.g. `Allow` on a 405), but not its length.
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            answer.headers_mut().insert(name.clone(), value.clone());
        }
    }
    answer.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    answer
}

/// A stable label for a refusal's status.
fn reason(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid_body",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::NOT_FOUND => "not_found",
        _ => "refused",
    }
}
