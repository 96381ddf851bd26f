//! The CSRF token a page hands its scripts, from the admin auth's request extension.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::admin::auth::CsrfToken;

/// The session's CSRF token, empty for a request not authenticated by cookie
/// (a bearer token needs none).
pub struct Csrf(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Csrf {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let token = parts
            .extensions
            .get::<CsrfToken>()
            .map(|csrf| csrf.as_str().to_owned())
            .unwrap_or_default();
        Ok(Self(token))
    }
}
