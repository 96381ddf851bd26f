//! The HTML console (helper C's); a placeholder until it is merged.

use axum::Router;

use crate::server::AppState;

/// The console's pages, static files and endpoints; mounted behind the admin auth.
pub fn router() -> Router<AppState> {
    Router::new()
}
