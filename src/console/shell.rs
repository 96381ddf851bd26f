//! What every page's shell needs from the request: the CSRF token the page hands its
//! scripts (from the admin auth's request extension), and the problems `herald check`
//! finds in the config in force, shown above every page until a reload fixes them.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::admin::auth::CsrfToken;
use crate::server::AppState;

/// The session's CSRF token (empty for a request not authenticated by cookie: a bearer
/// token needs none), and the config's problems.
pub struct Shell {
    /// The token.
    pub token: String,
    /// What `herald check` finds in the config in force.
    pub problems: Arc<[String]>,
}

impl FromRequestParts<AppState> for Shell {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .extensions
            .get::<CsrfToken>()
            .map(|csrf| csrf.as_str().to_owned())
            .unwrap_or_default();
        Ok(Self {
            token,
            problems: state.live.get().problems.clone(),
        })
    }
}
