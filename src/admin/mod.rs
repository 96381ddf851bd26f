//! The admin listener's router: `/login`, then, behind the token or a session,
//! the JSON API under `/api` and the console's pages.
//!
//! It binds nothing; [`crate::Application`] serves it on `[admin] listen`, apart
//! from the webhooks, so the public listener never exposes it.

mod api;
pub mod auth;
pub mod error;
mod rejections;

use std::sync::Arc;

use axum::http::{header, HeaderValue};
use axum::middleware;
use axum::routing::{get, post};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

use self::auth::AdminAuth;
use crate::config::ServerSettings;
use crate::server::{self, AppState};

/// The admin router with its layers.
pub fn router(state: AppState, auth: Arc<AdminAuth>, settings: &ServerSettings) -> Router {
    let metrics = state.metrics.clone();
    let guarded = api::router()
        .merge(crate::console::router())
        .route("/api/session", get(auth::session))
        .route("/logout", post(auth::logout))
        .layer(middleware::from_fn_with_state(auth.clone(), auth::require))
        .with_state(state);
    let router = auth::login_router(auth)
        .merge(guarded)
        .layer(middleware::from_fn(rejections::json_rejections))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONSOLE_CSP),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ));
    server::with_common_layers(router, settings, metrics)
}

/// Every admin answer's policy unless it sets its own (the login form's is stricter):
/// scripts only from the console's own files, so a value that slipped past escaping
/// cannot run; no framing; no plugins. Inline styles and https images stay allowed
/// because the editor previews a marketer's email, with its `<style>` and logo, in a
/// sandboxed frame that inherits this policy.
const CONSOLE_CSP: &str =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data: https:; object-src 'none'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";
