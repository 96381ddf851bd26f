//! The admin listener's router: `/login`, then, behind the token or a session,
//! the JSON API under `/api` and the console's pages.
//!
//! It binds nothing; [`crate::Application`] serves it on `[admin] listen`, apart
//! from the webhooks, so the public listener never exposes it.

mod api;
pub mod auth;

use std::sync::Arc;

use axum::middleware;
use axum::routing::{get, post};
use axum::Router;

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
    let router = auth::login_router(auth).merge(guarded);
    server::with_common_layers(router, settings, metrics)
}
