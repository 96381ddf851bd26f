//! [`AdminError`]: every refusal on the admin listener, from the API, the console's
//! buttons and its pages alike. JSON answers have the documented shape
//! `{"error": …, "reason": …}` (axum's own refusals are brought to it by
//! `rejections`); a console page shows the same error as HTML ([`PageError`]).

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use maud::html;
use serde_json::json;
use tracing::error;

use crate::store::StoreError;

/// What an admin request could not do.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The database failed; the cause goes to the log, never to the client.
    #[error("database unavailable")]
    Unavailable,
    /// What was asked for is not there.
    #[error("{0}")]
    NotFound(String),
    /// The request is wrong, as the message says.
    #[error("{0}")]
    BadRequest(String),
    /// Something on the server side went wrong, as the message says.
    #[error("{0}")]
    Internal(String),
}

impl AdminError {
    /// The status it answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A stable label for scripts, beside the message for people.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Unavailable => "unavailable",
            Self::NotFound(_) => "not_found",
            Self::BadRequest(_) => "bad_request",
            Self::Internal(_) => "internal",
        }
    }

    /// A failure of the store, or of a ledger (which wraps one), logged here.
    pub fn unavailable(err: &dyn std::fmt::Display) -> Self {
        error!(error = %err, "admin request failed: the database is unavailable");
        Self::Unavailable
    }
}

impl From<StoreError> for AdminError {
    fn from(err: StoreError) -> Self {
        Self::unavailable(&err)
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.to_string(), "reason": self.reason() });
        (self.status(), Json(body)).into_response()
    }
}

/// An [`AdminError`] on a console page: the same status, as a short HTML page.
#[derive(Debug)]
pub struct PageError(pub AdminError);

impl From<AdminError> for PageError {
    fn from(err: AdminError) -> Self {
        Self(err)
    }
}

impl From<StoreError> for PageError {
    fn from(err: StoreError) -> Self {
        Self(err.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let message = match &self.0 {
            AdminError::Unavailable => "The database is unavailable; try again.".to_owned(),
            other => other.to_string(),
        };
        let page = html! { p { (message) } };
        (self.0.status(), Html(page.into_string())).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_failure_never_shows_its_cause() {
        let err = AdminError::from(StoreError::Corrupt("secret detail".to_owned()));
        assert_eq!(err.to_string(), "database unavailable");
        assert_eq!(err.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(err.reason(), "unavailable");
    }
}
